"""Properties of compact JWS parsing: any input parses or raises InvalidCredential, nothing else."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from signer.credentials import ParsedJws, parse_jws
from signer.errors import InvalidCredential


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=6,
)
b64_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=60)


def assert_parses_or_refuses(token: object) -> None:
    """Assert that ``token`` parses to a well-typed JWS or is refused as malformed, nothing else."""
    try:
        parsed = parse_jws(token)  # type: ignore[arg-type]
    except InvalidCredential as exc:
        assert exc.reason == "malformed"
        return
    assert isinstance(parsed, ParsedJws)
    assert isinstance(parsed.header, dict) and isinstance(parsed.payload, dict)
    assert isinstance(parsed.signature, bytes)


@given(st.text(max_size=300))
def test_arbitrary_text(token):
    assert_parses_or_refuses(token)


@given(st.binary(max_size=300))
def test_arbitrary_bytes(token):
    assert_parses_or_refuses(token)
    assert_parses_or_refuses(token.decode("latin-1"))


@given(st.lists(b64_text, min_size=0, max_size=5))
def test_dotted_base64url_parts(parts):
    assert_parses_or_refuses(".".join(parts))


@given(json_values, json_values, st.binary(max_size=80))
def test_structured_parts(header, payload, signature):
    token = ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), _b64(signature)])
    assert_parses_or_refuses(token)


@given(st.binary(max_size=200), st.binary(max_size=200), st.binary(max_size=80))
def test_raw_bytes_in_each_part(header, payload, signature):
    assert_parses_or_refuses(".".join([_b64(header), _b64(payload), _b64(signature)]))


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=4), st.binary(max_size=64))
def test_valid_shape_round_trips(payload, signature):
    header = {"alg": "EdDSA", "typ": "JWT"}
    token = ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), _b64(signature)])
    parsed = parse_jws(token)
    assert parsed.header == header and parsed.payload == payload and parsed.signature == signature
