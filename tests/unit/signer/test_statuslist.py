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


def test_list_credential_ttl_in_milliseconds():
    issuer = Issuer(public_url="https://b.example.cn")
    cred = build_list_credential(issuer=issuer, list_url="https://b.example.cn/status/ab", purpose="revocation",
                                 bits=bytes(empty_bits()), valid_from=datetime(2026, 1, 1, tzinfo=UTC), ttl_seconds=300)
    assert cred["credentialSubject"]["ttl"] == 300_000
    assert cred["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert cred["credentialSubject"]["type"] == "BitstringStatusList"
