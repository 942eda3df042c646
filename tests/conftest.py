"""Shared fixtures: a migrated database per run, a fresh app per test, factories, a live server."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from signer.keys import b64url
from verifier import context
from verifier.app import create_app
from verifier.audit.service import Actor
from verifier.badges.service import IssueRequest
from verifier.storage.engine import make_engine
from verifier.storage.migrate import upgrade
from verifier.storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
TEST_KEK = b64url(b"k" * 32)
TEST_PASSWORD_HASH_COST = 8
COMMITTEE = Actor(name="tester", role="committee", client="127.0.0.1")


@dataclass
class FrozenClock:
    """A clock tests move by hand (aware UTC)."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 10, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


def _pg_schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    query = dict(url.query)
    query["options"] = f"-csearch_path={schema}"
    return url.set(query=query).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return a migrated database for this run: a fresh PostgreSQL schema, or a SQLite file."""
    base = os.environ.get("LIANG_TEST_DATABASE_URL")
    if base:
        schema = f"t_{secrets.token_hex(6)}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _pg_schema_url(base, schema)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that never reaches the test database ``no_database``.

    A test reaches it through the ``database_url`` fixture (``app`` and everything built on it
    depend on that) or says so with ``@pytest.mark.database`` (tests that make their own
    schema from LIANG_TEST_DATABASE_URL). The PostgreSQL pass deselects the rest
    (``-m "not no_database"``): they would run exactly as on the SQLite pass.
    """
    for item in items:
        if "database_url" not in getattr(item, "fixturenames", ()) and item.get_closest_marker("database") is None:
            item.add_marker(pytest.mark.no_database)


def is_postgres(url: str) -> bool:
    """Return whether ``url`` names PostgreSQL."""
    return url.startswith("postgresql")


@pytest.fixture
def clock() -> FrozenClock:
    """Return the frozen clock injected into the app."""
    return FrozenClock()


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return this worker's instance directory (secret key, import previews), shared by its tests' apps."""
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(autouse=True)
def _own_config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give each test its own XDG_CONFIG_HOME: ``liang verify`` pins log keys there per server URL, and
    test servers reuse loopback ports with new keys (a pin left by another test would be a key change)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def app_config(instance_dir: str, database_url: str, clock: FrozenClock) -> dict[str, Any]:
    """Return the configuration for the test app (tests may edit it before ``app`` is built)."""
    return {
        "INSTANCE_DIR": instance_dir,
        "DATABASE_URL": database_url,
        "KEY_ENCRYPTION_KEY": TEST_KEK,
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "RATELIMIT_ENABLED": False,
        "TESTING": True,
        "CLOCK": clock,
        # scrypt N=2**8 instead of 2**15: ~1 ms per hash instead of ~0.2-0.9 s (allowed only with TESTING).
        "PASSWORD_HASH_COST": TEST_PASSWORD_HASH_COST,
    }


@dataclass
class _SharedApp:
    """An app kept for many tests, with the configuration and extensions it had when built."""

    app: Flask
    config: dict[str, Any]
    extensions: dict[str, Any]


#: How many distinct configurations keep an app per worker. When one more is needed, the app
#: used least recently is dropped: a run of tests with one-off configurations (every end-to-end
#: test has its own live-server port, hence its own PUBLIC_URL) must not take every place and
#: leave the common configurations building an app per test for the rest of the worker's run.
_MAX_SHARED_APPS = 8


def _share_key(config: dict[str, Any]) -> str | None:
    """Return the key under which an app for ``config`` may serve many tests, or None to build a fresh one.

    Shared: plain values only (the clock is set per test) and rate limiting off, since limit
    counters must start fresh for tests that use them.
    """
    if config.get("RATELIMIT_ENABLED") is not False or config.get("REDIS_URL"):
        return None
    items = []
    for key, value in sorted(config.items()):
        if key == "CLOCK":
            continue
        if not isinstance(value, str | int | float | bool | None):
            return None
        items.append((key, value))
    return repr(items)


def _reuse(shared: _SharedApp, clock: Any) -> Flask:
    """Return the shared app as built: its configuration and extensions restored, caches empty."""
    app = shared.app
    app.config.clear()
    app.config.update(shared.config)
    app.config["CLOCK"] = clock
    app.extensions.clear()
    app.extensions.update(shared.extensions)
    for name in ("liang.page_cache", "liang.render_cache", "liang.layer_store"):
        if name in app.extensions:
            app.extensions[name].clear()
    counter = app.extensions.get("liang.verify_counter")
    if counter is not None:  # write the last test's pending hits now (the wipe removes them) and restart its timer
        counter.flush(app.extensions["liang.db"].engine)
    return app


def _drop(shared: _SharedApp) -> None:
    """Let go of a shared app: write its pending verification counts (before the wipe), close its pool."""
    extensions = shared.extensions
    counter = extensions.get("liang.verify_counter")
    if counter is not None:
        counter.flush(extensions["liang.db"].engine)
    extensions["liang.db"].dispose()


def _keep(apps: dict[str, _SharedApp], key: str, clock: Any, build: Callable[[], Flask]) -> Flask:
    """Return the app kept under ``key``, reset (``_reuse``); else build and keep one, dropping the least recently used."""
    shared = apps.pop(key, None)
    if shared is None:
        application = build()
        shared = _SharedApp(application, dict(application.config), dict(application.extensions))
        if len(apps) >= _MAX_SHARED_APPS:
            _drop(apps.pop(next(iter(apps))))
    else:
        application = _reuse(shared, clock)
    apps[key] = shared  # (re)inserted last: the most recently used
    return application


@pytest.fixture(scope="session")
def _shared_apps() -> Iterator[dict[str, _SharedApp]]:
    """Return this worker's shared apps by configuration key, least recently used first."""
    apps: dict[str, _SharedApp] = {}
    yield apps
    for shared in apps.values():
        shared.app.extensions["liang.db"].dispose()


