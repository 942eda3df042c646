"""A real WordPress for the tests: Debian's wordpress package, copied into a temporary directory,
on MariaDB, served by PHP's built-in server (``php -S``, no router: it serves files and runs
``index.php`` itself), installed through WordPress's own installer (``wp-admin/install.php``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

DEBIAN_WORDPRESS = Path("/usr/share/wordpress")
#: Debian's packages the real-WordPress test needs (scripts/test.sh installs them).
PACKAGES = {"wordpress": DEBIAN_WORDPRESS / "wp-settings.php", "php-cli": Path("/usr/bin/php"),
            "php-mysql": None, "mariadb-client": Path("/usr/bin/mysql")}
STAND_INS = Path(__file__).resolve().parent / "stand-ins"
ADMIN_USER = "shopowner"
ADMIN_PASSWORD = "correct horse battery staple 23"


def missing_packages() -> list[str]:
    """Return the Debian packages (or PHP's MySQL driver) that are not installed."""
    missing = [name for name, path in PACKAGES.items() if path is not None and not path.exists()]
    if "php-cli" not in missing:
        modules = subprocess.run(["php", "-m"], capture_output=True, text=True, timeout=30, check=False).stdout
        if "mysqli" not in modules:
            missing.append("php-mysql")
    return missing


def mysql(sql: str, *, host: str, port: int) -> str:
    """Run SQL as MariaDB's root (empty password, as on the test machines) and return its output."""
    result = subprocess.run(["mysql", "-h", host, "-P", str(port), "-u", "root", "--batch", "--skip-column-names",
                             "-e", sql], capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"mysql: {result.stderr.strip()}")
    return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class WordPress:
    """A running WordPress on loopback."""

    root: Path
    url: str
    database: str
    db_host: str
    db_port: int
    error_log: Path
    process: subprocess.Popen[bytes] | None = None

    def sql(self, statement: str) -> str:
        """Run SQL against this site's database."""
        return mysql(f"USE `{self.database}`; {statement}", host=self.db_host, port=self.db_port)

    def stop(self) -> None:
        """Stop PHP's server and its workers (its process group)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # The workers may outlive the master by a moment; make sure none is left.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def set_up(base: Path, *, db_host: str = "127.0.0.1", db_port: int = 3306) -> WordPress:
    """Copy WordPress into ``base``, write its configuration, start ``php -S`` and run the installer."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    root = base / "site"
    # A copy, not symlinks: WordPress finds wp-config.php next to wp-load.php's real path.
    shutil.copytree(DEBIAN_WORDPRESS, root, symlinks=True, ignore=shutil.ignore_patterns("wp-content", ".htaccess",
                                                                                       "wp-config.php"))
    content = root / "wp-content"
    for sub in ("plugins", "mu-plugins", "uploads", "upgrade"):
        (content / sub).mkdir(parents=True)
    (content / "themes").symlink_to(DEBIAN_WORDPRESS / "wp-content" / "themes")
    languages = DEBIAN_WORDPRESS / "wp-content" / "languages"
    if languages.is_dir():  # wordpress-l10n (recommended by wordpress): wp-admin in Chinese
        (content / "languages").symlink_to(languages)
    for stand_in in STAND_INS.glob("*.php"):
        shutil.copy(stand_in, content / "mu-plugins" / stand_in.name)
    database = f"wp_test_{secrets.token_hex(6)}"
    mysql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4", host=db_host, port=db_port)
    error_log = base / "php-errors.log"
    salts = "\n".join(f"define({_php_string(k)}, {_php_string(secrets.token_hex(32))});" for k in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT",
        "LOGGED_IN_SALT", "NONCE_SALT"))
    (root / "wp-config.php").write_text(f"""<?php
define('DB_NAME', {_php_string(database)});
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', {_php_string(f"{db_host}:{db_port}")});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}
$table_prefix = 'wp_';
define('WP_HOME', {_php_string(url)});
define('WP_SITEURL', {_php_string(url)});
// Warnings and notices are displayed on the page (the test looks for them) and logged.
define('WP_DEBUG', true);
define('WP_DEBUG_DISPLAY', true);
define('WP_DEBUG_LOG', {_php_string(str(error_log))});
// No network but loopback here: WordPress asks nothing of wordpress.org, cron runs no loopback request.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_ACCESSIBLE_HOSTS', '127.0.0.1,localhost');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('FS_METHOD', 'direct');
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
""", encoding="utf-8")
    log = (base / "php-server.log").open("wb")
    env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "2"}
    # Its own process group: the workers PHP forks (PHP_CLI_SERVER_WORKERS) outlive a signal to the
    # master alone, so stop() signals the whole group.
    process = subprocess.Popen(["php", "-S", f"127.0.0.1:{port}", "-t", str(root)], cwd=root, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    site = WordPress(root, url, database, db_host, db_port, error_log, process)
    try:
        _wait(url)
        answer = requests.post(f"{url}/wp-admin/install.php?step=2", timeout=120, data={
            "weblog_title": "Xiaoming Goods", "user_name": ADMIN_USER, "admin_password": ADMIN_PASSWORD,
            "admin_password2": ADMIN_PASSWORD, "pw_weak": "1", "admin_email": "owner@shop.example",
            "blog_public": "0", "language": ""})
        if answer.status_code != 200 or "wp-login.php" not in answer.text:
            raise RuntimeError(f"WordPress's installer failed ({answer.status_code}): {answer.text[-1500:]}")
    except BaseException:
        tear_down(site)
        raise
    return site


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/wp-admin/install.php", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"php -S did not answer on {url} within {timeout:.0f} s")


def tear_down(site: WordPress) -> None:
    """Stop the server and drop the database (the directory goes with pytest's tmp_path)."""
    site.stop()
    try:
        mysql(f"DROP DATABASE IF EXISTS `{site.database}`", host=site.db_host, port=site.db_port)
    except RuntimeError:
        pass
