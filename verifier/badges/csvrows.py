"""CSV rows for bulk issuance: parse the file into requests, and the report of refused rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from signer.errors import Conflict, InvalidInput
from verifier.badges.rules import IssueRequest

COLUMNS = ("holder", "shop_name", "shop_url", "platform", "branch", "valid_days")
OPTIONAL = ("hosts", "member_ref")
#: A bound on one import, against a mistaken or hostile upload.
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    """Why one line of the file was refused."""

    line: int
    field: str | None
    message: str  # English, for logs
    #: What is wrong and the values to name, for the words in the user's language (errorwords).
    kind: str = "invalid"
    params: tuple[tuple[str, Any], ...] = ()
    limit: int | None = None

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"line {self.line}{where}: {self.message}"

    @classmethod
    def of(cls, line: int, exc: InvalidInput | Conflict) -> RowError:
        """Return the row error for a service's refusal (its code and parameters kept).

        A conflict is the shop URL's (one badge per shop, or the same shop twice in a file).
        """
        if isinstance(exc, Conflict):
            return cls(line, "shop_url", exc.message, exc.reason, tuple(sorted(exc.params.items())))
        return cls(line, exc.field, exc.message, exc.kind, tuple(sorted(exc.params.items())), exc.limit)


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
        return [], [RowError(1, None, "the file is empty", "empty_file")]
    except csv.Error as exc:
        return [], [RowError(1, None, f"not a CSV file: {exc}", "not_csv")]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
            [f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        return [], [RowError(1, None, "; ".join(parts) + f" (expected {','.join(COLUMNS)}[,hosts][,member_ref])",
                             "columns", (("missing", ", ".join(missing)), ("unknown", ", ".join(unknown))))]
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
                errors.append(RowError(start, None, f"more than {MAX_ROWS} rows; split the file", "too_many_rows",
                                      (("n", MAX_ROWS),)))
                break
            if len(values) != len(header):
                errors.append(RowError(start, None, f"expected {len(header)} fields, found {len(values)}", "field_count",
                                      (("expected", len(header)), ("found", len(values)))))
                continue
            cell = {name: values[i] for name, i in pos.items()}
            days_raw = cell["valid_days"].strip()  # not a number: 0, refused with the row's other problems
            hosts_raw = cell.get("hosts", "").split()
            rows.append((start, IssueRequest(cell["holder"], cell["shop_name"], cell["shop_url"],
                                             cell["platform"].strip().lower(), cell["branch"].strip(),
                                             (int(days_raw) if days_raw.isdigit() else 0) if days_raw else None,
                                             tuple(hosts_raw) if hosts_raw else None,
                                             member_ref=cell.get("member_ref", "").strip() or None)))
    except csv.Error as exc:
        errors.append(RowError(line + 1, None, f"malformed CSV: {exc}", "not_csv"))
    return rows, errors
