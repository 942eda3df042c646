"""``liang keys`` and ``liang audit``: signing keys and the audit log's chain."""

from __future__ import annotations

import click
from sqlalchemy import select

from signer.clock import isoformat_z
from signer.keys import COMPROMISED
from verifier import context
from verifier.audit.service import AuditLog
from verifier.cli.common import app_context, cli_actor, writing


# -- keys and audit ---------------------------------------------------------------------------
@click.group()
def keys() -> None:
    """Signing keys."""


@keys.command("list")
def keys_list() -> None:
    """List signing keys and whether they are published."""
    from verifier.keys.service import in_use_kids

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
    from verifier.storage.models import Badge

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


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit log, and that badges, status lists and the log agree."""
    from verifier.audit.consistency import check_consistency

    with app_context():
        log = AuditLog(context.session(), clock=context.clock())
        problems = log.verify_chain()
        head = log.recent(page=1, per_page=1)
        disagreements = check_consistency(context.session())
    for problem in problems:
        click.echo(f"liang: audit: {problem}", err=True)
    for problem in disagreements:
        click.echo(f"liang: record: {problem}", err=True)
    if problems or disagreements:
        raise SystemExit(1)
    click.echo(f"audit log intact: {head[0].seq if head else 0} event(s); badges, status lists and log agree")
