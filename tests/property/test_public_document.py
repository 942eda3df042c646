"""Property of the spelled-out public document: for any values, the text the JSON encoder gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from signer.clock import isoformat_z
from signer.ids import format_badge_id
from verifier.storage.publicdoc import document_text

texts = st.text(max_size=40)
zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))])
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=zones | st.none())
facts = st.fixed_dictionaries({
    "badge_id": texts, "holder": texts, "shop_name": texts, "platform": texts, "shop_url": texts,
    "hosts": st.lists(texts, max_size=4) | st.lists(texts, max_size=2).map(tuple), "branch_code": texts,
    "branch_name": texts, "valid_from": moments, "valid_until": moments, "credential": texts | st.none(),
})


def _reference(f):
    return json.dumps({
        "id": format_badge_id(f["badge_id"]),
        "holder": {"display_name": f["holder"]},
        "shop": {"name": f["shop_name"], "platform": f["platform"], "url": f["shop_url"], "hosts": list(f["hosts"])},
        "branch": {"code": f["branch_code"], "name": f["branch_name"]},
        "valid_from": isoformat_z(f["valid_from"]),
        "valid_until": isoformat_z(f["valid_until"]),
        "credential": f["credential"],
    }, ensure_ascii=False, separators=(",", ":"))


@given(facts)
def test_document_text_is_what_the_json_encoder_writes(value):
    assert document_text(**value) == _reference(value)


@given(facts, st.sampled_from(["holder", "shop_name", "branch_name"]), st.integers() | st.none())
def test_a_value_that_is_not_text_is_written_by_the_encoder(value, field, odd):
    value = {**value, field: odd}
    assert document_text(**value) == _reference(value)
