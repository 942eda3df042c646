"""Bulk issuance from CSV: parse the file, then issue every row or none through the one issuance core.

Rows are checked and issued by :class:`verifier.badges.issuance.Issuance`, exactly as a
badge issued on its own (same rules, same transition, same audit event, same metrics); what
is particular to an import is here: the CSV format, the report of refused lines, the
progress bar and signing a large file in worker processes (:mod:`signer.batch`).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from signer.batch import MIN_PARALLEL
from signer.clock import Clock
from signer.credentials import Issuer
from signer.keys import Keyring
from verifier.audit.service import Actor, AuditLog
from verifier.badges.issuance import Accepted, Issuance, Refusal
from verifier.badges.rules import IssueRequest

_logger = logging.getLogger(__name__)

COLUMNS = ("holder", "shop_name", "shop_url", "platform", "branch", "valid_days")
OPTIONAL = ("hosts", "member_ref")
#: A bound on one import, against a mistaken or hostile upload.
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    """Why one line of the file was refused."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"line {self.line}{where}: {self.message}"

    @classmethod
    def of(cls, refusal: Refusal) -> RowError:
        """Return the report line of a refusal by the issuance core."""
        return cls(refusal.line, refusal.field, refusal.error.message)


@dataclass
class ImportReport:
    """The outcome of an import: rows read, rejected rows, ids issued."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Return whether every row was accepted."""
        return not self.errors


def parse_csv(text: str) -> tuple[list[tuple[int, IssueRequest]], list[RowError]]:
    """Parse CSV text into (line number, request) pairs and header/format errors."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [RowError(1, None, "the file is empty")]
    except csv.Error as exc:
        return [], [RowError(1, None, f"not a CSV file: {exc}")]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
            [f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        return [], [RowError(1, None, "; ".join(parts) + f" (expected {','.join(COLUMNS)}[,hosts][,member_ref])")]
    pos = {name: header.index(name) for name in header}
    rows: list[tuple[int, IssueRequest]] = []
    errors: list[RowError] = []
    line = reader.line_num
    try:
        for values in reader:
            line, start = reader.line_num, line + 1
            if not any(v.strip() for v in values):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(RowError(start, None, f"more than {MAX_ROWS} rows; split the file"))
                break
            if len(values) != len(header):
                errors.append(RowError(start, None, f"expected {len(header)} fields, found {len(values)}"))
                continue
            cell = {name: values[i] for name, i in pos.items()}
            days_raw = cell["valid_days"].strip()
            if days_raw and not days_raw.isdigit():
                errors.append(RowError(start, "valid_days", "valid_days must be a whole number"))
                continue
            hosts_raw = cell.get("hosts", "").split()
            rows.append((start, IssueRequest(cell["holder"], cell["shop_name"], cell["shop_url"],
                                             cell["platform"].strip().lower(), cell["branch"].strip(),
                                             int(days_raw) if days_raw else None,
                                             tuple(hosts_raw) if hosts_raw else None,
                                             member_ref=cell.get("member_ref", "").strip() or None)))
    except csv.Error as exc:
        errors.append(RowError(line + 1, None, f"malformed CSV: {exc}"))
    return rows, errors


class BulkImporter:
    """Validate and issue many badges at once; the caller owns (and commits) the transaction."""

    def __init__(self, session: Session, *, issuer: Issuer, keyring: Keyring, clock: Clock, audit: AuditLog,
                 status_ttl: int = 300, default_days: int = 365, sign_workers: int = 0) -> None:
        # Worker processes for signing (see signer.batch); 0 signs in process. Small imports
        # sign in process anyway: starting the workers would cost more than it saves.
        self._sign_workers = sign_workers
        self._keyring = keyring
        self._issuance = Issuance(session, issuer=issuer, keyring=keyring, clock=clock, audit=audit,
                                  status_ttl=status_ttl, default_days=default_days)

    def validate(self, rows: list[tuple[int, IssueRequest]], *,
                 branch_scope: str | None = None) -> tuple[list[Accepted], list[RowError]]:
        """Return the accepted rows and every row's refusal (nothing is written)."""
        accepted, refused = self._issuance.check(rows, branch_scope=branch_scope)
        return accepted, [RowError.of(r) for r in refused]

    def run(self, rows: list[tuple[int, IssueRequest]], *, actor: Actor, dry_run: bool = False,
            branch_scope: str | None = None, progress: Callable[[int], None] | None = None,
            parse_errors: Iterable[RowError] = ()) -> ImportReport:
        """Validate everything, then issue all rows or none."""
        early = list(parse_errors)
        report = ImportReport(rows=len(rows) + len(early), dry_run=dry_run)
        with ExitStack() as stack:
            signer = None
            if (not dry_run and self._sign_workers and len(rows) >= MIN_PARALLEL and not early
                    and self._keyring.can_sign):
                # A large import signs in worker processes: start them now, so that their
                # start-up overlaps validation (if a row is refused, they were started in vain).
                signer = stack.enter_context(self._issuance.signer(workers=self._sign_workers))
                signer.start(len(rows))
            accepted, errors = self.validate(rows, branch_scope=branch_scope)
            report.errors = sorted([*early, *errors], key=lambda e: e.line)
            if report.errors or dry_run or not accepted:
                return report
            if signer is None:  # KeyUnavailable if this node cannot sign
                signer = stack.enter_context(self._issuance.signer(workers=self._sign_workers))
                signer.start(len(accepted))
            report.issued = self._issuance.issue(accepted, actor=actor, signer=signer, progress=progress)
        _logger.info("imported %d badges (signed %s)", len(report.issued),
                     "in worker processes" if signer.parallel else "in process")
        return report


def as_dict(report: ImportReport) -> dict[str, Any]:
    """Return a JSON-friendly view of a report."""
    return {"rows": report.rows, "imported": len(report.issued), "dry_run": report.dry_run,
            "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in report.errors]}
