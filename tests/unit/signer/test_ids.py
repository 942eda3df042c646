"""Badge ids: random, 60 bits, Crockford base32, forgiving parsing."""

from __future__ import annotations

import secrets

import pytest

from signer import ids
from signer.errors import MalformedId
from signer.ids import ALPHABET, format_badge_id, new_badge_id, normalise_badge_id, parse_badge_id


def test_new_ids_are_12_crockford_symbols_and_not_sequential():
    ids = [new_badge_id() for _ in range(2000)]
    assert all(len(i) == 12 and set(i) <= set(ALPHABET) for i in ids)
    assert len(set(ids)) == len(ids)
    # issue order must not show: consecutive ids share no long common prefix on average
    shared = sum(a[:3] == b[:3] for a, b in zip(ids, ids[1:], strict=False))
    assert shared < 5


def _symbol_by_symbol(number: int) -> str:
    """The formula ids were first made with, kept as the oracle."""
    return "".join(ALPHABET[(number >> shift) & 31] for shift in range(55, -5, -5))


def test_ids_spell_their_60_bits_symbol_by_symbol():
    numbers = [0, 1, 31, 32, 1023, 1024, 2**59, 2**60 - 1] + [secrets.randbits(60) for _ in range(5000)]
    assert [ids._from_number(n) for n in numbers] == [_symbol_by_symbol(n) for n in numbers]


@pytest.mark.parametrize("canonical,shown", [
    ("7K3M9QX2HT4B", "7K3M-9QX2-HT4B"),
    ("7K3M9QX2", "7K3M-9QX2"),  # any length groups the same way
    ("7K3M9QX2HT4B7", "7K3M-9QX2-HT4B-7"),
])
def test_format_groups_by_four(canonical, shown):
    assert format_badge_id(canonical) == shown


@pytest.mark.parametrize("raw", ["7k3m-9qx2-ht4b", "7K3M9QX2HT4B", " 7K3M 9QX2 HT4B ", "7K3M-9QX2-HT4B"])
def test_parse_accepts_case_and_separators(raw):
    assert parse_badge_id(raw) == "7K3M9QX2HT4B"


@pytest.mark.parametrize("raw,expected", [("I0L0-0000-0000", "1010-0000-0000"), ("o1i1-OOOO-llll", "0111-0000-1111")])
def test_parse_maps_confusables(raw, expected):
    assert normalise_badge_id(raw) == expected


@pytest.mark.parametrize("raw,message", [
    ("", "12 symbols"),
    ("7K3M-9QX2-HT4", "12 symbols"),
    ("7K3M-9QX2-HT4BX", "12 symbols"),
    ("UUUU-UUUU-UUUU", "invalid symbol 'U'"),
    ("7K3M-9QX2-HT4!", "invalid symbol '!'"),
    ("A" * 65, "too long"),
])
def test_parse_rejects_malformed(raw, message):
    with pytest.raises(MalformedId, match=message) as info:
        parse_badge_id(raw)
    assert info.value.code == "malformed_id"


def test_ids_drawn_in_bulk_are_canonical_and_fresh():
    drawn = ids.new_badge_ids(500)
    assert len(set(drawn)) == 500
    assert all(parse_badge_id(i) == i for i in drawn)
    assert ids.new_badge_ids(0) == []


@pytest.mark.parametrize("raw", [bytes(8), b"\xff" * 8, bytes([0x9A, 1, 2, 3, 4, 5, 6, 0xF7])])
def test_an_id_drawn_in_bulk_is_the_id_drawn_alone_from_the_same_random_bytes(monkeypatch, raw):
    import random

    monkeypatch.setattr(random, "_urandom", lambda n: raw[:n])  # what secrets.randbits reads
    alone = new_badge_id()
    monkeypatch.setattr(secrets, "token_bytes", lambda n: raw * (n // 8))
    assert ids.new_badge_ids(2) == [alone, alone]
