"""Configuration: defaults, then ``LIANG_*`` environment, then explicit overrides."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from verifier.storage.fsmodes import private_dir
from verifier.transparency.witnesses import parse_witnesses

#: scrypt's cost for new password hashes is N = 2**cost (r=8, p=1; verifier.services.accounts).
#: 15 is Werkzeug's "scrypt" default and the least a production node accepts; tests set a low
#: cost (LIANG_PASSWORD_HASH_COST), which only TESTING allows.
DEFAULT_PASSWORD_HASH_COST = 15
MIN_PASSWORD_HASH_COST = 15
MAX_PASSWORD_HASH_COST = 20  # N=2**20 with r=8 needs 1 GiB per hash
#: The cheapest cost tests may use (below 2**7 OpenSSL refuses Werkzeug's scrypt memory bound).
MIN_TEST_PASSWORD_HASH_COST = 8


class ConfigError(Exception):
    """Unsafe or unusable configuration, refused at start-up."""


#: Keys read from the environment as ``LIANG_<KEY>``.
ENV_KEYS = (
    "INSTANCE_DIR",
    "DATABASE_URL",
    "PUBLIC_URL",
    "SECRET_KEY",
    "REDIS_URL",
    "TIMEZONE",
    "KEY_ENCRYPTION_KEY",
    "PUBLIC_ONLY",
    "STATUS_LIST_TTL",
    "DEFAULT_VALID_DAYS",
    "COMPLAINT_RETENTION_DAYS",
    "REQUIRE_TOTP_FOR_COMMITTEE",
    "METRICS_TOKEN",
    "TRUSTED_PROXIES",
    "LOG_FORMAT",
    "LOG_FILE",
    "VERIFY_RATE_LIMIT",
    "RATELIMIT_KEY_PREFIX",
    "IMPORT_SIGN_WORKERS",
    "HEALTH_MIN_FREE_BYTES",
    "COMMITTEE_PHONE",
    "COMMITTEE_EMAIL",
    "API_TOKEN_DAYS",
    "PASSWORD_HASH_COST",
    "UPLOAD_DECODE_SLOTS",
    "UPLOAD_DECODE_PER_CLIENT",
    "LOG_CHECKPOINT_SECONDS",
    "LOG_RESIGN_SECONDS",
    "LOG_WITNESSES",
    "LOG_CHECKPOINTER",
    "DB_CONNECT_TIMEOUT",
    "DB_STATEMENT_TIMEOUT",
    "DB_POOL_TIMEOUT",
    "HEALTH_TIMEOUT",
)

_BOOL_KEYS = {"PUBLIC_ONLY", "REQUIRE_TOTP_FOR_COMMITTEE", "LOG_CHECKPOINTER"}
_INT_KEYS = {"STATUS_LIST_TTL", "DEFAULT_VALID_DAYS", "COMPLAINT_RETENTION_DAYS", "TRUSTED_PROXIES",
             "IMPORT_SIGN_WORKERS", "HEALTH_MIN_FREE_BYTES", "API_TOKEN_DAYS", "PASSWORD_HASH_COST",
             "UPLOAD_DECODE_SLOTS", "UPLOAD_DECODE_PER_CLIENT", "LOG_CHECKPOINT_SECONDS", "LOG_RESIGN_SECONDS",
             "DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT", "DB_POOL_TIMEOUT", "HEALTH_TIMEOUT"}


def defaults() -> dict[str, Any]:
    """Return the built-in defaults."""
    return {
        "INSTANCE_DIR": "./instance",
        "DATABASE_URL": None,  # SQLite in the instance dir
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "SECRET_KEY": None,  # generated into the instance dir
        "REDIS_URL": None,
        "TIMEZONE": "Asia/Shanghai",
        "KEY_ENCRYPTION_KEY": None,  # else instance/keys/kek
        "PUBLIC_ONLY": False,
        "STATUS_LIST_TTL": 300,
        "DEFAULT_VALID_DAYS": 365,
        "COMPLAINT_RETENTION_DAYS": 365,
        "REQUIRE_TOTP_FOR_COMMITTEE": False,
        "METRICS_TOKEN": None,
        "TRUSTED_PROXIES": 0,
        "LOG_FORMAT": "json",
        "LOG_FILE": None,  # else logs go to this file, not stderr (``liang demo`` uses the instance dir)
        "ISSUER_NAME": "网商党委",
        "COMMITTEE_PHONE": None,  # shown on the home page and the unknown-badge warning
        "COMMITTEE_EMAIL": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "API_TOKEN_DAYS": 90,  # an API token stops working this many days after it is issued
        "IMPORT_SIGN_WORKERS": None,  # `liang badge import`: the idle cores but one (signer.batch)
        "HEALTH_MIN_FREE_BYTES": 16 * 1024 * 1024,  # /healthz: 503 when the SQLite disk has less free
        "PASSWORD_HASH_COST": DEFAULT_PASSWORD_HASH_COST,  # scrypt N = 2**cost for new password hashes
        # Complaint photos decoded at once per worker process (of its 4 threads), and per client.
        "UPLOAD_DECODE_SLOTS": 1,
        "UPLOAD_DECODE_PER_CLIENT": 1,
        # The transparency log (docs/transparency.md): a checkpoint covers a decision within this many seconds,
        "LOG_CHECKPOINT_SECONDS": 10,
        "LOG_RESIGN_SECONDS": 3600,  # an unchanged tree is re-signed this often
        "LOG_WITNESSES": None,  # "<URL>=<cosigner vkey>,…": witnesses asked to cosign each checkpoint
        "LOG_CHECKPOINTER": True,  # each full serving process signs checkpoints from a background thread
        # PostgreSQL: seconds to open a connection, to run one statement, to wait for a pooled
        # connection (0: no limit). A hung server must cost a request seconds, not forever.
        "DB_CONNECT_TIMEOUT": 5,
        "DB_STATEMENT_TIMEOUT": 60,
        "DB_POOL_TIMEOUT": 10,
        "HEALTH_TIMEOUT": 3,  # /healthz answers 503 when the database has not answered by then
    }


def _coerce(key: str, value: Any) -> Any:
    if key in _BOOL_KEYS and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"LIANG_{key} must be true or false, not {value!r}")
    if key in _INT_KEYS and isinstance(value, str):
        try:
            return int(value)
        except ValueError as exc:
            raise ConfigError(f"LIANG_{key} must be a whole number, not {value!r}") from exc
    return value


def load_config(overrides: dict[str, Any] | None = None, *, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the validated configuration."""
    env = os.environ if environ is None else environ
    config = defaults()
    for key in ENV_KEYS:
        if f"LIANG_{key}" in env:
            config[key] = _coerce(key, env[f"LIANG_{key}"])
    for key, value in (overrides or {}).items():
        config[key] = _coerce(key, value)
    _validate(config)
    return config


