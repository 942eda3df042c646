"""``liang complaints``: maintenance of shopper complaints (personal-data retention)."""

from __future__ import annotations

import click

from verifier import context
from verifier.cli.common import app_context, cli_actor, ensure_schema


@click.group("complaints")
def complaints() -> None:
    """Shopper complaints."""


@complaints.command("purge")
@click.option("--days", type=click.IntRange(0, 36500), default=None,
              help="Retention period in days (default LIANG_COMPLAINT_RETENTION_DAYS, 365).")
def purge(days: int | None) -> None:
    """Remove shoppers' contact, order number and evidence from complaints closed past the retention period."""
    with app_context() as app:
        ensure_schema()
        retention = int(app.config["COMPLAINT_RETENTION_DAYS"]) if days is None else days
        counts = context.complaint_actions().purge(retention_days=retention, actor=cli_actor())
    click.echo(f"purged personal data of {counts['complaints']} complaint(s) closed more than {retention} day(s) ago; "
               f"removed {counts['evidence']} evidence image(s)")
