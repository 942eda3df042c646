"""``liang complaints``: maintenance of shopper complaints (personal-data retention)."""

from __future__ import annotations

import click


@click.group("complaints")
def complaints() -> None:
    """Shopper complaints."""


@complaints.command("purge")
@click.option("--days", type=click.IntRange(0, 36500), default=None,
              help="Retention period in days (default LIANG_COMPLAINT_RETENTION_DAYS, 365).")
def purge(days: int | None) -> None:
    """Remove shoppers' contact, order number and evidence from complaints closed past the retention period."""
    from verifier.cli.main import _ensure_schema, cli_actor, writing
    from verifier.complaints.views import complaint_service

    with writing() as app:
        _ensure_schema()
        retention = int(app.config["COMPLAINT_RETENTION_DAYS"]) if days is None else days
        counts = complaint_service().purge(retention_days=retention, actor=cli_actor())
    click.echo(f"purged personal data of {counts['complaints']} complaint(s) closed more than {retention} day(s) ago; "
               f"removed {counts['evidence']} evidence image(s)")


def register(cli: click.Group) -> None:
    """Add the ``complaints`` group to the ``liang`` command line."""
    if "complaints" not in cli.commands:
        cli.add_command(complaints)