def _validate(config: dict[str, Any]) -> None:
    instance = Path(config["INSTANCE_DIR"]).expanduser().resolve()
    config["INSTANCE_DIR"] = str(instance)
    public_url = str(config["PUBLIC_URL"]).rstrip("/")
    parts = urlsplit(public_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"LIANG_PUBLIC_URL must be an http(s) URL without query, not {public_url!r}")
    if parts.username or parts.password:
        raise ConfigError("LIANG_PUBLIC_URL must not contain a user name or password")
    config["PUBLIC_URL"] = public_url
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'liang.sqlite3'}"
    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"LIANG_TIMEZONE {config['TIMEZONE']!r} is not a known time zone") from exc
    if int(config["STATUS_LIST_TTL"]) < 0:
        raise ConfigError("LIANG_STATUS_LIST_TTL must not be negative")
    if int(config["API_TOKEN_DAYS"]) < 1:
        raise ConfigError("LIANG_API_TOKEN_DAYS must be at least 1")
    if config["IMPORT_SIGN_WORKERS"] is not None and int(config["IMPORT_SIGN_WORKERS"]) < 0:
        raise ConfigError("LIANG_IMPORT_SIGN_WORKERS must not be negative (0 signs in process)")
    for key in ("DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT", "DB_POOL_TIMEOUT"):
        if int(config[key]) < 0:
            raise ConfigError(f"LIANG_{key} must not be negative (0: no limit)")
    if int(config["HEALTH_TIMEOUT"]) < 1:
        raise ConfigError("LIANG_HEALTH_TIMEOUT must be at least 1 second")
    _validate_password_cost(config)
    if not 1 <= int(config["LOG_CHECKPOINT_SECONDS"]) <= 3600:
        raise ConfigError("LIANG_LOG_CHECKPOINT_SECONDS must be from 1 to 3600")
    if not int(config["LOG_CHECKPOINT_SECONDS"]) <= int(config["LOG_RESIGN_SECONDS"]) <= 86400:
        raise ConfigError("LIANG_LOG_RESIGN_SECONDS must be from LIANG_LOG_CHECKPOINT_SECONDS to 86400")

    try:
        parse_witnesses(config["LOG_WITNESSES"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _validate_password_cost(config: dict[str, Any]) -> None:
    """Refuse a password-hash cost outside scrypt's sane range; a cheap one only for tests (TESTING)."""
    cost = int(config["PASSWORD_HASH_COST"])
    config["PASSWORD_HASH_COST"] = cost
    if cost > MAX_PASSWORD_HASH_COST:
        raise ConfigError(f"LIANG_PASSWORD_HASH_COST must be at most {MAX_PASSWORD_HASH_COST}, not {cost}")
    if cost < MIN_PASSWORD_HASH_COST and not config.get("TESTING"):
        raise ConfigError(f"LIANG_PASSWORD_HASH_COST must be at least {MIN_PASSWORD_HASH_COST} "
                          f"(scrypt N=2**{MIN_PASSWORD_HASH_COST}); a lower cost is for tests only, not {cost}")
    if cost < MIN_TEST_PASSWORD_HASH_COST:
        raise ConfigError(f"LIANG_PASSWORD_HASH_COST must be at least {MIN_TEST_PASSWORD_HASH_COST} even in tests, "
                          f"not {cost}")


def ensure_secret_key(config: dict[str, Any]) -> str:
    """Return the secret key, generating it into the instance dir on first run."""
    if config.get("SECRET_KEY"):
        key = str(config["SECRET_KEY"])
        if len(key) < 32:
            raise ConfigError("LIANG_SECRET_KEY must be at least 32 characters")
        return key
    path = Path(config["INSTANCE_DIR"]) / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()

    private_dir(path.parent)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def kek_path(config: dict[str, Any]) -> str:
    """Return where the key-encryption key file lives."""
    return str(Path(config["INSTANCE_DIR"]) / "keys" / "kek")
