"""Properties of the Bitstring Status List: exact encode/decode and bit round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signer.errors import InvalidCredential
from signer.statuslist import LIST_SIZE, decode_bits, empty_bits, encode_bits, get_bit, set_bit

indexes = st.integers(min_value=0, max_value=LIST_SIZE - 1)
EMPTY = bytes(empty_bits())


@given(st.lists(st.tuples(indexes, st.booleans()), max_size=40))
def test_bits_set_and_cleared_survive_encode_decode_exactly(changes):
    bits = bytearray(EMPTY)
    expected: dict[int, bool] = {}
    for index, value in changes:
        set_bit(bits, index, value)
        expected[index] = value
        assert get_bit(bits, index) is value
    decoded = decode_bits(encode_bits(bits))
    assert decoded == bytes(bits)
    for index, value in expected.items():
        assert get_bit(decoded, index) is value
    # nothing else changed: the set bits are exactly the ones set last to True
    ones = {i for i, v in expected.items() if v}
    assert int.from_bytes(decoded, "big").bit_count() == len(ones)


@given(indexes, indexes)
def test_setting_one_bit_never_touches_another(index, other):
    bits = bytearray(EMPTY)
    set_bit(bits, index, True)
    assert get_bit(bits, other) is (other == index)


@given(st.integers().filter(lambda i: not 0 <= i < LIST_SIZE))
def test_out_of_range_index_raises_index_error(index):
    with pytest.raises(IndexError, match="outside the list"):
        get_bit(EMPTY, index)
    with pytest.raises(IndexError, match="outside the list"):
        set_bit(bytearray(EMPTY), index, True)


@given(st.text(max_size=200))
def test_garbage_encoded_list_raises_invalid_credential_only(text):
    with pytest.raises(InvalidCredential) as info:
        decode_bits(text)
    assert info.value.reason == "malformed"


@given(st.binary(max_size=200))
def test_garbage_base64_encoded_list_raises_invalid_credential_only(raw):
    import base64

    with pytest.raises(InvalidCredential):
        decode_bits("u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
