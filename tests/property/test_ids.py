"""Properties of badge ids: exact round trip, every accepted spelling, garbage only raises MalformedId."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from signer.errors import MalformedId
from signer.ids import ALPHABET, ID_LENGTH, format_badge_id, new_badge_id, normalise_badge_id, parse_badge_id

canonical_ids = st.text(alphabet=ALPHABET, min_size=ID_LENGTH, max_size=ID_LENGTH)
# What a person may type for each canonical symbol: either case, and the
# usual confusables for 1 and 0.
_SPELLINGS = {ch: {ch, ch.lower()} for ch in ALPHABET}
_SPELLINGS["1"] |= {"I", "i", "L", "l"}
_SPELLINGS["0"] |= {"O", "o"}


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """Return (canonical id, a variant a person might type for it)."""
    canonical = draw(canonical_ids)
    out = []
    for ch in canonical:
        out.append(draw(st.sampled_from(sorted(_SPELLINGS[ch]))))
        out.append(draw(st.sampled_from(["", "", "", "-", " ", "\t"])))
    lead = draw(st.sampled_from(["", " ", "\t"]))
    return canonical, lead + "".join(out).strip("-")


@given(canonical_ids)
def test_format_then_parse_is_identity(canonical):
    assert parse_badge_id(format_badge_id(canonical)) == canonical
    assert normalise_badge_id(canonical) == format_badge_id(canonical)


@given(spellings())
def test_every_accepted_spelling_parses_to_the_canonical_id(pair):
    canonical, typed = pair
    assume(len(typed) <= 64)
    assert parse_badge_id(typed) == canonical


@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_malformed_id_only(raw):
    try:
        parsed = parse_badge_id(raw)
    except MalformedId as exc:
        assert exc.code == "malformed_id"
        assert isinstance(exc.raw, str)
        return
    assert len(parsed) == ID_LENGTH and set(parsed) <= set(ALPHABET)
    # an accepted id is plain ASCII: look-alike letters from other scripts never map onto a real id
    assert "".join(ch for ch in raw if ch not in "- \t").strip().isascii()


@given(st.one_of(st.binary(max_size=40), st.integers(), st.none(), st.floats(), st.lists(st.text(max_size=3))))
def test_non_text_raises_malformed_id(raw):
    with pytest.raises(MalformedId, match="too long"):
        parse_badge_id(raw)


def test_new_ids_are_random_and_canonical():
    ids = {new_badge_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(parse_badge_id(i) == i for i in ids)


@pytest.mark.parametrize("raw", ["ıııı-ıııı-ıııı", "ſſſſ-ſſſſ-ſſſſ", "７Ｋ３Ｍ-９ＱＸ２-ＨＴ４Ｂ", "7K3M\u202e9QX2HT4B"])
def test_non_ascii_look_alikes_are_refused(raw):
    with pytest.raises(MalformedId) as info:
        parse_badge_id(raw)
    assert info.value.raw == raw
