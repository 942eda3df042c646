"""The ``liang`` command line: one clear line on stderr for every error, never a traceback."""

from __future__ import annotations

import csv
import getpass
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from signer.clock import isoformat_z
from signer.errors import BadgeError
from signer.ids import format_badge_id
from signer.keys import COMPROMISED
from signer.lifecycle import REVOCATION_REASONS
from verifier import context
from verifier.config import ConfigError
from verifier.services.audit import Actor, AuditLog
from verifier.services.badges import PLATFORMS, IssueRequest, status_json

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A refusal reported as one line, exit status 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        """Print ``liang: <message>`` to stderr."""
        click.echo(f"liang: {self.format_message()}", err=True)


def make_app(**overrides: Any) -> Flask:
    """Build the app for a CLI command (environment configuration, no rate limits)."""
    from verifier.app import create_app

    overrides.setdefault("RATELIMIT_ENABLED", False)
    return create_app(overrides)


@contextmanager
def app_context(**overrides: Any) -> Iterator[Flask]:
    """Yield an app inside its app context."""
    app = make_app(**overrides)
    with app.app_context():
        yield app


@contextmanager
def writing(**overrides: Any) -> Iterator[Flask]:
    """Yield inside an app context whose session is a writer; commit at the end."""
    with app_context(**overrides) as app:
        context.begin_write()
        yield app
        context.session().commit()


def cli_actor() -> Actor:
    """Return the audit actor for a CLI user."""
    return Actor(name=f"cli:{getpass.getuser()}", role="system", client="cli")


def _ensure_schema() -> None:
    from verifier.migrate import is_current

    if not is_current(context.database().engine):
        raise CliError("the database schema is not up to date: run `liang init` first")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Liangshenfen (亮身份): issue and verify trust badges for member merchants."""


# -- instance -------------------------------------------------------------------------------
@cli.command()
def init() -> None:
    """Create the instance dir, migrate the schema and create the first signing key."""
    created = _init()
    with app_context() as app:
        click.echo(f"instance: {app.config['INSTANCE_DIR']}")
        click.echo(f"database: {context.database().engine.url.render_as_string(hide_password=True)}")
    click.echo(f"signing key: {created or 'present'}")


def _init() -> str | None:
    from verifier.migrate import upgrade

    with app_context() as app:
        upgrade(context.database().engine)
        if app.config["PUBLIC_ONLY"]:
            return None
        context.begin_write()
        record = context.key_service().ensure_key()
        if record is not None:
            AuditLog(context.session(), clock=context.clock()).append(cli_actor(), "key_create", target=record.kid)
        context.session().commit()
        return record.kid if record else None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=click.IntRange(1, 65535), show_default=True)
@click.option("--workers", default=2, type=click.IntRange(1, 64), show_default=True)
@click.option("--public-only", is_flag=True, help="Serve public endpoints only; hold no private key.")
def serve(host: str, port: int, workers: int, public_only: bool) -> None:
    """Run the production WSGI server (gunicorn)."""
    overrides = {"PUBLIC_ONLY": True} if public_only else {}
    with app_context(**overrides):
        _ensure_schema()
    _serve(host, port, workers, overrides)


def _serve(host: str, port: int, workers: int, overrides: dict[str, Any]) -> None:
    from verifier.wsgi import run_gunicorn

    run_gunicorn(host=host, port=port, workers=workers, overrides=overrides)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=click.IntRange(1, 65535), show_default=True)
@click.option("--no-serve", is_flag=True, help="Create the demo data and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Initialise, load a demo organisation with badges in every state, and serve."""
    from verifier.demo import load_demo

    _init()
    with writing() as app:
        report = load_demo(public_url=app.config["PUBLIC_URL"])
    click.echo("Liangshenfen demo is ready.")
    click.echo(f"  admin console: {report['admin_url']}")
    click.echo(f"  admin user:    {report['username']}")
    click.echo(f"  password:      {report['password']}")
    for state, url in report["badges"]:
        click.echo(f"  {state:<14} {url}")
    if not no_serve:
        click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C stops)")
        _serve(host, port, 2, {})


# -- accounts and organisation ------------------------------------------------------------------
@cli.group()
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
    """Print a new API token for USERNAME (shown once)."""
    from verifier.services.accounts import AccountService

    with writing():
        token = AccountService(context.session(), clock=context.clock()).issue_token(username, label=label)
        AuditLog(context.session(), clock=context.clock()).append(cli_actor(), "token_create", target=username)
    click.echo(token)


@cli.group()
def branch() -> None:
    """Party branches."""


@branch.command("add")
@click.argument("code")
@click.argument("name")
def branch_add(code: str, name: str) -> None:
    """Add a branch with CODE and NAME."""
    from verifier.services.org import OrgService

    with writing():
        OrgService(context.session(), clock=context.clock(),
                   audit=AuditLog(context.session(), clock=context.clock())).add_branch(code, name, actor=cli_actor())
    click.echo(f"added branch {code} {name}")


