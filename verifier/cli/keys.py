"""``liang keys`` and ``liang audit``: signing keys and the audit log's chain."""

from __future__ import annotations

import click

from signer.clock import isoformat_z
from verifier import context
from verifier.cli.common import app_context, cli_actor


# -- keys and audit ---------------------------------------------------------------------------
@click.group()
def keys() -> None:
    """Signing keys."""


@keys.command("list")
def keys_list() -> None:
    """List signing keys and whether they are published."""
    with app_context():
        actions = context.key_actions()
        published = {r.kid for r in actions.published()}
        for r in actions.records():
            click.echo(f"{r.kid}\t{r.status}\t{isoformat_z(r.created_at)}\t"
                       f"{'published' if r.kid in published else 'unpublished'}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Create a new signing key; the old one stays published while live badges use it."""
    with app_context():
        record = context.key_actions().rotate(actor=cli_actor())
    click.echo(f"new signing key {record.kid}")


@keys.command("retire", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Withdraw a compromised key at once and re-sign what it signed with a fresh key.

    KID is the bare key id or the ``kid`` as credentials carry it (``<public URL>/keys/<id>``, or the
    earlier ``…/.well-known/jwks.json#<id>``). A key id is a base64url thumbprint and may start with
    "-": it is taken as the key id, not read as an option (``--`` before it works too).
    """
    with app_context():
        kid = context.issuer().key_id_from_kid(kid) or kid
        affected = context.key_actions().retire(kid, actor=cli_actor())
    click.echo(f"withdrew key {kid}; re-signed {affected} badge(s)")


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit log, and that badges, status lists and the log agree."""
    with app_context():
        log = context.audit_log()
        problems = log.verify_chain()
        head = log.recent(page=1, per_page=1)
        disagreements = context.record_disagreements()
    for problem in problems:
        click.echo(f"liang: audit: {problem}", err=True)
    for problem in disagreements:
        click.echo(f"liang: record: {problem}", err=True)
    if problems or disagreements:
        raise SystemExit(1)
    click.echo(f"audit log intact: {head[0].seq if head else 0} event(s); badges, status lists and log agree")
