"""Plain helpers of the complaints domain with no state: how texts compare, how working days count."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

__all__ = ["normalise_text", "working_days_between"]


def normalise_text(text: str) -> str:
    """Return ``text`` folded for duplicate detection (NFKC, case, whitespace)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


def working_days_between(start: date, end: date) -> int:
    """Return the Monday–Friday days after ``start`` up to and including ``end``."""
    if end <= start:
        return 0
    weeks, rest = divmod((end - start).days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count