@branch.command("list")
def branch_list() -> None:
    """List branches."""
    from verifier.models import Branch

    with app_context():
        for row in context.session().execute(select(Branch).order_by(Branch.code)).scalars():
            click.echo(f"{row.code}\t{row.name}")


# -- badges -----------------------------------------------------------------------------------
@cli.group()
def badge() -> None:
    """Issue badges and change their state."""


def _print_status(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(f"{body['id']}  {body['status']}")
    click.echo(f"  shop:    {body['shop']['name']} ({body['shop']['platform']}) {body['shop']['url']}")
    click.echo(f"  hosts:   {' '.join(body['shop']['hosts'])}")
    click.echo(f"  holder:  {body['holder']['display_name']}")
    click.echo(f"  branch:  {body['branch']['code']} {body['branch']['name']}")
    click.echo(f"  valid:   {body['valid_from']} .. {body['valid_until']}")
    if body.get("revocation"):
        click.echo(f"  revoked: {body['revocation']['reason']} at {body['revocation']['at']}")
    click.echo(f"  verify:  {body['verify_url']}")


def _status_of(badge_row: Any) -> dict[str, Any]:
    return status_json(badge_row, issuer=context.issuer(), now=context.clock()())


@badge.command("issue")
@click.option("--holder", required=True)
@click.option("--shop-name", required=True)
@click.option("--shop-url", required=True)
@click.option("--platform", type=click.Choice(PLATFORMS), required=True)
@click.option("--branch", "branch_code", required=True)
@click.option("--valid-days", type=int, default=None)
@click.option("--host", "hosts", multiple=True, help="A host name the badge is bound to (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def badge_issue(holder: str, shop_name: str, shop_url: str, platform: str, branch_code: str,
                valid_days: int | None, hosts: tuple[str, ...], as_json: bool) -> None:
    """Issue a signed badge for a member's shop."""
    with writing():
        row = context.badge_service().issue(
            IssueRequest(holder, shop_name, shop_url, platform, branch_code, valid_days, hosts or None),
            actor=cli_actor())
        body = _status_of(row)
    _print_status(body, as_json)


@badge.command("show")
@click.argument("badge_id")
@click.option("--json", "as_json", is_flag=True)
def badge_show(badge_id: str, as_json: bool) -> None:
    """Show a badge's current status."""
    with app_context():
        body = _status_of(context.badge_service().get(badge_id))
    _print_status(body, as_json)


@badge.command("revoke")
@click.argument("badge_id")
@click.option("--reason", type=click.Choice(REVOCATION_REASONS), required=True)
@click.option("--note", default=None, help="Private note (never public).")
def badge_revoke(badge_id: str, reason: str, note: str | None) -> None:
    """Revoke a badge for good."""
    with writing():
        row = context.badge_service().revoke(badge_id, actor=cli_actor(), reason=reason, note=note)
        shown = format_badge_id(row.id)
    click.echo(f"{shown} revoked ({reason})")


@badge.command("suspend")
@click.argument("badge_id")
@click.option("--note", default=None)
def badge_suspend(badge_id: str, note: str | None) -> None:
    """Suspend a badge (reversible)."""
    with writing():
        row = context.badge_service().suspend(badge_id, actor=cli_actor(), note=note)
        shown = format_badge_id(row.id)
    click.echo(f"{shown} suspended")


@badge.command("reinstate")
@click.argument("badge_id")
@click.option("--note", default=None)
def badge_reinstate(badge_id: str, note: str | None) -> None:
    """Lift a suspension."""
    with writing():
        row = context.badge_service().reinstate(badge_id, actor=cli_actor(), note=note)
        shown = format_badge_id(row.id)
    click.echo(f"{shown} reinstated")


@badge.command("renew")
@click.argument("badge_id")
@click.option("--valid-days", type=int, default=None)
def badge_renew(badge_id: str, valid_days: int | None) -> None:
    """Extend a badge's validity; its id stays."""
    with writing():
        row = context.badge_service().renew(badge_id, actor=cli_actor(), valid_days=valid_days)
        shown, until = format_badge_id(row.id), isoformat_z(row.valid_until)
    click.echo(f"{shown} renewed until {until}")


@badge.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
def badge_export(fmt: str) -> None:
    """Stream every public badge as JSON lines or CSV."""
    from verifier.services.export import iter_statuses

    with app_context():
        rows = iter_statuses(context.session(), issuer=context.issuer(), now=context.clock()())
        if fmt == "jsonl":
            for body in rows:
                click.echo(json.dumps(body, ensure_ascii=False))
            return
        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "status", "holder", "shop_name", "shop_url", "platform", "hosts", "branch",
                         "valid_from", "valid_until", "revocation_reason", "verify_url"])
        for body in rows:
            writer.writerow([body["id"], body["status"], body["holder"]["display_name"], body["shop"]["name"],
                             body["shop"]["url"], body["shop"]["platform"], " ".join(body["shop"]["hosts"]),
                             body["branch"]["code"], body["valid_from"], body["valid_until"],
                             (body["revocation"] or {}).get("reason", ""), body["verify_url"]])


