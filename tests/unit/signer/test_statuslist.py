"""Bitstring Status List encoding per W3C v1.0."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime

import pytest

from signer.credentials import Issuer
from signer.errors import InvalidCredential
from signer.statuslist import (
    LIST_SIZE,
    IndexDraws,
    build_list_credential,
    decode_bits,
    empty_bits,
    encode_bits,
    get_bit,
    random_index,
    set_bit,
)


def test_bit_order_is_msb_first():
    bits = empty_bits()
    set_bit(bits, 0, True)
    set_bit(bits, 9, True)
    assert bits[0] == 0x80 and bits[1] == 0x40
    assert get_bit(bits, 0) and get_bit(bits, 9) and not get_bit(bits, 1)
    set_bit(bits, 0, False)
    assert bits[0] == 0


def test_encode_decode_roundtrip_and_multibase():
    bits = empty_bits()
    for i in (1, 77, LIST_SIZE - 1):
        set_bit(bits, i, True)
    encoded = encode_bits(bits)
    assert encoded.startswith("u")
    assert bytes(decode_bits(encoded)) == bytes(bits)
    # plain gzip under base64url, as the spec says
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(raw) == bytes(bits)


def test_minimum_size_enforced():
    with pytest.raises(ValueError, match="at least 131072"):
        empty_bits(8)
    short = "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 100)).decode().rstrip("=")
    with pytest.raises(InvalidCredential, match="shorter than 131072"):
        decode_bits(short)


def test_gzip_bomb_refused():
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * (17 * 1024 * 1024))).decode().rstrip("=")
    with pytest.raises(InvalidCredential, match="too large"):
        decode_bits(bomb)


@pytest.mark.parametrize("encoded", ["", "zabc", "u!!!", "uAAAA"])
def test_malformed_encoded_list(encoded):
    with pytest.raises(InvalidCredential) as info:
        decode_bits(encoded)
    assert info.value.reason == "malformed"


def test_random_index_avoids_taken_and_is_spread():
    taken = set(range(0, LIST_SIZE, 2))
    picks = {random_index(taken) for _ in range(200)}
    assert all(p is not None and p % 2 == 1 for p in picks)
    assert max(picks) - min(picks) > LIST_SIZE // 4  # not clustered at the start (issue order must not show)


def test_index_draws_avoid_taken_and_are_spread():
    draws = IndexDraws()
    taken = set(range(0, LIST_SIZE, 2))
    picks = [draws.random_index(taken) for _ in range(2000)]
    assert all(p is not None and p % 2 == 1 and 0 < p < LIST_SIZE for p in picks)
    assert max(picks) - min(picks) > LIST_SIZE // 2  # not clustered (issue order must not show)
    assert len(set(picks)) > 1900  # 2000 draws from 65536 free slots rarely repeat


def _reader(*candidates: int):
    """Return a byte source that yields the given 4-byte candidates, and the sizes it was asked for."""
    asked: list[int] = []
    stream = b"".join(c.to_bytes(4, "big") for c in candidates)

    def read(n: int) -> bytes:
        asked.append(n)
        start = 4 * (len(asked) - 1)
        return stream[start:start + n]

    return read, asked


def test_index_draws_mask_to_the_list_size_and_draw_again_past_it():
    read, asked = _reader(0xFFFF_FFFF, 0x0001_0005, 0xABCD_0007)
    draws = IndexDraws(read=read, block=4)  # one candidate per read, to see each one used
    # size 100_000: mask to 17 bits; 0x1FFFF (131071) is past the size and is drawn again
    assert draws.random_index(set(), size=100_000) == 0x0_0005 + 0x1_0000  # 65541
    assert draws.random_index(set(), size=LIST_SIZE) == 0x0_0007 + (0xABCD_0007 & 0x1_0000)
    assert asked == [4, 4, 4]


def test_index_draws_skip_taken_and_give_up_like_random_index():
    read, _ = _reader(*([5] * 64 + [9]))
    draws = IndexDraws(read=read, block=4)
    assert draws.random_index({5}, size=LIST_SIZE) is None  # 64 attempts, all taken
    assert draws.random_index({5}, size=LIST_SIZE) == 9


def test_index_draws_read_a_block_at_a_time():
    calls: list[int] = []

    def read(n: int) -> bytes:
        calls.append(n)
        return bytes(range(256)) * (n // 256 + 1)

    draws = IndexDraws(read=read, block=4096)
    for _ in range(1024):  # 1024 candidates of 4 bytes fill exactly one block
        draws.random_index(set(), size=1 << 32)
    assert calls == [4096]


@pytest.mark.parametrize("size", [0, -1, (1 << 32) + 1])
def test_index_draws_refuse_impossible_sizes(size):
    with pytest.raises(ValueError, match="cannot draw below"):
        IndexDraws().random_index(set(), size=size)


def test_list_credential_ttl_in_milliseconds():
    issuer = Issuer(public_url="https://b.example.cn")
    cred = build_list_credential(issuer=issuer, list_url="https://b.example.cn/status/ab", purpose="revocation",
                                 bits=bytes(empty_bits()), valid_from=datetime(2026, 1, 1, tzinfo=UTC), ttl_seconds=300)
    assert cred["credentialSubject"]["ttl"] == 300_000
    assert cred["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert cred["credentialSubject"]["type"] == "BitstringStatusList"
