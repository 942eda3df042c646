"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV Injection").

A shop name such as ``=HYPERLINK("https://evil.example","点此")`` is data to us and a formula to
Excel, LibreOffice or WPS when an administrator opens the export. Two ways in:

* a cell that *starts* with a formula trigger (after any leading blanks, which some importers
  trim) — it gets a leading apostrophe, and spreadsheets show the text as typed;
* a trigger right after a character some importer uses as its separator (``;`` in Excel's
  European locales and LibreOffice's import dialog, tab, ``|``, ``,``): an importer that splits
  there, or ignores our quoting, starts a new cell with the trigger. An apostrophe goes after
  that separator too, so every piece a spreadsheet can cut the text into starts harmless.

Every cell is also quoted, so an importer that honours quotes keeps the text in one cell.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

# OWASP's list (= + - @, tab, carriage return), newline, and the full-width forms some
# spreadsheets also accept as the start of a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: Characters an importer may treat as the field separator (full-width forms included), and the
#: line breaks an importer that ignores quoting starts a new row at.
SEPARATORS = (",", ";", "\t", "|", "\uff0c", "\uff1b", "\uff5c", "\r", "\n")
# Blanks an importer may trim before it looks at a cell's first character. Tab, CR and LF are
# triggers themselves, so they are not skipped here.
_BLANKS = " \u00a0\u3000\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\ufeff\x0b\x0c"
_TRIGGER_CLASS = "".join(re.escape(t) for t in TRIGGERS)
_LEAD = re.compile(f"^[{re.escape(_BLANKS)}]*[{_TRIGGER_CLASS}]")
_AFTER_SEPARATOR = re.compile(
    f"([{''.join(re.escape(s) for s in SEPARATORS)}][{re.escape(_BLANKS)}]*)(?=[{_TRIGGER_CLASS}])")


def neutralise(value: Any) -> str:
    """Return ``value`` as a CSV cell text no spreadsheet evaluates, however it splits it."""
    text = "" if value is None else str(value)
    text = _AFTER_SEPARATOR.sub(lambda m: m.group(1) + "'", text)
    return "'" + text if _LEAD.match(text) else text


class SafeWriter:
    """A ``csv.writer`` whose every cell is neutralised and quoted."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream, quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow([neutralise(cell) for cell in row])
