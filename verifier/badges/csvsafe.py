"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV Injection").

A shop name such as ``=HYPERLINK("https://evil.example","点此")`` is data to us and a formula to
Excel, LibreOffice or WPS when an administrator opens the export. Cells that start with a
formula trigger get a leading apostrophe: spreadsheets then show the text as typed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

# OWASP's list (= + - @, tab, carriage return), newline, and the full-width forms some
# spreadsheets also accept as the start of a formula.
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: Any) -> str:
    """Return ``value`` as a CSV cell text no spreadsheet evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_TRIGGERS) else text


class SafeWriter:
    """A ``csv.writer`` whose every cell is neutralised."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow([neutralise(cell) for cell in row])
