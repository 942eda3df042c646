"""``liang admin`` and ``liang branch``: administrator accounts, API tokens, branches."""

from __future__ import annotations

import getpass
import sys

import click
from sqlalchemy import select

from verifier import context
from verifier.audit.service import AuditLog
from verifier.cli.common import CliError, app_context, cli_actor, writing


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

    with writing():
        user = context.account_service().create(
            username, password, role=role, branch_code=branch_code)
        AuditLog(context.session(), clock=context.clock()).append(
            cli_actor(), "user_create", target=user.username, branch_code=branch_code,
            after={"role": role, "branch": branch_code})
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
    from verifier.accounts.auth import accounts

    with writing():
        service = accounts()
        token = service.issue_token(username, label=label)
        AuditLog(context.session(), clock=context.clock()).append(cli_actor(), "token_create", target=username)
        days = int(context.config("API_TOKEN_DAYS"))
    click.echo(token)
    click.echo(f"expires in {days} days (LIANG_API_TOKEN_DAYS)", err=True)


@admin.command("disable")
@click.argument("username")
def admin_disable(username: str) -> None:
    """End an account: its sessions and API tokens stop at once."""
    from verifier.accounts.auth import accounts

    with writing():
        service = accounts()
        user = service.require(username)
        revoked = service.disable(user)
        AuditLog(context.session(), clock=context.clock()).append(
            cli_actor(), "user_disable", target=user.username, after={"active": False, "tokens_revoked": revoked})
    click.echo(f"disabled {username}; ended its sessions and revoked {revoked} token(s)")


@admin.command("enable")
@click.argument("username")
def admin_enable(username: str) -> None:
    """Restore a disabled account (its old tokens stay revoked)."""
    from verifier.accounts.auth import accounts

    with writing():
        service = accounts()
        user = service.require(username)
        service.enable(user)
        AuditLog(context.session(), clock=context.clock()).append(
            cli_actor(), "user_enable", target=user.username, after={"active": True})
    click.echo(f"enabled {username}")


@admin.command("reset-password")
@click.argument("username")
def admin_reset_password(username: str) -> None:
    """Set a new password (read from stdin); ends the user's sessions and API tokens."""
    password = _read_password()
    from verifier.accounts.auth import accounts

    with writing():
        service = accounts()
        user = service.require(username)
        revoked = service.set_password(user, password)
        AuditLog(context.session(), clock=context.clock()).append(
            cli_actor(), "password_reset", target=user.username, after={"tokens_revoked": revoked})
    click.echo(f"new password set for {username}; ended its sessions and revoked {revoked} token(s)")


@admin.command("revoke-tokens")
@click.argument("username")
def admin_revoke_tokens(username: str) -> None:
    """Revoke every API token of USERNAME."""
    from verifier.accounts.auth import accounts

    with writing():
        service = accounts()
        user = service.require(username)
        revoked = service.revoke_tokens(user)
        AuditLog(context.session(), clock=context.clock()).append(
            cli_actor(), "tokens_revoke", target=user.username, after={"tokens_revoked": revoked})
    click.echo(f"revoked {revoked} token(s) of {username}")


@click.group()
def branch() -> None:
    """Party branches."""


@branch.command("add")
@click.argument("code")
@click.argument("name")
def branch_add(code: str, name: str) -> None:
    """Add a branch with CODE and NAME."""
    from verifier.organisation.service import OrgService

    with writing():
        OrgService(context.session(), clock=context.clock(),
                   audit=AuditLog(context.session(), clock=context.clock())).add_branch(code, name, actor=cli_actor())
    click.echo(f"added branch {code} {name}")


@branch.command("list")
def branch_list() -> None:
    """List branches."""
    from verifier.storage.models import Branch

    with app_context():
        for row in context.session().execute(select(Branch).order_by(Branch.code)).scalars():
            click.echo(f"{row.code}\t{row.name}")
