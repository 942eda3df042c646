"""``liang admin`` and ``liang branch``: administrator accounts, API tokens, branches."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import click

from verifier import context
from verifier.cli.common import CliError, app_context, cli_actor


# -- accounts and organisation ------------------------------------------------------------------
@click.group()
def admin() -> None:
    """Administrator accounts and API tokens."""


@admin.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["committee", "branch", "auditor"]), required=True)
@click.option("--branch", "branch_code", default=None, help="Branch code (for --role branch).")
def admin_create(username: str, role: str, branch_code: str | None) -> None:
    """Create an administrator; the password is read from stdin."""
    password = _read_password()

    with app_context():
        context.account_actions().create(username, password, role=role, branch_code=branch_code, actor=cli_actor())
    click.echo(f"created {role} administrator {username}")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise CliError("the passwords differ")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@admin.command("token")
@click.argument("username")
@click.option("--label", default=None)
def admin_token(username: str, label: str | None) -> None:
    """Print a new API token for USERNAME (shown once; it expires after LIANG_API_TOKEN_DAYS)."""
    with app_context():
        token = context.account_actions().issue_token(username, actor=cli_actor(), label=label)
        days = int(context.config("API_TOKEN_DAYS"))
    click.echo(token)
    click.echo(f"expires in {days} days (LIANG_API_TOKEN_DAYS)", err=True)


def _change_user(op: str, username: str, password: str = "") -> dict[str, Any]:
    with app_context():
        _user, after = context.account_actions().change_user(op, username, actor=cli_actor(), password=password)
    return after


@admin.command("disable")
@click.argument("username")
def admin_disable(username: str) -> None:
    """End an account: its sessions and API tokens stop at once."""
    revoked = _change_user("disable", username)["tokens_revoked"]
    click.echo(f"disabled {username}; ended its sessions and revoked {revoked} token(s)")


@admin.command("enable")
@click.argument("username")
def admin_enable(username: str) -> None:
    """Restore a disabled account (its old tokens stay revoked)."""
    _change_user("enable", username)
    click.echo(f"enabled {username}")


@admin.command("reset-password")
@click.argument("username")
def admin_reset_password(username: str) -> None:
    """Set a new password (read from stdin); ends the user's sessions and API tokens."""
    password = _read_password()
    revoked = _change_user("reset_password", username, password)["tokens_revoked"]
    click.echo(f"new password set for {username}; ended its sessions and revoked {revoked} token(s)")


@admin.command("revoke-tokens")
@click.argument("username")
def admin_revoke_tokens(username: str) -> None:
    """Revoke every API token of USERNAME."""
    revoked = _change_user("revoke_tokens", username)["tokens_revoked"]
    click.echo(f"revoked {revoked} token(s) of {username}")


@click.group()
def branch() -> None:
    """Party branches."""


@branch.command("add")
@click.argument("code")
@click.argument("name")
def branch_add(code: str, name: str) -> None:
    """Add a branch with CODE and NAME."""
    with app_context():
        context.org_actions().add_branch(code, name, actor=cli_actor())
    click.echo(f"added branch {code} {name}")


@branch.command("list")
def branch_list() -> None:
    """List branches."""
    with app_context():
        for row in context.org_actions().branches():
            click.echo(f"{row.code}\t{row.name}")
