"""``liang verify`` and the public log, and issue 24 E (the client cache is not trusted).

The official origin is the real app (through its test client, behind a requests adapter); its
``/log/...`` resources and the badge's log proof come from a static log written with
signer.tlog, the shape ``tlogsvc`` serves (CONTRACT.md: ``/api/v1/badges/<id>/log``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from signer.credentials import BadgeClaims, Issuer, StatusEntry, build_credential, sign_jws
from signer.keys import b64url
from signer.tlog import CosignatureSigner, b64encode, generate_key, parse_signer_key, prove_record
from tests.staticlog import StaticLog
from verifier.verification.client import VerifyClient
from verifier.verification.logcheck import LogPins

SERVER = "http://127.0.0.1:8000"


class Origin(requests.adapters.BaseAdapter):
    """Route requests for SERVER to the app; /log/* to the static log; the badge's log proof from ``proofs``."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app
        self.log: StaticLog | None = None
        self.proofs: dict[str, str] = {}
        self.refs: dict[str, int] = {}
        self.down = False

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.down:
            raise requests.ConnectionError("down")
        parts = urlsplit(request.url)
        path = parts.path
        response = requests.Response()
        response.url, response.request = str(request.url), request
        if path.startswith("/log/") and self.log is not None:
            file = self.log.folder / path[len("/log/"):]
            response.status_code = 200 if file.is_file() else 404
            response._content = file.read_bytes() if file.is_file() else b"not found"
            return response
        badge = path.removeprefix("/api/v1/badges/").removesuffix("/log")
        if path.endswith("/log") and badge in self.proofs:
            response.status_code, response._content = 200, self.proofs[badge].encode()
            return response
        answer = self.app.test_client().open(path + (f"?{parts.query}" if parts.query else ""), method=request.method,
                                             headers=dict(request.headers), data=request.body)
        body = answer.data
        if request.method == "GET" and badge in self.refs and not path.endswith("/log") and answer.status_code == 200:
            live = json.loads(body)
            live["log"] = {"index": self.refs[badge], "proof_url": f"{SERVER}/api/v1/badges/{badge}/log"}
            body = json.dumps(live).encode()
        response.status_code, response._content = answer.status_code, body
        response.headers.update({k: v for k, v in answer.headers.items() if k.lower() != "content-length"})
        return response

    def close(self) -> None:
        return


@pytest.fixture
def origin(app: Flask) -> Origin:
    return Origin(app)


@pytest.fixture
def make_client(origin: Origin, tmp_path: Path, clock: Any) -> Callable[..., VerifyClient]:
    def make(*, offline: bool = False, shift: float = 0, **kwargs: Any) -> VerifyClient:
        session = requests.Session()
        session.mount(SERVER, origin)
        return VerifyClient(SERVER, offline=offline, cache_dir=tmp_path / "cache", session=session,
                            clock=lambda: clock().timestamp() + shift, log_pins=LogPins(tmp_path / "pins.json"),
                            **kwargs)

    return make


def _live(app: Flask, badge_id: str) -> dict[str, Any]:
    return json.loads(app.test_client().get(f"/api/v1/badges/{badge_id}").data)


def _entry(badge_id: str, credential: str, event: str = "issue", at: str = "2026-11-25T10:00:00Z") -> bytes:
    return json.dumps({"at": at, "badge": badge_id, "branch": "B01", "credential_sha256":
                       hashlib.sha256(credential.encode()).hexdigest(), "event": event, "kid": "k",
                       "reason": None, "state": "valid"}, separators=(",", ":"), sort_keys=True).encode()


def _publish(origin: Origin, log: StaticLog, badge_id: str, *witnesses: CosignatureSigner) -> None:
    """Publish the log and serve the badge's proof against its checkpoint."""
    note = log.publish(*witnesses)
    size = len(log.entries)
    mine = [i for i, e in enumerate(log.entries) if json.loads(e).get("badge") == badge_id]
    origin.log = log
    origin.refs[badge_id] = mine[-1]
    origin.proofs[badge_id] = json.dumps({"checkpoint": note.decode(), "tree_size": size, "entries": [
        {"index": i, "leaf": log.entries[i].decode(),
         "proof": [b64encode(h) for h in prove_record(size, i, log.store)]} for i in mine]})


@pytest.fixture
def logged(app: Flask, origin: Origin, issue_badge: Callable[..., str], tmp_path: Path) -> tuple[str, str, StaticLog]:
    badge_id = issue_badge()
    credential = _live(app, badge_id)["credential"]
    log = StaticLog(tmp_path / "log", "127.0.0.1:8000/log")
    log.append(*(_entry(f"OTHER-{i:04d}", f"c{i}") for i in range(7)), _entry(badge_id, credential))
    _publish(origin, log, badge_id)
    return badge_id, credential, log


def test_the_latest_decision_is_checked_in_a_signed_checkpoint(make_client: Callable[..., VerifyClient],
                                                                logged: tuple[str, str, StaticLog]) -> None:
    badge_id, credential, _ = logged
    outcome = make_client().verify(badge_id)
    assert outcome["valid"] is True, outcome["lines"]
    assert outcome["log"]["index"] == 7 and outcome["log"]["tree_size"] == 8
    assert any(line.startswith("  log: latest decision is entry 7") for line in outcome["lines"])
    # offline, the cached proof is verified again and vouches for this very credential
    offline = make_client(offline=True).verify(credential)
    assert offline["valid"] is True and offline["log"]["index"] == 7, offline["lines"]


def test_a_rewritten_history_is_refused(make_client: Callable[..., VerifyClient], logged: tuple[str, str, StaticLog],
                                        origin: Origin, tmp_path: Path) -> None:
    badge_id, credential, log = logged
    assert make_client().verify(badge_id)["valid"]
    # The log rewrites entry 2 (someone else's decision) and republishes a self-consistent tree.
    fork = StaticLog(tmp_path / "fork", log.origin, skey=log.signer.skey())
    fork.append(*log.entries[:2], _entry("OTHER-0002", "rewritten"), *log.entries[3:], _entry("OTHER-0009", "x"))
    _publish(origin, fork, badge_id)
    outcome = make_client().verify(badge_id)
    assert outcome["valid"] is False and outcome["reason"] == "log_refused"
    assert outcome["lines"][0].startswith("REFUSED: the log's history was rewritten")
    del credential


def test_a_proof_that_does_not_lead_to_the_checkpoint_is_refused(make_client: Callable[..., VerifyClient],
                                                                  logged: tuple[str, str, StaticLog],
                                                                  origin: Origin) -> None:
    badge_id, _, _ = logged
    doc = json.loads(origin.proofs[badge_id])
    doc["entries"][0]["proof"][0] = base64.b64encode(b"\x00" * 32).decode()
    origin.proofs[badge_id] = json.dumps(doc)
    outcome = make_client().verify(badge_id)
    assert outcome["valid"] is False and "is not in the signed checkpoint" in outcome["lines"][0]


def test_a_checkpoint_not_signed_by_the_pinned_key_is_refused(make_client: Callable[..., VerifyClient],
                                                               logged: tuple[str, str, StaticLog], origin: Origin,
                                                               tmp_path: Path) -> None:
    badge_id, _, log = logged
    assert make_client().verify(badge_id)["valid"]  # pins the log key
    impostor = StaticLog(tmp_path / "impostor", log.origin)
    impostor.append(*log.entries)
    _publish(origin, impostor, badge_id)  # serves its own /log/key too: the pin holds
    outcome = make_client().verify(badge_id)
    assert outcome["valid"] is False and "checkpoint does not verify" in outcome["lines"][0]
    assert "not the one pinned on first use" in outcome["lines"][0] and "--log-key" in outcome["lines"][0]
    # the new key given explicitly is trusted (an announced rotation)
    assert make_client(log_key=impostor.vkey).verify(badge_id)["valid"] is True


def test_a_witness_policy_needs_the_cosignatures(make_client: Callable[..., VerifyClient],
                                                 logged: tuple[str, str, StaticLog], origin: Origin) -> None:
    badge_id, _, log = logged
    wsk, wvk = generate_key("witness.example/w1", cosigner=True)
    outcome = make_client(witnesses=(wvk,)).verify(badge_id)
    assert outcome["valid"] is False and "witness cosignatures required" in outcome["lines"][0]
    witness = parse_signer_key(wsk)
    assert isinstance(witness, CosignatureSigner)
    _publish(origin, log, badge_id, witness)
    outcome = make_client(witnesses=(wvk,)).verify(badge_id)
    assert outcome["valid"] is True and outcome["log"]["cosigners"] == ["witness.example/w1"]


# -- issue 24 E: the cache is verified, never trusted --------------------------------------------
def _cache_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "cache").iterdir() if p.is_file()]


def test_a_fetch_time_in_the_future_is_stale(make_client: Callable[..., VerifyClient], issue_badge: Callable[..., str],
                                             app: Flask, act: Callable[..., Any], tmp_path: Path) -> None:
    badge_id = issue_badge()
    credential = _live(app, badge_id)["credential"]
    first = make_client().verify(credential)
    assert first["valid"], first["lines"]
    act("revoke", badge_id, reason="misconduct")
    for path in _cache_files(tmp_path):  # a cache entry claiming to be fetched in ten years never ages
        entry = json.loads(path.read_text())
        entry["fetched"] += 10 * 365 * 86400
        path.write_text(json.dumps(entry))
    outcome = make_client(offline=True).verify(credential)
    assert outcome["valid"] is False and outcome["status"] == "cannot_check", outcome["lines"]
    assert all(e["stale"] for e in outcome["evidence"])


def test_a_key_added_to_the_cached_key_set_makes_no_forgery_valid(
        make_client: Callable[..., VerifyClient], logged: tuple[str, str, StaticLog], app: Flask,
        tmp_path: Path) -> None:
    badge_id, credential, _ = logged
    assert make_client().verify(badge_id)["valid"]  # warm: keys, lists, the log proof
    attacker = Ed25519PrivateKey.generate()
    kid = b64url(hashlib.sha256(attacker.public_key().public_bytes_raw()).digest())
    for path in _cache_files(tmp_path):
        entry = json.loads(path.read_text())
        if '"keys"' in entry["body"]:
            jwks = json.loads(entry["body"])
            jwks["keys"].append({"kty": "OKP", "crv": "Ed25519", "kid": kid,
                                 "x": b64url(attacker.public_key().public_bytes_raw())})
            entry["body"] = json.dumps(jwks)
            path.write_text(json.dumps(entry))
    live = _live(app, badge_id)
    from tests.e2e.helpers import jws_payload

    payload = jws_payload(credential)
    subject = payload["credentialSubject"]
    issuer = Issuer(public_url=SERVER)
    entries = payload["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]
    start = live["valid_from"]
    from datetime import datetime

    valid_from = datetime.fromisoformat(start.replace("Z", "+00:00"))
    claims = BadgeClaims(
        badge_id=badge_id, shop_name="假店", shop_url="https://fake.taobao.com", platform="taobao",
        hosts=("fake.taobao.com",), branch_code="B01", branch_name=subject.get("source", {}).get("name", "B01"),
        valid_from=valid_from, valid_until=valid_from + timedelta(days=365),
        status_entries=tuple(StatusEntry(e["statusPurpose"], e["statusListCredential"], int(e["statusListIndex"]))
                             for e in entries))
    forged = sign_jws(build_credential(claims, issuer=issuer), kid_url=issuer.kid_url(kid), private_key=attacker)
    outcome = make_client(offline=True).verify(forged)
    assert outcome["valid"] is False, outcome["lines"]
    assert "never recorded this credential" in outcome["lines"][0]
    # the genuine credential still verifies offline from the same cache
    assert make_client(offline=True).verify(credential)["valid"] is True


def test_a_decision_newer_than_the_checkpoint_is_pending_not_refused(
        make_client: Callable[..., VerifyClient], logged: tuple[str, str, StaticLog], origin: Origin) -> None:
    badge_id, _, _ = logged
    origin.refs[badge_id] = 9  # decided after the checkpoint of 8 entries
    outcome = make_client().verify(badge_id)
    assert outcome["valid"] is True and outcome["log"]["index"] == 7, outcome["lines"]
    origin.proofs[badge_id] = json.dumps({**json.loads(origin.proofs[badge_id]), "entries": []})
    outcome = make_client().verify(badge_id)  # a badge issued seconds ago: no entry in a checkpoint yet
    assert outcome["valid"] is True and "no decision of this badge is in the signed checkpoint" in outcome["lines"][-1]
    origin.refs[badge_id] = 3  # the checkpoint covers entry 3, yet the proof shows no decision: a lie
    outcome = make_client().verify(badge_id)
    assert outcome["valid"] is False and outcome["reason"] == "log_refused"


def test_a_tampered_tile_is_refused(make_client: Callable[..., VerifyClient], logged: tuple[str, str, StaticLog],
                                    origin: Origin) -> None:
    badge_id, _, log = logged
    assert make_client().verify(badge_id)["valid"]  # remembers the checkpoint of 8 entries
    log.append(*(_entry(f"OTHER-{i:04d}", f"c{i}") for i in range(8, 12)))
    _publish(origin, log, badge_id)
    path = log.folder / "tile/0/000.p/12"
    data = bytearray(path.read_bytes())
    data[5] ^= 1
    path.write_bytes(bytes(data))
    outcome = make_client().verify(badge_id)
    assert outcome["valid"] is False and outcome["reason"] == "log_refused", outcome["lines"]
    assert "tiles that do not match its checkpoint" in outcome["lines"][0]
