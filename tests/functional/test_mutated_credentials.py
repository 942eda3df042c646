"""No mutation of a genuine credential verifies: not in ``verify_credential``, not through the API.

Two genuine credentials (signed by two different keys of ours) are mutated in
well over a thousand ways; each mutant must raise InvalidCredential and make
``POST /api/v1/verify`` answer ``verified: false`` (never a 500).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections import Counter
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.credentials import verify_credential
from signer.errors import InvalidCredential
from signer.keys import public_jwk, thumbprint
from verifier import context
from verifier.verification.record import status_json

B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PUBLIC = "http://127.0.0.1:8000"
JWKS = f"{PUBLIC}/.well-known/jwks.json"


def enc(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def dec(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def enc_json(value: object) -> str:
    return enc(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def sign(header_b64: str, payload_b64: str, key: Ed25519PrivateKey) -> str:
    signing_input = f"{header_b64}.{payload_b64}"
    return f"{signing_input}.{enc(key.sign(signing_input.encode()))}"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def mutations(token_a: str, token_b: str, *, our_key: Ed25519PrivateKey, our_kid: str,
              attacker: Ed25519PrivateKey) -> Iterator[tuple[str, str]]:
    """Yield (family, mutant) pairs."""
    rng = random.Random(20261125)  # noqa: S311 - reproducible test data, not security
    h_a, p_a, s_a = token_a.split(".")
    h_b, p_b, s_b = token_b.split(".")
    header_a = json.loads(dec(h_a))
    our_public = raw_public(our_key)

    # 1. bit flips in the decoded bytes of each part
    for name, index in (("header", 0), ("payload", 1), ("signature", 2)):
        parts = token_a.split(".")
        raw = dec(parts[index])
        total_bits = len(raw) * 8
        bits = range(total_bits) if name == "signature" else rng.sample(range(total_bits), min(total_bits, 200))
        for bit in bits:
            flipped = bytearray(raw)
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            mutant = list(parts)
            mutant[index] = enc(bytes(flipped))
            yield f"bitflip-{name}", ".".join(mutant)
    # 2. bit flips in the characters of the compact text
    for _ in range(150):
        pos = rng.randrange(len(token_a))
        char = chr(ord(token_a[pos]) ^ (1 << rng.randrange(7)))
        mutant = token_a[:pos] + char + token_a[pos + 1:]
        if mutant.strip() != token_a:
            yield "bitflip-text", mutant
    # 3. non-canonical spellings of the last symbol of each part (unused low bits)
    for index in range(3):
        parts = token_a.split(".")
        for char in B64_ALPHABET:
            if char != parts[index][-1]:
                mutant = list(parts)
                mutant[index] = parts[index][:-1] + char
                yield "last-symbol", ".".join(mutant)
    # 4. header and payload swaps between the two credentials
    yield "swap", f"{h_a}.{p_b}.{s_b}"
    yield "swap", f"{h_b}.{p_a}.{s_a}"
    yield "swap", f"{h_a}.{p_b}.{s_a}"
    yield "swap", f"{h_b}.{p_a}.{s_b}"
    yield "swap", f"{h_a}.{p_a}.{s_b}"
    yield "swap", f"{h_b}.{p_b}.{s_a}"
    yield "swap", f"{p_a}.{h_a}.{s_a}"
    # 5. alg changes (with the original signature, an empty one, and a key-confusion HMAC)
    for alg in ("none", "None", "NONE", "HS256", "HS512", "RS256", "ES256", "PS256", "eddsa", "EDDSA", "Ed25519",
                "ES256K", "", None, ["EdDSA"], {"alg": "EdDSA"}, 0):
        header = {**header_a, "alg": alg}
        h = enc_json(header)
        yield "alg", f"{h}.{p_a}.{s_a}"
        yield "alg", f"{h}.{p_a}."
        for secret in (our_public, enc(our_public).encode(), json.dumps(public_jwk(our_public)).encode()):
            mac = hmac.new(secret, f"{h}.{p_a}".encode(), hashlib.sha256).digest()
            yield "alg-hmac", f"{h}.{p_a}.{enc(mac)}"
    no_alg = {k: v for k, v in header_a.items() if k != "alg"}
    yield "alg", f"{enc_json(no_alg)}.{p_a}.{s_a}"
    yield "alg", sign(enc_json(no_alg), p_a, our_key)
    # 6. kid tricks, each with the original signature and re-signed by the attacker
    attacker_kid = thumbprint(raw_public(attacker))
    kids = [
        f"https://evil.example/.well-known/jwks.json#{our_kid}",
        f"https://evil.example/.well-known/jwks.json#{attacker_kid}",
        f"{PUBLIC}.evil.example/.well-known/jwks.json#{our_kid}",
        f"{JWKS}#../../../../etc/passwd",
        f"{JWKS}#../{our_kid}",
        f"{JWKS}#{our_kid}/../{attacker_kid}",
        f"{PUBLIC}/.well-known/../.well-known/jwks.json#{our_kid}",
        f"{JWKS}#{attacker_kid}",
        f"{JWKS}#{our_kid}#{attacker_kid}",
        f"{JWKS}#{our_kid}\x00",
        f"{JWKS}#{our_kid.upper()}",
        f"{JWKS}#",
        f"{JWKS}",
        our_kid,
        f"#{our_kid}",
        "",
        None,
        [f"{JWKS}#{our_kid}"],
        {"kid": our_kid},
        f"file:///etc/passwd#{our_kid}",
        f"{JWKS}#{'A' * 10_000}",
    ]
    for kid in kids:
        header = {**header_a, "kid": kid}
        h = enc_json(header)
        yield "kid", f"{h}.{p_a}.{s_a}"
        yield "kid-attacker", sign(h, p_a, attacker)
    missing_kid = {k: v for k, v in header_a.items() if k != "kid"}
    yield "kid", f"{enc_json(missing_kid)}.{p_a}.{s_a}"
    yield "kid-attacker", sign(enc_json(missing_kid), p_a, attacker)
    # a key that is not ours, signing under our kid
    yield "kid-foreign-key", sign(h_a, p_a, attacker)
    yield "kid-foreign-key", sign(h_b, p_b, attacker)
    # 7. headers that carry their own key, signed by the attacker AND by our real key:
    #    the header check must refuse them even when the signature is genuine
    attacker_jwk = public_jwk(raw_public(attacker))
    for extra in ({"jwk": attacker_jwk}, {"jku": "https://evil.example/jwks.json"},
                  {"x5u": "https://evil.example/cert.pem"}, {"x5c": ["MIIB"]}, {"x5t": "abc"},
                  {"crit": ["exp"]}, {"crit": []}, {"crit": ["b64"], "b64": False}):
        h = enc_json({**header_a, **extra})
        yield "header-injection", f"{h}.{p_a}.{s_a}"
        yield "header-injection", sign(h, p_a, attacker)
        yield "header-injection-our-key", sign(h, p_a, our_key)
    # 8. duplicate JSON member names, signed by our real key
    dup_headers = [
        '{"alg":"EdDSA","alg":"none","kid":"' + f'{JWKS}#{our_kid}' + '","typ":"JWT"}',
        '{"alg":"none","alg":"EdDSA","kid":"' + f'{JWKS}#{our_kid}' + '","typ":"JWT"}',
        '{"alg":"EdDSA","kid":"https://evil.example/x#' + our_kid + '","kid":"' + f'{JWKS}#{our_kid}' + '","typ":"JWT"}',
    ]
    for text in dup_headers:
        h = enc(text.encode())
        yield "duplicate-keys", sign(h, p_a, our_key)
        yield "duplicate-keys", f"{h}.{p_a}.{s_a}"
    payload_text = dec(p_a).decode()
    dup_payload = payload_text[:-1] + ',"iss":"https://evil.example/issuer"}'
    yield "duplicate-keys", sign(h_a, enc(dup_payload.encode()), our_key)
    dup_payload = '{"id":"urn:uuid:00000000-0000-0000-0000-000000000000",' + payload_text[1:]
    yield "duplicate-keys", sign(h_a, enc(dup_payload.encode()), our_key)
    # 9. truncations
    for cut in range(1, len(token_a), max(1, len(token_a) // 80)):
        yield "truncation", token_a[:cut]
    for part_cut in (1, 2, 10, 43, 85):
        yield "truncation", f"{h_a}.{p_a}.{s_a[:part_cut]}"
    yield "truncation", f"{h_a}.{p_a}"
    yield "truncation", f"{h_a}.{p_a}."
    yield "truncation", f"{h_a}..{s_a}"
    yield "truncation", f".{p_a}.{s_a}"
    # 10. extra dots and parts
    for mutant in (f"{token_a}.", f".{token_a}", f"{h_a}..{p_a}.{s_a}", f"{h_a}.{p_a}..{s_a}",
                   f"{token_a}.{s_a}", f"{h_a}.{h_a}.{p_a}.{s_a}", f"{h_a}.{p_a}.{s_a}.{s_a}.{s_a}",
                   "..", "....", token_a.replace(".", ".."), token_a.replace(".", "")):
        yield "dots", mutant
    # 11. base64 padding
    for index in range(3):
        for pad in ("=", "==", "==="):
            parts = token_a.split(".")
            parts[index] += pad
            yield "padding", ".".join(parts)
    yield "padding", f"{base64.urlsafe_b64encode(dec(h_a)).decode()}.{p_a}.{s_a}"
    yield "padding", base64.b64encode(dec(s_a)).decode().join([f"{h_a}.{p_a}.", ""])
    # 12. whitespace and odd characters inside the token (leading/trailing space is legitimately trimmed)
    for char in (" ", "\t", "\n", "\r\n", "\x00", "\u00a0", "\u200b", "\u202e", "+", "/", "%", "\\"):
        for index in range(3):
            parts = token_a.split(".")
            middle = len(parts[index]) // 2
            parts[index] = parts[index][:middle] + char + parts[index][middle:]
            yield "whitespace", ".".join(parts)
    yield "whitespace", token_a.replace(".", " . ")
    # 13. standard base64 alphabet and case changes in the signature
    yield "alphabet", f"{h_a}.{p_a}.{base64.b64encode(dec(s_a)).decode().rstrip('=')}"
    yield "alphabet", f"{h_a}.{p_a}.{s_a.swapcase()}"
    yield "alphabet", token_a.upper()
    yield "alphabet", token_a.lower()
    # 14. payload replaced by another genuine payload (signature of the first)
    yield "payload-swap", f"{h_a}.{p_b}.{s_a}"
    yield "payload-swap", f"{h_b}.{p_a}.{s_b}"
    yield "payload-swap", f"{h_a}.{enc(json.dumps(json.loads(dec(p_a))).encode())}.{s_a}"  # re-serialised
    # 15. an empty or unrelated signature
    yield "signature", f"{h_a}.{p_a}.{enc(bytes(64))}"
    yield "signature", f"{h_a}.{p_a}.{enc(bytes([0xFF]) * 64)}"
    yield "signature", f"{h_a}.{p_a}.{s_b}"


@pytest.fixture
def two_credentials(app, issue_badge):
    """Issue a badge, rotate the key, issue another: two genuine credentials under two keys."""
    first = issue_badge(shop_name="甲店")
    with app.app_context():
        context.begin_write()
        context.key_service().rotate()
        context.session().commit()
    second = issue_badge(shop_name="乙店")
    with app.app_context():
        service = context.badge_service()
        cred_a = service.get(first).credential
        cred_b = service.get(second).credential
        kid, private = context.keyring().signing_key()
    return first, cred_a, cred_b, kid, private


def test_no_mutated_credential_verifies(app, client, two_credentials):
    first, token_a, token_b, our_kid, our_key = two_credentials
    attacker = Ed25519PrivateKey.generate()
    with app.app_context():
        ring = context.keyring()
        issuer = context.issuer()
        # the originals do verify: otherwise every refusal below would prove nothing
        for genuine in (token_a, token_b, f"  {token_a}\n"):
            verify_credential(genuine, issuer=issuer, resolve_key=ring.public_key)
        seen: set[str] = set()
        families: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        accepted = []
        for family, mutant in mutations(token_a, token_b, our_key=our_key, our_kid=our_kid, attacker=attacker):
            if mutant in seen or mutant.strip() in (token_a, token_b):
                continue
            seen.add(mutant)
            families[family] += 1
            try:
                verify_credential(mutant, issuer=issuer, resolve_key=ring.public_key)
            except InvalidCredential as exc:
                reasons[exc.reason] += 1
            else:
                accepted.append((family, mutant))
    print(f"\nmutated credentials tried: {len(seen)} {dict(families)}; refusals by reason {dict(reasons)}")
    assert accepted == []
    assert len(seen) >= 1000

    api_statuses: Counter[int] = Counter()
    api_accepted = []
    for mutant in sorted(seen):
        response = client.post("/api/v1/verify", json={"credential": mutant})
        api_statuses[response.status_code] += 1
        body = response.get_json()
        if response.status_code == 200:
            if body["verified"] is not False or body["status"] is not None:
                api_accepted.append(mutant)
        else:
            assert response.status_code == 400, mutant
            assert set(body["error"]) >= {"code", "message"}
    print(f"API answers for {len(seen)} mutants: {dict(api_statuses)}")
    assert api_accepted == []
    assert 500 not in api_statuses


def test_credential_of_withdrawn_key_no_longer_verifies(app, client, two_credentials):
    first, token_a, token_b, our_kid, our_key = two_credentials
    with app.app_context():
        service = context.badge_service()
        old_kid = service.get(first).kid
        assert old_kid != our_kid
    assert client.post("/api/v1/verify", json={"credential": token_a}).get_json()["verified"] is True
    with app.app_context():
        context.begin_write()
        context.key_service().retire_compromised(old_kid)
        context.session().commit()
        with pytest.raises(InvalidCredential, match="withdrawn") as info:
            verify_credential(token_a, issuer=context.issuer(), resolve_key=context.keyring().public_key)
        assert info.value.reason == "key_withdrawn"
    body = client.post("/api/v1/verify", json={"credential": token_a}).get_json()
    assert body == {**body, "verified": False, "reason": "key_withdrawn"}
    assert client.post("/api/v1/verify", json={"credential": token_b}).get_json()["verified"] is True


def test_genuine_credential_with_status_swapped_to_valid_badge_is_refused(app, client, two_credentials):
    # A revoked badge's credential stays cryptographically valid: the live record must decide.
    first, token_a, _token_b, _kid, _key = two_credentials
    with app.app_context():
        context.begin_write()
        from tests.conftest import COMMITTEE

        context.badge_service().revoke(first, actor=COMMITTEE, reason="misconduct")
        context.session().commit()
        badge = context.badge_service().get(first)
        assert status_json(badge, issuer=context.issuer(), now=context.clock()())["status"] == "revoked"
    body = client.post("/api/v1/verify", json={"credential": token_a}).get_json()
    assert body["verified"] is False and body["status"] == "revoked"
