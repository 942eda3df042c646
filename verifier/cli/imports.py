"""``liang badge import FILE.csv [--dry-run]``: bulk issuance, all rows or none."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from verifier import context
from verifier.cli.common import CliError, app_context, cli_actor


def _sign_workers() -> int:
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from flask import current_app

    # Start-up time: `liang` imports a command's modules only when that command runs.
    from signer.batch import default_workers
    from verifier.storage.engine import server_on_this_machine

    # The command line signs large imports in worker processes; the web console signs in
    # process (a request worker should not start processes of its own).
    workers = current_app.config["IMPORT_SIGN_WORKERS"]
    if workers is not None:
        return int(workers)
    # A database server on this machine stores what the importer sends as fast as it comes: it
    # needs a core of its own for the whole import (on 2 cores, PostgreSQL: 5,200 rows/s signed
    # in process, 4,300-5,000 with a signing worker competing with it; bench/RESULTS.md).
    return default_workers(reserved=1 if server_on_this_machine(current_app.config["DATABASE_URL"]) else 0)


@click.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; import nothing.")
def badge_import(csv_file: Path, dry_run: bool) -> None:
    """Issue badges from a CSV file: holder,shop_name,shop_url,platform,branch,valid_days[,hosts]."""
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.badges.bulk import parse_csv
    from verifier.errorwords import row_message, row_words

    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(f"{csv_file}: not UTF-8 text") from exc
    rows, parse_errors = parse_csv(text)
    with app_context():
        importer = context.bulk_importer(sign_workers=_sign_workers())
        with click.progressbar(length=len(rows), label="importing", file=sys.stderr,
                               show_pos=True) as bar:
            report = context.badge_actions().import_rows(importer, rows, actor=cli_actor(), dry_run=dry_run,
                                                         progress=bar.update, parse_errors=parse_errors)
        if not report.ok:  # said inside the app: the words are in the shell's language
            for error in report.errors:
                line = row_words(error.line, error.field, row_message(error))
                click.echo(f"liang: {csv_file.name}: {line}", err=True)
            raise CliError(f"{len({e.line for e in report.errors})} row(s) rejected; nothing was imported")
    if dry_run:
        click.echo(f"{report.rows} row(s) checked, all good; nothing imported (dry run)")
    else:
        click.echo(f"imported {len(report.issued)} badge(s)")
