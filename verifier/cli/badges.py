"""``liang badge``: issue badges, change their state, export them, import a CSV."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from signer.clock import isoformat_z
from signer.ids import format_badge_id
from signer.lifecycle import REVOCATION_REASONS
from verifier import context
from verifier.badges.actions import allow_all
from verifier.badges.service import PLATFORMS, IssueRequest
from verifier.cli.common import app_context, cli_actor
from verifier.cli.imports import badge_import
from verifier.verification.record import status_json


# -- badges -----------------------------------------------------------------------------------
@click.group()
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


def _change(name: str, badge_id: str, **params: Any) -> Any:
    return context.badge_actions().change(name, badge_id, actor=cli_actor(), allow=allow_all, **params)


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
@click.option("--confirm-foreign-hosts", is_flag=True,
              help="Bind hosts outside the shop URL's host and its subdomains (recorded in the audit log).")
@click.option("--member-ref", default=None,
              help="The committee's member number: issues to that member, or gives it to the new member.")
@click.option("--json", "as_json", is_flag=True)
def badge_issue(holder: str, shop_name: str, shop_url: str, platform: str, branch_code: str,
                valid_days: int | None, hosts: tuple[str, ...], confirm_foreign_hosts: bool, member_ref: str | None,
                as_json: bool) -> None:
    """Issue a signed badge for a member's shop (without --member-ref, to a new member)."""
    with app_context():
        row = context.badge_actions().issue(
            IssueRequest(holder, shop_name, shop_url, platform, branch_code, valid_days, hosts or None,
                         confirm_foreign_hosts, member_ref=member_ref),
            actor=cli_actor(), allow=allow_all)
        body = _status_of(row)
    _print_status(body, as_json)


@badge.command("show")
@click.argument("badge_id")
@click.option("--json", "as_json", is_flag=True)
def badge_show(badge_id: str, as_json: bool) -> None:
    """Show a badge's current status."""
    with app_context():
        body = _status_of(context.badge_actions().get(badge_id, allow=allow_all))
    _print_status(body, as_json)


@badge.command("revoke")
@click.argument("badge_id")
@click.option("--reason", type=click.Choice(REVOCATION_REASONS), required=True)
@click.option("--note", default=None, help="Private note (never public).")
def badge_revoke(badge_id: str, reason: str, note: str | None) -> None:
    """Revoke a badge for good."""
    with app_context():
        row = _change("revoke", badge_id, reason=reason, note=note)
        shown = format_badge_id(row.id)
    click.echo(f"{shown} revoked ({reason})")


@badge.command("suspend")
@click.argument("badge_id")
@click.option("--note", default=None)
def badge_suspend(badge_id: str, note: str | None) -> None:
    """Suspend a badge (reversible)."""
    with app_context():
        row = _change("suspend", badge_id, note=note)
        shown = format_badge_id(row.id)
    click.echo(f"{shown} suspended")


@badge.command("reinstate")
@click.argument("badge_id")
@click.option("--note", default=None)
def badge_reinstate(badge_id: str, note: str | None) -> None:
    """Lift a suspension."""
    with app_context():
        row = _change("reinstate", badge_id, note=note)
        shown = format_badge_id(row.id)
    click.echo(f"{shown} reinstated")


@badge.command("renew")
@click.argument("badge_id")
@click.option("--valid-days", type=int, default=None)
def badge_renew(badge_id: str, valid_days: int | None) -> None:
    """Extend a badge's validity; its id stays."""
    with app_context():
        row = _change("renew", badge_id, valid_days=valid_days)
        shown, until = format_badge_id(row.id), isoformat_z(row.valid_until)
    click.echo(f"{shown} renewed until {until}")


@badge.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
def badge_export(fmt: str) -> None:
    """Stream every public badge as JSON lines or CSV."""
    with app_context():
        rows = context.badge_actions().statuses()
        if fmt == "jsonl":
            for body in rows:
                click.echo(json.dumps(body, ensure_ascii=False))
            return
        # Start-up time: `liang` imports a command's modules only when that command runs.
        from verifier.badges.csvsafe import SafeWriter

        writer = SafeWriter(sys.stdout)  # shop and holder names must not run as spreadsheet formulas
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
        bodies = [_status_of(b) for b in context.badge_actions().expiring(days=days)]
    if as_json:
        click.echo(json.dumps(bodies, ensure_ascii=False, indent=2))
        return
    for body in bodies:
        click.echo(f"{body['id']}\t{body['valid_until']}\t{body['branch']['code']}\t{body['shop']['name']}")
    click.echo(f"{len(bodies)} badge(s) expire within {days} days", err=True)




@badge.command("backfill-ld")
def badge_backfill_ld() -> None:
    """Create the JSON-LD form (credential.json) of every badge signed before it existed or bulk-imported."""
    total = 0
    while True:  # one transaction per batch: a long backfill never holds every row at once
        with app_context():
            done = context.badge_actions().backfill_linked_data(limit=200)
        total += done
        if done == 0:
            break
    click.echo(f"created the JSON-LD form of {total} badge(s)")


badge.add_command(badge_import)
