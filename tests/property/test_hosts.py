"""Property of host-name normalisation: the regular-expression check refuses and keeps exactly what the
label-by-label check it replaced did."""

from __future__ import annotations

import idna
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from signer.errors import InvalidInput
from verifier.badges.service import normalise_host


def _label_by_label(raw: str) -> str | None:
    """The label-by-label check, kept as the oracle: the host, or None when refused."""
    host = raw.strip().rstrip(".")
    try:  # UTS #46, non-transitional (as browsers): ß stays ß (xn--zca), not ss as IDNA 2003 had it
        ascii_host = host.lower() if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except (UnicodeError, idna.IDNAError):
        return None
    labels = ascii_host.split(".")
    if not ascii_host or len(ascii_host) > 253 or any(
        not label or len(label) > 63 or not all(c.isalnum() or c == "-" for c in label)
        or label.startswith("-") or label.endswith("-") for label in labels
    ):
        return None
    return ascii_host


def _current(raw: str) -> str | None:
    try:
        return normalise_host(raw)
    except InvalidInput as exc:
        assert exc.field == "hosts"
        assert "is not a host name" in exc.message
        return None


host_like = st.lists(st.text(alphabet="abcXYZ019-_.例子中国ÄßK\u212a \t\n", max_size=70), min_size=1, max_size=5).map(".".join)


@given(st.text(max_size=80) | host_like)
@example("a" * 63 + ".example")
@example("a" * 64 + ".example")
@example("-a.example")
@example("a-.example")
@example("xn--fsqu00a.xn--fiqs8s")
@example("WWW.例子.中国.")
@example("\u212aelvin.example")  # the Kelvin sign lower-cases to an ASCII k
@example(".".join(["a" * 63] * 4))  # 255 characters
@example("a.example\n")
def test_regular_expression_check_agrees_with_the_label_by_label_check(raw):
    assert _current(raw) == _label_by_label(raw)


@pytest.mark.parametrize("raw,expected", [
    ("Shop.Example.COM.", "shop.example.com"),
    ("WWW.例子.中国", "www.xn--fsqu00a.xn--fiqs8s"),
    (" s1.taobao.com ", "s1.taobao.com"),
])
def test_hosts_are_lower_case_idna(raw, expected):
    assert normalise_host(raw) == expected
