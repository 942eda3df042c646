"""Property of the audit chain's spelled-out canonical JSON: for any plain values, what the encoder writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from verifier.audit.service import _canonical, _CanonicalEvents, _fields

texts = st.text(max_size=30)
maybe = texts | st.none()
documents = st.none() | st.recursive(st.none() | st.booleans() | st.integers() | texts,
                                     lambda inner: st.lists(inner, max_size=3)
                                     | st.dictionaries(texts, inner, max_size=4), max_leaves=8)
events = st.lists(st.tuples(st.integers(min_value=1, max_value=2**31), texts, maybe, maybe, documents, documents),
                  min_size=1, max_size=4)


@given(texts, texts, texts, maybe, events)
def test_the_spelled_out_event_is_the_canonical_json(at_z, actor, role, client, batch):
    canonical = _CanonicalEvents(at_z, actor, role, client)
    for seq, action, target, branch, before, after in batch:
        reference = _canonical(_fields(seq, at_z, actor, role, client, action, target, branch, before, after))
        assert canonical.text(seq, action, target, branch, before, after) == reference.decode("utf-8")


@given(texts, st.integers() | st.booleans())
def test_a_value_that_is_not_plain_is_left_to_the_encoder(at_z, odd):
    assert _CanonicalEvents(at_z, "a", "system", None).text(1, odd, None, None, None, None) is None  # type: ignore[arg-type]
    assert _CanonicalEvents(at_z, "a", "system", None).text(True, "issue", None, None, None, None) is None
