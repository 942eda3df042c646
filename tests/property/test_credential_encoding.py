"""Property of the fast credential encoder: for any values, the bytes build_credential + json.dumps give."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from signer.credentials import BadgeClaims, CredentialEncoder, Issuer, StatusEntry, build_credential

ISSUER = Issuer(public_url="https://badge.example.cn")
ENCODER = CredentialEncoder(ISSUER)
texts = st.text(max_size=40)
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
entries = st.builds(StatusEntry, st.sampled_from(["revocation", "suspension"]), texts,
                    st.integers(min_value=0, max_value=2**20))
claims = st.builds(BadgeClaims, badge_id=texts, shop_name=texts, shop_url=texts, platform=texts,
                   hosts=st.tuples(texts) | st.lists(texts, max_size=4).map(tuple), branch_code=texts,
                   branch_name=texts, valid_from=moments, valid_until=moments.map(lambda m: m + timedelta(days=1)),
                   status_entries=st.lists(entries, max_size=3).map(tuple))


@given(claims, texts)
def test_encoder_matches_the_reference_serialisation(value, credential_id):
    reference = json.dumps(build_credential(value, issuer=ISSUER, credential_id=credential_id or "urn:uuid:0"),
                           ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert ENCODER.encode(value, credential_id=credential_id or "urn:uuid:0") == reference
