"""What ``liang demo`` prints and keeps: the report of the demo organisation (loaded by organisation/demo.py)."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO, Any

from verifier import context
from verifier.organisation.demo import BADGES, BRANCHES, DEMO_ACTOR, GROUPS

__all__ = ["BADGES", "BRANCHES", "DEMO_ACTOR", "GROUPS", "DemoRefused", "hold_instance", "load_demo", "log_path",
           "port_taken", "release", "report_text", "write_report"]

#: Held (flock) by the demo that serves an instance, for as long as it runs; its workers inherit it.
LOCK_NAME = "demo.lock"
#: Where a demo's server writes its request log (the terminal shows only what a person needs).
LOG_NAME = "demo.log"
_held: list[IO[str]] = []


class DemoRefused(Exception):
    """Another demo serves this instance, or the port is taken: nothing was changed."""


def hold_instance(instance: Path, *, url: str) -> None:
    """Take the instance's demo lock for the life of this process, or refuse at once (nothing changed).

    A second demo would reset the admin password under the first one's feet and then fail to
    bind; the lock makes it refuse before it touches anything.
    """
    if not instance.is_dir():
        return  # a new instance: no demo can be serving it (the first one makes the directory)
    path = instance / LOCK_NAME
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open until the process ends
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise
        fh.seek(0)
        other = fh.read().strip() or "?"
        fh.close()
        raise DemoRefused(f"another liang demo is already serving this instance ({other}); nothing was changed: "
                          f"stop it first, or give this one another LIANG_INSTANCE_DIR") from exc
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}, {url}\n")
    fh.flush()
    _held.append(fh)


def take_lock_after_init(instance: Path, *, url: str) -> None:
    """Take the lock on an instance made just now (hold_instance found no directory to lock)."""
    if not _held:
        hold_instance(instance, url=url)


def release() -> None:
    """Let the instance go (``--no-serve``: the data is loaded, nothing serves it)."""
    while _held:
        _held.pop().close()


def port_taken(host: str, port: int) -> bool:
    """Return whether ``host:port`` cannot be bound (another server listens there)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no clash
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def log_path(instance: Path) -> Path:
    """Return the file a demo's server logs its requests to."""
    return instance / LOG_NAME


def load_demo(*, public_url: str) -> dict[str, Any]:
    """Create the demo data once (idempotent) and (re)set the demo admin's password; return the report."""
    return context.demo_loader().load(public_url=public_url)


def report_text(report: dict[str, Any], *, public_url: str) -> str:
    """Return what the demo prints: where to look, the admin login, a badge in every state."""
    lines = [
        "Liangshenfen demo is ready.",
        f"  home page:     {public_url}/",
        f"  admin console: {report['admin_url']}",
        f"  admin user:    {report['username']}",
        f"  password:      {report['password']}",
    ]
    lines += [f"  {state:<14} {url}" for state, url in report["badges"]]
    return "\n".join(lines) + "\n"


def write_report(path: Path, text: str) -> None:
    """Write the demo report (it holds the admin password) readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have been made with wider rights
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