@badge.command("expiring")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def badge_expiring(days: int, as_json: bool) -> None:
    """List live badges that expire within --days."""
    with app_context():
        bodies = [_status_of(b) for b in context.badge_service().expiring(days=days)]
    if as_json:
        click.echo(json.dumps(bodies, ensure_ascii=False, indent=2))
        return
    for body in bodies:
        click.echo(f"{body['id']}\t{body['valid_until']}\t{body['branch']['code']}\t{body['shop']['name']}")
    click.echo(f"{len(bodies)} badge(s) expire within {days} days", err=True)


# -- keys and audit ---------------------------------------------------------------------------
@cli.group()
def keys() -> None:
    """Signing keys."""


@keys.command("list")
def keys_list() -> None:
    """List signing keys and whether they are published."""
    from verifier.services.keys import in_use_kids

    with app_context():
        ring = context.keyring()
        published = {r.kid for r in ring.published(in_use=in_use_kids(context.session(), now=context.clock()()))}
        for r in ring.records:
            click.echo(f"{r.kid}\t{r.status}\t{isoformat_z(r.created_at)}\t"
                       f"{'published' if r.kid in published else 'unpublished'}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Create a new signing key; the old one stays published while live badges use it."""
    with writing():
        record = context.key_service().rotate()
        AuditLog(context.session(), clock=context.clock()).append(cli_actor(), "key_rotate", target=record.kid)
        context.badge_service().status_lists.resign_all()
    click.echo(f"new signing key {record.kid}")


@keys.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Withdraw a compromised key at once and re-sign what it signed with a fresh key."""
    from verifier.models import Badge

    with writing():
        service = context.key_service()
        service.retire_compromised(kid)
        AuditLog(context.session(), clock=context.clock()).append(
            cli_actor(), "key_retire", target=kid, after={"status": COMPROMISED})
        badges = context.badge_service()
        affected = list(context.session().execute(
            select(Badge.id).where(Badge.kid == kid, Badge.state.in_(("active", "suspended")))).scalars())
        for badge_id in affected:
            badges.resign(badge_id, actor=cli_actor())
        badges.status_lists.resign_all()
    click.echo(f"withdrew key {kid}; re-signed {len(affected)} badge(s)")


@cli.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit log."""
    with app_context():
        log = AuditLog(context.session(), clock=context.clock())
        problems = log.verify_chain()
        head = log.recent(page=1, per_page=1)
    if problems:
        for problem in problems:
            click.echo(f"liang: audit: {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {head[0].seq if head else 0} event(s)")


# -- verification client --------------------------------------------------------------------
@cli.command()
@click.argument("target")
@click.option("--server", default=None, help="Official service URL (default LIANG_PUBLIC_URL).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--offline", is_flag=True, help="Use only cached keys and status lists.")
def verify(target: str, server: str | None, as_json: bool, offline: bool) -> None:
    """Verify a URL, badge id, JWS or baked image from outside the service."""
    from verifier.client import VerifyClient, default_server

    client = VerifyClient(server or default_server(), offline=offline)
    outcome = client.verify(target)
    if as_json:
        click.echo(json.dumps(outcome, ensure_ascii=False, indent=2))
    else:
        for line in outcome["lines"]:
            click.echo(line)
    raise SystemExit(0 if outcome["valid"] else 1)


def _register_optional() -> None:
    """Add CLI groups contributed by feature modules (complaints, import)."""
    import importlib
    import importlib.util

    for name in ("verifier.complaints_cli", "verifier.import_cli"):
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(cli)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; translate every known error into one line and an exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _register_optional()
    try:
        cli.main(args=argv, prog_name="liang", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("liang: aborted", err=True)
        raise SystemExit(1) from None
    except click.ClickException as exc:
        if isinstance(exc, CliError):
            exc.show()
        else:
            click.echo(f"liang: {exc.format_message()}", err=True)
        raise SystemExit(exc.exit_code) from None
    except BadgeError as exc:
        click.echo(f"liang: {exc.message}", err=True)
        raise SystemExit(1) from None
    except ConfigError as exc:
        click.echo(f"liang: configuration: {exc}", err=True)
        raise SystemExit(2) from None
    except (OperationalError, DBAPIError) as exc:
        click.echo(f"liang: database unavailable: {type(exc.orig).__name__ if exc.orig else exc}", err=True)
        raise SystemExit(1) from None
    except SQLAlchemyError as exc:
        click.echo(f"liang: database error: {type(exc).__name__}", err=True)
        raise SystemExit(1) from None
    except OSError as exc:
        click.echo(f"liang: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    raise SystemExit(0)
