"""``liang complaints``: maintenance of shopper complaints (personal-data retention)."""

from __future__ import annotations

import click

from verifier.cli.common import cli_actor, ensure_schema, writing


@click.group("complaints")
def complaints() -> None:
    """Shopper complaints."""


@complaints.command("purge")
@click.option("--days", type=click.IntRange(0, 36500), default=None,
              help="Retention period in days (default LIANG_COMPLAINT_RETENTION_DAYS, 365).")
def purge(days: int | None) -> None:
    """Remove shoppers' contact, order number and evidence from complaints closed past the retention period."""
    from verifier.complaints.views import complaint_service

    with writing() as app:
        ensure_schema()
        retention = int(app.config["COMPLAINT_RETENTION_DAYS"]) if days is None else days
        counts = complaint_service().purge(retention_days=retention, actor=cli_actor())
    click.echo(f"purged personal data of {counts['complaints']} complaint(s) closed more than {retention} day(s) ago; "
               f"removed {counts['evidence']} evidence image(s)")
