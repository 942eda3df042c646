"""Badge ids: 60 random bits in Crockford base32, shown as ``XXXX-XXXX-XXXX``."""

from __future__ import annotations

import secrets

from signer.errors import MalformedId

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 12  # 12 symbols x 5 bits = 60 bits of randomness
_BITS = ID_LENGTH * 5
# Raw input longer than this is refused before any work: ids are short and a
# long string is either a mistake or an attempt to make us do needless work.
_MAX_RAW = 64
_CONFUSABLES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}


# Two symbols per 10 bits: an id is six table look-ups instead of twelve shifts.
_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]


def _from_number(number: int) -> str:
    """Return the 12 symbols for a 60-bit number, most significant first."""
    pairs = _PAIRS
    return (pairs[number >> 50 & 1023] + pairs[number >> 40 & 1023] + pairs[number >> 30 & 1023]
            + pairs[number >> 20 & 1023] + pairs[number >> 10 & 1023] + pairs[number & 1023])


def new_badge_id() -> str:
    """Return a fresh random badge id in canonical form (12 symbols, no hyphens)."""
    return _from_number(secrets.randbits(_BITS))


def new_badge_ids(count: int) -> list[str]:
    """Return ``count`` fresh random badge ids, each drawn as :func:`new_badge_id` draws one.

    One read of the system's randomness for the lot instead of one per id (a bulk import
    draws thousands); ids within the list may repeat as any two draws may: callers check.
    """
    raw = secrets.token_bytes(8 * count)
    shift = 64 - _BITS  # the top 60 of 64 random bits, as secrets.randbits(60) keeps them
    return [_from_number(int.from_bytes(raw[i:i + 8], "big") >> shift) for i in range(0, 8 * count, 8)]


def parse_badge_id(raw: str) -> str:
    """Return the canonical form of ``raw``: upper case, no separators, confusables fixed."""
    if not isinstance(raw, str) or len(raw) > _MAX_RAW:
        raise MalformedId("badge id is too long", raw=str(raw)[:_MAX_RAW])
    text = "".join(ch for ch in raw.strip() if ch not in "- \t")
    # ASCII only: str.upper() maps some other letters onto ours (dotless i, long s),
    # and a look-alike spelling must never resolve to a real badge.
    if not text.isascii():
        raise MalformedId("badge id contains a non-ASCII character", raw=raw)
    text = text.upper().translate(_CONFUSABLES)
    if len(text) != ID_LENGTH:
        raise MalformedId(f"a badge id has {ID_LENGTH} symbols, got {len(text)}", raw=raw)
    bad = [ch for ch in text if ch not in _VALUES]
    if bad:
        raise MalformedId(f"badge id contains invalid symbol {bad[0]!r}", raw=raw)
    return text


def format_badge_id(canonical: str) -> str:
    """Return ``canonical`` grouped for display as ``XXXX-XXXX-XXXX``."""
    if len(canonical) == ID_LENGTH:  # every real id: no generator for the common case
        return f"{canonical[:4]}-{canonical[4:8]}-{canonical[8:]}"
    return "-".join(canonical[i : i + 4] for i in range(0, len(canonical), 4))


def normalise_badge_id(raw: str) -> str:
    """Parse ``raw`` and return it grouped for display."""
    return format_badge_id(parse_badge_id(raw))
