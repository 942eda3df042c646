"""The bundled list of common passwords (checked at account creation)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_LIST = Path(__file__).parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    with _LIST.open(encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """Return whether ``password`` (case-insensitively) is on the common-passwords list."""
    return password.strip().lower() in _common()
