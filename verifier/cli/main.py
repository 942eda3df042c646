"""The ``liang`` command line: one clear line on stderr for every error, never a traceback."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import click
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from signer.errors import BadgeError
from signer.tlog.errors import LogError
from verifier import context
from verifier.cli import admin, badges, complaints, keys
from verifier.cli import log as log_commands
from verifier.cli.common import CliError, app_context, cli_actor, ensure_schema
from verifier.config import ConfigError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="liangshenfen", prog_name="liang", message="%(prog)s %(version)s")
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
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.badges.shopkeys import fill_shop_keys
    from verifier.storage.migrate import upgrade

    with app_context() as app:
        upgrade(context.database().engine)
        fill_shop_keys(context.database().engine)  # migration 0011 adds the column empty
        if app.config["PUBLIC_ONLY"]:
            return None
        record = context.key_actions().ensure_key(actor=cli_actor())
        # after an upgrade: status lists and credentials in their current form (docs/credentials.md)
        context.badge_actions().upgrade_signed_documents(actor=cli_actor())
        encryptor = context.encryptor()
        if encryptor is not None:  # the transparency log's own key (never a badge-signing key)
            context.key_actions().ensure_log_key(actor=cli_actor(), public_url=app.config["PUBLIC_URL"],
                                                 encryptor=encryptor)
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
        ensure_schema()
    _serve(host, port, workers, overrides)


def _serve(host: str, port: int, workers: int, overrides: dict[str, Any]) -> None:
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.cli.serve import run_gunicorn

    run_gunicorn(host=host, port=port, workers=workers, overrides=overrides)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=click.IntRange(1, 65535), show_default=True)
@click.option("--no-serve", is_flag=True, help="Create the demo data and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Initialise, load a demo organisation with badges in every state, and serve."""
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from pathlib import Path

    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.cli.demo import (
        DemoRefused,
        hold_instance,
        load_demo,
        log_path,
        port_taken,
        release,
        report_text,
        take_lock_after_init,
        write_report,
    )
    from verifier.config import load_config

    if not os.environ.get("LIANG_PUBLIC_URL"):
        # The printed links, QR codes and signed URLs must reach the server the demo starts.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - compared, not bound
        os.environ["LIANG_PUBLIC_URL"] = f"http://{shown}:{port}"
    # Before anything is changed (schema, demo data, the admin password): refuse a second demo of
    # this instance and a port another program holds, each in one line.
    instance = Path(load_config()["INSTANCE_DIR"])
    serving = f"http://{host}:{port}/"
    try:
        hold_instance(instance, url=serving)
        if not no_serve and port_taken(host, port):
            raise DemoRefused(f"port {port} on {host} is in use by another program; nothing was changed: "
                              f"choose another with --port")
    except DemoRefused as exc:
        raise CliError(str(exc)) from exc
    try:
        _init()
        take_lock_after_init(instance, url=serving)
        with app_context() as app:
            report = load_demo(public_url=app.config["PUBLIC_URL"])
            saved = Path(app.config["INSTANCE_DIR"]) / "demo.txt"
            text = report_text(report, public_url=app.config["PUBLIC_URL"])
        write_report(saved, text)
        click.echo(text + f"  (also in {saved}, readable by you only)")
    finally:
        if no_serve:
            release()
    if not no_serve:
        log = log_path(instance)
        click.echo(f"Serving on {serving} (Ctrl+C stops); requests are logged to {log}")
        master = os.getpid()
        try:
            _serve(host, port, 2, {"LOG_FILE": str(log)})
        finally:
            # Say the password again as the demo stops (the last thing on the screen). Only here:
            # the server's workers are forks of this process, and each leaves through this block too.
            if os.getpid() == master:
                release()
                click.echo("\n" + text + f"  (also in {saved})")


# -- verification client --------------------------------------------------------------------
@cli.command()
@click.argument("target")
@click.option("--server", default=None, help="Official service URL (default LIANG_PUBLIC_URL).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--offline", is_flag=True, help="Use only cached keys and status lists.")
@click.option("--log-key", default=None,
              help="The transparency log's key <origin>+<id>+<base64> (default LIANG_LOG_KEY, else pinned on first use).")
@click.option("--witness", "witnesses", multiple=True,
              help="Require a cosignature of this witness key on the log checkpoint (repeatable).")
@click.option("--witness-quorum", default=None, type=click.IntRange(1, None),
              help="How many of the --witness keys must have cosigned (default: all).")
def verify(target: str, server: str | None, as_json: bool, offline: bool, log_key: str | None,
           witnesses: tuple[str, ...], witness_quorum: int | None) -> None:
    """Verify a URL, badge id, JWS or baked image from outside the service, and its place in the public log."""
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.verification.client import VerifyClient, default_server

    if witness_quorum is not None and witness_quorum > len(witnesses):
        raise click.UsageError("--witness-quorum is larger than the number of --witness keys")
    client = VerifyClient(server or default_server(), offline=offline, log_key=log_key, witnesses=witnesses,
                          witness_quorum=witness_quorum)
    outcome = client.verify(target)
    if as_json:
        click.echo(json.dumps(outcome, ensure_ascii=False, indent=2))
    else:
        for line in outcome["lines"]:
            click.echo(line)
    raise SystemExit(0 if outcome["valid"] else 1)


#: The command groups that live in their own modules, added to ``liang`` in this order.
COMMAND_GROUPS = (admin.admin, admin.branch, badges.badge, keys.keys, keys.audit, complaints.complaints,
                  log_commands.log)
for _group in COMMAND_GROUPS:
    cli.add_command(_group)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; translate every known error into one line and an exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
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
    except LogError as exc:
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
