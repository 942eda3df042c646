"""The checkpointer (compare-and-swap, consistency, hourly re-sign), the log key, /log/* and the badge's proofs."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from signer.errors import KeyStoreError
from signer.tlog import (
    CosignatureSigner,
    CosignatureVerifier,
    Tile,
    TileHashReader,
    decode_bundle,
    leaf_hash,
    open_checkpoint,
    parse_proof,
    parse_verifier_key,
    root_from_leaf_hashes,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from signer.tlog import b64decode as tlog_b64decode
from verifier import context
from verifier.audit.service import AuditLog
from verifier.badges.bulk import BulkImporter
from verifier.badges.service import IssueRequest
from verifier.storage.logmodels import LogCheckpoint, LogEntry, LogHash, LogKey
from verifier.transparency import service as log_service
from verifier.transparency.checkpointer import Checkpointer, CheckpointRefused, Signed
from verifier.transparency.witnesses import Witness, WitnessClient

from ...conftest import COMMITTEE

ORIGIN = "127.0.0.1:8000/log"


def _checkpointer(app) -> Checkpointer:
    made = log_service.checkpointer(app)
    assert made is not None
    return made


def _sign(app) -> Signed | None:
    return _checkpointer(app).run_once()


def _import(app, make_branch, count: int, *, start: int = 0) -> list[str]:
    if not start:
        make_branch()
    rows = [(i + 2, IssueRequest(f"店主{i}", f"日志店{i}", f"https://log{i}.example.com", "taobao", "B01", 60, None))
            for i in range(start, start + count)]
    with app.app_context():
        session = context.begin_write()
        report = BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                              audit=AuditLog(session, clock=context.clock())).run(rows, actor=COMMITTEE)
        session.commit()
    assert report.ok
    return list(report.issued)


def _leaves(app) -> list[bytes]:
    with app.app_context():
        return [bytes(d) for d in context.session().execute(select(LogEntry.data).order_by(LogEntry.idx)).scalars()]


def _opened(client):
    vkey = client.get("/log/key").get_data(as_text=True).strip()
    note = client.get("/log/checkpoint").get_data()
    return open_checkpoint(note, origin=ORIGIN, log_keys=[parse_verifier_key(vkey)])


def test_a_checkpoint_covers_every_entry_and_verifies_with_the_published_key(app, client, issue_badge):
    for _ in range(3):
        issue_badge()
    assert client.get("/log/checkpoint").status_code == 404  # nothing signed yet
    signed = _sign(app)
    assert signed is not None and signed.size == 3
    response = client.get("/log/checkpoint")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=2"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    opened = _opened(client)
    assert opened.checkpoint.size == 3
    assert opened.checkpoint.root_hash == root_from_leaf_hashes([leaf_hash(d) for d in _leaves(app)])
    assert _sign(app) is None  # nothing new, signed a moment ago: nothing to do


def test_the_log_key_is_its_own_and_encrypted_at_rest(app, client, issue_badge):
    issue_badge()
    _sign(app)
    with app.app_context():
        row = context.session().get(LogKey, 1)
        signing_kids = [r.kid for r in context.keyring().records]
        encryptor = context.encryptor()
        assert row.name == ORIGIN
        public = bytes(row.public_raw)
        assert parse_verifier_key(client.get("/log/key").get_data(as_text=True).strip()).public_key == public
        with pytest.raises(KeyStoreError):  # bound to its own associated data: not openable as a badge key
            encryptor.decrypt(signing_kids[0], bytes(row.encrypted_private))
    from signer.keys import thumbprint

    assert thumbprint(public) not in signing_kids


def test_tiles_and_bundles_rebuild_the_signed_tree(app, client, make_branch):
    _import(app, make_branch, 300)
    _sign(app)
    opened = _opened(client)
    size, root = opened.checkpoint.size, opened.checkpoint.root_hash
    assert size == 300
    fetched: list[str] = []

    def fetch(tile: Tile) -> bytes:
        fetched.append(tile.path())
        response = client.get("/log/" + tile.path())
        assert response.status_code == 200, tile.path()
        return response.get_data()

    assert tree_hash(size, TileHashReader(size, root, fetch)) == root
    full = client.get("/log/tile/0/000")
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full.headers["Content-Type"] == "application/octet-stream"
    partial = client.get("/log/tile/0/001.p/44")
    assert partial.headers["Cache-Control"] == "public, max-age=60"
    entries = decode_bundle(client.get("/log/tile/entries/000").get_data()) + decode_bundle(
        client.get("/log/tile/entries/001.p/44").get_data())
    assert entries == _leaves(app)
    hashes = full.get_data() + partial.get_data()
    assert [hashes[i:i + 32] for i in range(0, len(hashes), 32)] == [leaf_hash(e) for e in entries]


@pytest.mark.parametrize("path", ["tile/0/001", "tile/0/001.p/45", "tile/1/000", "tile/entries/002.p/1",
                                  "tile/0/1", "tile/0/000.p/0", "tile/0/x000/000", "tile/64/000", "tile/a/b",
                                  "tile/entries/000.p/256"])
def test_tiles_beyond_the_tree_or_malformed_are_404(app, client, make_branch, path):
    _import(app, make_branch, 300)
    _sign(app)
    response = client.get("/log/" + path)
    assert response.status_code == 404


def test_a_badge_s_proofs_verify_against_the_checkpoint(app, client, issue_badge, act, clock):
    badge_id = issue_badge()
    other = issue_badge()
    clock.advance(hours=1)
    act("suspend", badge_id)
    _sign(app)
    body = client.get(f"/api/v1/badges/{badge_id}/log").get_json()
    opened = _opened(client)
    assert body["tree_size"] == opened.checkpoint.size == 3
    assert body["checkpoint"] == client.get("/log/checkpoint").get_data(as_text=True)
    assert [e["index"] for e in body["entries"]] == [0, 2]
    for entry in body["entries"]:
        verify_inclusion(entry["index"], body["tree_size"], leaf_hash(entry["leaf"].encode("utf-8")),
                         [tlog_b64decode(h) for h in entry["proof"]], opened.checkpoint.root_hash)
    status = client.get(f"/api/v1/badges/{badge_id}").get_json()
    assert status["log"]["index"] == body["entries"][-1]["index"]
    text = client.get(f"/api/v1/badges/{badge_id}/log?format=text")
    assert text.headers["Content-Type"].startswith("text/plain")
    proof = parse_proof(text.get_data(as_text=True))
    assert proof.index == 2 and proof.checkpoint == opened.raw
    accepted = client.get(f"/api/v1/badges/{other}/log", headers={"Accept": "text/plain"})
    assert parse_proof(accepted.get_data(as_text=True)).index == 1
    assert client.get(f"/api/v1/badges/{badge_id}/log?format=text&index=1").status_code == 404  # not this badge's


@pytest.mark.parametrize("raw,status", [("ZZZZ-ZZZZ-ZZZZ", 404), ("not-an-id!", 400)])
def test_the_badge_log_route_refuses_like_the_other_badge_routes(app, client, issue_badge, raw, status):
    issue_badge()
    _sign(app)
    assert client.get(f"/api/v1/badges/{raw}/log").status_code == status


def test_two_checkpointers_racing_sign_one_consistent_history(app, make_branch):
    """Two processes' checkpointers (threads with their own sessions here) while decisions land."""
    signed: list[Signed] = []
    lock = threading.Lock()
    stop = threading.Event()
    first, second = _checkpointer(app), _checkpointer(app)

    def run(checkpointer: Checkpointer) -> None:
        while not stop.is_set():
            done = checkpointer.run_once()
            if done is not None:
                with lock:
                    signed.append(done)
            stop.wait(0.005)

    threads = [threading.Thread(target=run, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    try:
        for batch in range(6):
            _import(app, make_branch, 7, start=batch * 7)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    last = _sign(app)
    if last is not None:
        signed.append(last)
    signed.sort(key=lambda s: s.serial)
    assert [s.serial for s in signed] == sorted(set(s.serial for s in signed)), "one signer per serial"
    for older, newer in zip(signed, signed[1:], strict=False):
        assert newer.size >= older.size
        if older.size and newer.size > older.size:
            with app.app_context():
                from signer.tlog import prove_tree
                from verifier.transparency.checkpointer import StoredHashes

                proof = prove_tree(newer.size, older.size, StoredHashes(context.session()))
            verify_consistency(older.size, newer.size, proof, older.root, newer.root)
    with app.app_context():
        stored = context.session().get(LogCheckpoint, 1)
        assert stored.size == 42 and stored.serial == signed[-1].serial
        hashes = context.session().execute(select(LogHash.idx)).scalars().all()
    assert len(hashes) == len(set(hashes))
    assert bytes(stored.root) == root_from_leaf_hashes([leaf_hash(d) for d in _leaves(app)])


def test_a_claim_on_a_stale_view_signs_nothing(app, issue_badge, monkeypatch):
    issue_badge()
    late = _checkpointer(app)
    seen = late.due()
    _sign(app)  # another process signs first
    issue_badge()
    monkeypatch.setattr(late, "due", lambda: seen)
    assert late.run_once() is None
    with app.app_context():
        assert context.session().get(LogCheckpoint, 1).size == 1


def test_a_tampered_stored_hash_is_never_signed_over(app, issue_badge, caplog):
    for _ in range(3):
        issue_badge()
    _sign(app)
    with app.app_context():
        session = context.begin_write()
        before = session.get(LogCheckpoint, 1).note
        # The hash over entries 0 and 1: what a consistency proof from size 3 rests on.
        from signer.tlog import stored_hash_index

        session.execute(update(LogHash).where(LogHash.idx == stored_hash_index(1, 0)).values(hash=b"\x00" * 32))
        session.commit()
    issue_badge()
    with pytest.raises(CheckpointRefused, match="not a consistent extension"):
        _sign(app)
    with app.app_context():
        assert context.session().get(LogCheckpoint, 1).note == before


def test_a_gap_in_the_entries_is_never_signed_over(app, issue_badge):
    for _ in range(3):
        issue_badge()
    with app.app_context():
        session = context.begin_write()
        session.execute(LogEntry.__table__.delete().where(LogEntry.idx == 1))
        session.commit()
    with pytest.raises(CheckpointRefused, match="not all there"):
        _sign(app)
    with app.app_context():
        assert context.session().get(LogCheckpoint, 1) is None


def test_an_unchanged_tree_is_re_signed_hourly_with_a_fresh_time(app, client, issue_badge, clock):
    issue_badge()
    _sign(app)
    first = client.get("/log/checkpoint").get_data()
    clock.advance(minutes=59)
    assert _sign(app) is None
    clock.advance(minutes=2)
    again = _sign(app)
    assert again is not None and again.size == 1
    second = client.get("/log/checkpoint").get_data()
    assert second != first and second.split(b"\n\n")[0] == first.split(b"\n\n")[0]
    with app.app_context():
        key = context.session().get(LogKey, 1)
    own_clock = CosignatureVerifier(ORIGIN, bytes(key.public_raw))
    from signer.tlog import verify_cosignatures

    assert verify_cosignatures(second, [own_clock]) == {ORIGIN: int(clock.now.timestamp())}


def test_healthz_reports_a_stale_checkpoint(app, client, issue_badge, clock):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    issue_badge()
    assert client.get("/healthz").get_json() == {"status": "ok"}  # a decision just made: within its limit
    clock.advance(seconds=75)
    body = client.get("/healthz")
    assert body.status_code == 200
    assert body.get_json()["status"] == "degraded" and body.get_json()["log"]["checkpoint"] == "stale"
    _sign(app)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    clock.advance(hours=1, minutes=2)
    assert client.get("/healthz").get_json()["status"] == "degraded"  # no re-signing for over an hour


def test_witness_cosignatures_are_published_on_the_checkpoint(app, client, issue_badge):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    cosigner = CosignatureSigner("witness.example/w1", key, clock=lambda: 1_800_000_000)
    received: list[bytes] = []
    held = {"size": 0}

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        assert url == "https://w1.example/add-checkpoint"
        received.append(body)
        old = int(body.split(b"\n", 1)[0].split(b" ")[1])
        if old != held["size"]:
            return 409, f"{held['size']}\n".encode()
        note = body.split(b"\n\n", 1)[1]
        held["size"] = int(note.split(b"\n")[1])
        from signer.tlog import sign_note

        text = note.split(b"\n\n")[0] + b"\n"
        line = sign_note(text.decode(), [cosigner]).split(b"\n\n")[1]
        return 200, line

    witness = Witness("https://w1.example", cosigner.verifier)
    client_ = WitnessClient(app.extensions["liang.db"], [witness], post=post)
    issue_badge()
    assert client_.cosign(_sign(app)) == 1
    issue_badge()
    issue_badge()
    assert client_.cosign(_sign(app)) == 1
    assert received[-1].startswith(b"old 1\n")  # a consistency proof from what the witness holds
    opened = open_checkpoint(client.get("/log/checkpoint").get_data(), origin=ORIGIN,
                             log_keys=[parse_verifier_key(client.get("/log/key").get_data(as_text=True).strip())],
                             witnesses=[cosigner.verifier], quorum=1)
    assert opened.cosignatures == {"witness.example/w1": 1_800_000_000}
    assert opened.checkpoint.size == 3


@pytest.mark.parametrize(("lang", "words", "entry"), [
    ("zh-Hans", "已记入公开日志", "第 1 号记录"), ("zh-Hant", "已記入公開日誌", "第 1 號記錄"),
    ("en", "Recorded in the public log", "entry #1"),
])
def test_the_verify_page_says_the_decision_is_in_the_public_log(app, client, issue_badge, act, clock, lang, words,
                                                                entry):
    badge_id = issue_badge()
    clock.advance(hours=2)
    act("suspend", badge_id)
    page = client.get(f"/v/{badge_id}?lang={lang}").get_data(as_text=True)
    assert words in page and entry in page
    assert f'href="http://127.0.0.1:8000/api/v1/badges/{badge_id}/log"' in page
    assert 'datetime="2026-11-25T12:00:00Z"' in page  # the decision's own time, not the check's


def test_a_badge_from_before_the_log_shows_no_log_line(app, client, issue_badge):
    badge_id = issue_badge()
    with app.app_context():
        from signer.ids import parse_badge_id
        from verifier.storage.models import Badge

        session = context.begin_write()
        session.execute(update(Badge).where(Badge.id == parse_badge_id(badge_id)).values(log_index=None))
        session.commit()
    assert "已记入公开日志" not in client.get(f"/v/{badge_id}").get_data(as_text=True)
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["log"] is None


def test_the_issuer_document_publishes_the_log_and_its_key(app, client, issue_badge):
    issue_badge()
    _sign(app)
    document = client.get("/issuer", headers={"Accept": "application/ld+json"}).get_json()
    assert document["transparencyLog"] == "http://127.0.0.1:8000/log/"
    assert document["transparencyLogKey"] == client.get("/log/key").get_data(as_text=True).strip()
    context_doc = client.get("/ns/v1").get_json()
    assert {"transparencyLog", "transparencyLogKey"} <= set(context_doc["@context"])


def test_two_real_witnesses_cosign_the_service_s_checkpoints(app, client, issue_badge, database_url):
    """The service against ``liang log witness`` (two of them), over their HTTP interface."""
    from signer.tlog import generate_key, parse_signer_key
    from verifier.storage.witness import SqlWitnessStore
    from verifier.transparency.witness import Witness as LogWitness
    from verifier.transparency.witness_http import create_witness_app

    issue_badge()
    _sign(app)  # the log key exists from here on
    log_key = parse_verifier_key(client.get("/log/key").get_data(as_text=True).strip())
    stores, signers, clients = [], [], {}
    for name in ("w1.example/witness", "w2.example/witness"):
        signer = parse_signer_key(generate_key(name, cosigner=True)[0])
        store = SqlWitnessStore(database_url)
        stores.append(store)
        signers.append(signer)
        clients[f"https://{name}"] = create_witness_app(
            lambda s=signer, st=store: LogWitness.for_keys(s, [log_key], st)).test_client()

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        base, _, path = url.rpartition("/")
        answer = clients[base].post("/" + path, data=body)
        return answer.status_code, answer.get_data()

    try:
        witnesses = WitnessClient(app.extensions["liang.db"],
                                  [Witness(url, s.verifier) for url, s in zip(clients, signers, strict=True)],
                                  post=post)
        issue_badge()
        assert witnesses.cosign(_sign(app)) == 2
        for _ in range(3):
            issue_badge()
        assert witnesses.cosign(_sign(app)) == 2  # consistency proofs from the size each witness holds
        opened = open_checkpoint(client.get("/log/checkpoint").get_data(), origin=ORIGIN, log_keys=[log_key],
                                 witnesses=[s.verifier for s in signers], quorum=2)
        assert opened.checkpoint.size == 5
        assert set(opened.cosignatures) == {"w1.example/witness", "w2.example/witness"}
    finally:
        for store in stores:
            store.close()


def test_an_independent_reader_verifies_what_the_service_serves(app, client, make_branch, tmp_path):
    """tlog-scales (PyPI, written by others) reads a mirror of /log/ copied from the service's routes."""
    from tlog_scales.backend import LocalBackend
    from tlog_scales.reader import TilesReader
    from tlog_scales.signing import Vkey

    from signer.tlog import tiles_for_size

    _import(app, make_branch, 300)
    _sign(app)
    vkey = client.get("/log/key").get_data(as_text=True).strip()
    (tmp_path / "checkpoint").write_bytes(client.get("/log/checkpoint").get_data())
    for tile in tiles_for_size(300):
        for path in (tile.path(), *([tile.for_entries().path()] if tile.level == 0 else [])):
            response = client.get("/log/" + path)
            assert response.status_code == 200, path
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_bytes(response.get_data())
    reader = TilesReader(LocalBackend(tmp_path))
    checkpoint = reader.get_checkpoint()
    checkpoint.verify(Vkey.from_string(vkey))
    assert (checkpoint.origin, checkpoint.size) == (ORIGIN, 300)
    assert reader.calculate_root_hash() == checkpoint.root_hash
    leaves = _leaves(app)
    for index in (0, 255, 256, 299):
        assert reader.get_entry(index) == leaves[index]


def test_a_node_that_signs_nothing_does_not_answer_for_the_log(app, client, issue_badge, clock):
    issue_badge()
    clock.advance(minutes=5)
    assert client.get("/healthz").get_json()["status"] == "degraded"
    app.config["LOG_CHECKPOINTER"] = False
    assert client.get("/healthz").get_json() == {"status": "ok"}
