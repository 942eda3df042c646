"""What ``liang demo`` prints and keeps: the report of the demo organisation (loaded by organisation/demo.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from verifier import context
from verifier.organisation.demo import BADGES, BRANCHES, DEMO_ACTOR, GROUPS

__all__ = ["BADGES", "BRANCHES", "DEMO_ACTOR", "GROUPS", "load_demo", "report_text", "write_report"]


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