@pytest.fixture
def app(app_config: dict[str, Any], _shared_apps: dict[str, _SharedApp], request: pytest.FixtureRequest
        ) -> Iterator[Flask]:
    """Return an app over an emptied database with one signing key.

    Building an app costs more than most tests (Werkzeug compiles every route), so an app for
    a plain configuration is built once per worker and reused: each test gets it back with
    the configuration and extensions it was built with, empty caches and its own clock.
    Configurations with rate limiting, or with values other than plain ones, get a fresh app,
    and so do tests marked ``fresh_app`` (they change the app itself, e.g. add a route).
    """
    key = None if request.node.get_closest_marker("fresh_app") else _share_key(app_config)
    fresh = key is None
    if key is None:
        application = create_app(app_config)
    else:
        application = _keep(_shared_apps, key, app_config["CLOCK"], lambda: create_app(app_config))
    with application.app_context():
        # One write transaction: empty every table, then store the signing key.
        session = context.begin_write()
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        context.key_service().ensure_key()
        session.commit()
    yield application
    if fresh:
        application.extensions["liang.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def cli_env(app: Flask, app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the CLI (which reads LIANG_* from the environment) at the test database."""
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": app_config["PUBLIC_URL"],
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The CLI speaks the shell's language: English unless a test asks for another.
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return env


@dataclass
class CliResult:
    """What a CLI run printed and returned."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(cli_env: dict[str, str], clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
            _shared_apps: dict[str, _SharedApp]) -> Callable[..., CliResult]:
    """Run ``liang`` in-process (sharing the test clock) and return its exit code and output."""
    from verifier.cli import common as cli_module
    from verifier.cli.main import main

    real_make_app = cli_module.make_app

    def make_app(**overrides: Any) -> Flask:
        # The app a command builds depends only on LIANG_* and its overrides: keep it among the
        # worker's shared apps (reset as the ``app`` fixture resets its own) instead of building
        # one per command. Rate-limited or Redis-backed configurations are built afresh, as there.
        overrides = {"CLOCK": clock, "RATELIMIT_ENABLED": False, **overrides}
        environ = sorted((k, v) for k, v in os.environ.items() if k.startswith("LIANG_"))
        plain = _share_key(overrides)
        if plain is None or os.environ.get("LIANG_REDIS_URL"):
            return real_make_app(**overrides)
        return _keep(_shared_apps, f"cli {environ!r} {plain}", clock, lambda: real_make_app(**overrides))

    monkeypatch.setattr(cli_module, "make_app", make_app)

    def run(*args: str, input: str | None = None) -> CliResult:  # noqa: A002 - mirrors CliRunner
        runner = CliRunner()
        result = runner.invoke(_entry, list(args), input=input, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    import click

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def _entry(ctx: click.Context) -> None:
        main(list(ctx.args))

    return run


@pytest.fixture
def make_branch(app: Flask) -> Callable[..., str]:
    """Create a branch and return its code."""
    from verifier.audit.service import AuditLog
    from verifier.organisation.service import OrgService

    def make(code: str = "B01", name: str = "第一支部") -> str:
        with app.app_context():
            context.begin_write()
            OrgService(context.session(), clock=context.clock(),
                       audit=AuditLog(context.session(), clock=context.clock())).add_branch(code, name, actor=COMMITTEE)
            context.session().commit()
        return code

    return make


@pytest.fixture
def issue_badge(app: Flask, make_branch: Callable[..., str]) -> Callable[..., str]:
    """Issue a badge (creating its branch on first use) and return its grouped id."""
    from signer.ids import format_badge_id

    made: set[str] = set()

    def issue(*, branch: str = "B01", holder: str = "王小明", shop_name: str = "小明杂货",
              shop_url: str | None = None, platform: str = "taobao", valid_days: int | None = None,
              hosts: tuple[str, ...] | None = None, valid_from: datetime | None = None) -> str:
        if branch not in made:
            with app.app_context():
                from sqlalchemy import select

                from verifier.storage.models import Branch

                exists = context.session().execute(select(Branch).where(Branch.code == branch)).first()
            if not exists:
                make_branch(branch, f"{branch}支部")
            made.add(branch)
        url = shop_url or f"https://shop{secrets.randbelow(10**9)}.taobao.com"
        with app.app_context():
            context.begin_write()
            badge = context.badge_service().issue(
                # Tests that bind hosts are about binding: they confirm foreign hosts as a committee would.
                IssueRequest(holder, shop_name, url, platform, branch, valid_days, hosts, bool(hosts)),
                actor=COMMITTEE, valid_from=valid_from)
            context.session().commit()
            return format_badge_id(badge.id)

    return issue


@pytest.fixture
def act(app: Flask) -> Callable[..., Any]:
    """Run a BadgeService method in its own committed transaction: act("revoke", id, reason=...)."""

    def run(method: str, badge_id: str, **kwargs: Any) -> Any:
        with app.app_context():
            context.begin_write()
            result = getattr(context.badge_service(), method)(badge_id, actor=COMMITTEE, **kwargs)
            context.session().commit()
            return result

    return run


# -- live server -------------------------------------------------------------------------------
def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real ``liang serve`` process on loopback; its stderr goes to a file (a pipe could fill and block it)."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        """Return what the server wrote to stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_server(env: dict[str, str], *, port: int | None = None, extra: tuple[str, ...] = (),
                 workers: int = 1, timeout: float = 60) -> LiveServer:
    """Start ``liang serve`` with ``env`` and wait until /healthz answers."""
    import tempfile

    port = port or free_port()
    full_env = {**os.environ, **env}
    log_fd, log_name = tempfile.mkstemp(prefix="liang-serve-", suffix=".log")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "verifier", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), *extra],
            env=full_env, stdout=subprocess.DEVNULL, stderr=log_fd,
        )
    finally:
        os.close(log_fd)
    server = LiveServer(f"http://127.0.0.1:{port}", env, process, Path(log_name))
    # Generous: a loaded 2-core CI machine can take many seconds to import and fork workers.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {server.output()[-2000:]}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start within {timeout:.0f} s: {server.output()[-2000:]}")


@pytest.fixture
def live_server(app: Flask, app_config: dict[str, Any]) -> Iterator[LiveServer]:
    """Start a real server sharing the test database, on the port of ``app_config['PUBLIC_URL']``."""
    public = app_config["PUBLIC_URL"]
    port = int(public.rsplit(":", 1)[1]) if public.count(":") == 2 else free_port()
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LIANG_LOG_FORMAT": "text",
    }
    server = start_server(env, port=port)
    yield server
    server.stop()
