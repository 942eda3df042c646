"""Keys: RFC 7638 thumbprints, encryption at rest, keyring rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.errors import InvalidCredential, KeyStoreError, KeyUnavailable
from signer.keys import (
    ACTIVE,
    COMPROMISED,
    RETIRED,
    KeyEncryptor,
    Keyring,
    MemoryKeyStore,
    b64url,
    b64url_decode,
    generate_key,
    load_or_create_kek,
    thumbprint,
)

NOW = datetime(2026, 11, 25, tzinfo=UTC)
# RFC 8037 appendix A.1 public key and A.3 thumbprint
RFC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_thumbprint_matches_rfc8037_a3():
    assert thumbprint(b64url_decode(RFC_X)) == RFC_THUMBPRINT


@pytest.mark.parametrize("bad", ["abc=", "ab+c", "ab/c", "a", "é"])
def test_b64url_decode_is_strict(bad):
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(bad)


def test_private_key_encrypted_and_bound_to_kid():
    enc = KeyEncryptor(os.urandom(32))
    record, private = generate_key(encryptor=enc, now=NOW)
    assert record.kid == thumbprint(record.public_raw)
    raw = private.private_bytes_raw()
    assert raw not in record.encrypted_private
    assert enc.decrypt(record.kid, record.encrypted_private) == raw
    with pytest.raises(KeyStoreError, match="does not decrypt"):
        enc.decrypt("another-kid", record.encrypted_private)
    with pytest.raises(KeyStoreError, match="does not decrypt"):
        KeyEncryptor(os.urandom(32)).decrypt(record.kid, record.encrypted_private)


def test_secrets_not_in_repr():
    enc = KeyEncryptor(os.urandom(32))
    record, _ = generate_key(encryptor=enc, now=NOW)
    assert "encrypted_private" not in repr(record)
    assert repr(enc) == "KeyEncryptor(<hidden>)"


def test_kek_file_created_once_with_mode_600(tmp_path):
    path = tmp_path / "keys" / "kek"
    first = load_or_create_kek(str(path))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_or_create_kek(str(path)) == first
    assert load_or_create_kek(str(tmp_path / "none"), create=False) is None


def test_kek_from_env_must_be_32_bytes(tmp_path):
    with pytest.raises(KeyStoreError, match="32 bytes"):
        load_or_create_kek(str(tmp_path / "k"), env_value=b64url(b"short"))
    assert load_or_create_kek(str(tmp_path / "k"), env_value=b64url(b"x" * 32)) == b"x" * 32


def _ring(*statuses: str, encryptor: KeyEncryptor | None = None) -> tuple[Keyring, list]:
    enc = encryptor or KeyEncryptor(os.urandom(32))
    store = MemoryKeyStore()
    records = []
    for i, status in enumerate(statuses):
        record, _ = generate_key(encryptor=enc, now=NOW.replace(minute=i))
        store.add_key(record)
        if status != ACTIVE:
            store.set_key_status(record.kid, status, NOW)
        records.append(record)
    return Keyring(store.load_keys(), encryptor=enc), records


def test_signing_key_is_newest_active():
    ring, records = _ring(RETIRED, ACTIVE)
    kid, _ = ring.signing_key()
    assert kid == records[1].kid


def test_public_only_node_cannot_sign_but_verifies():
    ring, records = _ring(ACTIVE)
    public_only = Keyring(ring.records, encryptor=None)
    assert public_only.can_sign is False
    with pytest.raises(KeyUnavailable, match="cannot sign"):
        public_only.signing_key()
    assert public_only.public_key(records[0].kid) is not None


def test_compromised_key_is_withdrawn():
    ring, records = _ring(COMPROMISED, ACTIVE)
    with pytest.raises(InvalidCredential, match="withdrawn") as info:
        ring.public_key(records[0].kid)
    assert info.value.reason == "key_withdrawn"
    assert [k["kid"] for k in ring.jwks()["keys"]] == [records[1].kid]


def test_unknown_kid():
    ring, _ = _ring(ACTIVE)
    with pytest.raises(InvalidCredential, match="unknown signing key") as info:
        ring.public_key("nope")
    assert info.value.reason == "unknown_key"


def test_retired_key_published_only_while_in_use():
    ring, records = _ring(RETIRED, ACTIVE)
    assert [k["kid"] for k in ring.jwks()["keys"]] == [records[1].kid]
    assert [k["kid"] for k in ring.jwks(in_use={records[0].kid})["keys"]] == [records[0].kid, records[1].kid]


def test_jwks_has_no_private_part():
    ring, _ = _ring(ACTIVE)
    for jwk in ring.jwks()["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}


def test_no_active_key():
    ring, _ = _ring(RETIRED)
    with pytest.raises(KeyUnavailable, match="no active signing key"):
        ring.signing_key()


def test_generated_key_is_ed25519():
    enc = KeyEncryptor(os.urandom(32))
    record, private = generate_key(encryptor=enc, now=NOW)
    assert isinstance(private, Ed25519PrivateKey)
    assert len(record.public_raw) == 32
