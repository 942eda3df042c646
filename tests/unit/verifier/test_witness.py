"""The C2SP tlog-witness (``liang log witness``): cosigns consistent extensions, refuses forks and stale sizes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from signer.tlog import (
    EMPTY_ROOT,
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    generate_key,
    open_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    prove_tree,
    sign_checkpoint,
    verify_cosignatures,
)
from tests.staticlog import StaticLog
from verifier.storage.witness import SqlWitnessStore, WitnessState
from verifier.transparency.witness import Witness, add_checkpoint_body
from verifier.transparency.witness_http import create_witness_app

NOW = 1_800_000_000


def _witness_signer(name: str = "witness.example/w1") -> CosignatureSigner:
    signer = parse_signer_key(generate_key(name, cosigner=True)[0])
    assert isinstance(signer, CosignatureSigner)
    signer._clock = lambda: NOW  # noqa: SLF001 - the injected clock
    return signer


@pytest.fixture
def log(tmp_path: Path) -> StaticLog:
    log = StaticLog(tmp_path / "log", f"log{secrets.token_hex(4)}.example/log")
    log.append(*(f"entry {i}".encode() for i in range(5)))
    return log


@pytest.fixture
def store(database_url: str) -> Iterator[SqlWitnessStore]:
    store = SqlWitnessStore(database_url)
    yield store
    store.close()


def _client(log: StaticLog, store: SqlWitnessStore, signer: CosignatureSigner | None = None) -> FlaskClient:
    signer = signer or _witness_signer()
    key = parse_verifier_key(log.vkey)
    app = create_witness_app(lambda: Witness.for_keys(signer, [key], store))  # type: ignore[list-item]
    app.config["witness_signer"] = signer
    return app.test_client()


def _post(client: FlaskClient, old: int, proof: list[bytes], note: bytes):  # type: ignore[no-untyped-def]
    return client.post("/add-checkpoint", data=add_checkpoint_body(old, proof, note))


def test_cosigns_a_first_checkpoint_and_consistent_extensions(log: StaticLog, store: SqlWitnessStore) -> None:
    client = _client(log, store)
    signer = client.application.config["witness_signer"]
    first = log.signed_checkpoint()
    answer = _post(client, 0, [], first)
    assert answer.status_code == 200 and answer.content_type == "text/plain; charset=utf-8"
    assert answer.data.startswith("\u2014 witness.example/w1 ".encode()) and answer.data.endswith(b"\n")
    cosigned = first + answer.data
    assert verify_cosignatures(cosigned, [signer.verifier]) == {"witness.example/w1": NOW}
    opened = open_checkpoint(cosigned, origin=log.origin, log_keys=[parse_verifier_key(log.vkey)],  # type: ignore[list-item]
                             witnesses=[signer.verifier], quorum=1)
    assert opened.checkpoint.size == 5

    log.append(*(f"entry {i}".encode() for i in range(5, 9)))
    answer = _post(client, 5, prove_tree(9, 5, log.store), log.signed_checkpoint())
    assert answer.status_code == 200
    assert store.latest(log.origin).size == 9  # type: ignore[union-attr]
    # the monitoring endpoint serves the latest cosigned checkpoint, with the log's signature and ours
    served = client.get(f"/{hashlib.sha256(log.origin.encode()).hexdigest()}/checkpoint")
    assert served.status_code == 200
    assert verify_cosignatures(served.data, [signer.verifier]) == {"witness.example/w1": NOW}
    assert open_checkpoint(served.data, origin=log.origin, log_keys=[parse_verifier_key(log.vkey)]).checkpoint.size == 9  # type: ignore[list-item]
    assert client.get(f"/{'0' * 64}/checkpoint").status_code == 404
    # the same checkpoint again: same size, same root, empty proof
    assert _post(client, 9, [], log.signed_checkpoint()).status_code == 200


def test_a_stale_old_size_is_409_with_the_size(log: StaticLog, store: SqlWitnessStore) -> None:
    client = _client(log, store)
    assert _post(client, 0, [], log.signed_checkpoint()).status_code == 200
    log.append(b"entry 5")
    for old in (0, 3, 6):
        answer = _post(client, old, [] if old == 0 else prove_tree(6, old, log.store), log.signed_checkpoint())
        assert answer.status_code == 409, old
        assert answer.content_type == "text/x.tlog.size"
        assert answer.data == b"5\n"


def test_a_fork_is_never_cosigned(log: StaticLog, store: SqlWitnessStore, tmp_path: Path) -> None:
    client = _client(log, store)
    assert _post(client, 0, [], log.signed_checkpoint()).status_code == 200
    # The same log key signs a second history that rewrites entry 3.
    fork = StaticLog(tmp_path / "fork", log.origin, skey=log.signer.skey())
    fork.append(*log.entries[:3], b"entry 3 rewritten", b"entry 4", b"entry 5", b"entry 6")
    answer = _post(client, 5, prove_tree(7, 5, fork.store), fork.signed_checkpoint())
    assert answer.status_code == 422
    # a proof from the honest tree does not link it either
    log.append(b"entry 5", b"entry 6")
    assert _post(client, 5, prove_tree(7, 5, log.store), fork.signed_checkpoint()).status_code == 422
    # same size, another root
    assert _post(client, 5, [], fork.signed_checkpoint(5)).status_code == 422
    # nothing moved, the refusals are kept as evidence, and the honest extension is still cosigned
    assert store.latest(log.origin).size == 5  # type: ignore[union-attr]
    assert [reason for reason, _ in store.evidence(log.origin)] == ["bad_proof", "bad_proof", "root_mismatch"]
    assert _post(client, 5, prove_tree(7, 5, log.store), log.signed_checkpoint()).status_code == 200


@pytest.mark.parametrize("case, status", [
    ("unknown_origin", 404), ("wrong_key", 403), ("bad_signature", 403), ("old_above_size", 400),
    ("malformed_old", 400), ("malformed_proof_line", 400), ("no_blank_line", 400), ("proof_from_zero", 422),
    ("empty_tree_with_root", 422), ("too_many_proof_lines", 400),
])
def test_refusals_per_spec(log: StaticLog, store: SqlWitnessStore, case: str, status: int) -> None:
    client = _client(log, store)
    note = log.signed_checkpoint()
    body = add_checkpoint_body(0, [], note)
    if case == "unknown_origin":
        other = StaticLog(log.folder.parent / "other", "other.example/log")
        other.append(b"x")
        body = add_checkpoint_body(0, [], other.signed_checkpoint())
    elif case == "wrong_key":
        impostor = StaticLog(log.folder.parent / "impostor", log.origin)
        impostor.append(*log.entries)
        body = add_checkpoint_body(0, [], impostor.signed_checkpoint())
    elif case == "bad_signature":
        head, _, sig = note.rpartition(b" ")
        body = add_checkpoint_body(0, [], head + b" " + (b"A" if sig[:1] != b"A" else b"B") + sig[1:])
    elif case == "old_above_size":
        body = add_checkpoint_body(6, [b"\x00" * 32], note)
    elif case == "malformed_old":
        body = b"old 01\n\n" + note
    elif case == "malformed_proof_line":
        body = b"old 0\nnot base64!\n\n" + note
    elif case == "no_blank_line":
        body = b"old 0\n" + note.split(b"\n\n")[0]
    elif case == "proof_from_zero":
        body = add_checkpoint_body(0, [b"\x01" * 32], note)
    elif case == "empty_tree_with_root":
        from signer.tlog import sign_note

        text = Checkpoint(log.origin, 1, b"\x02" * 32).text().replace("\n1\n", "\n0\n")
        body = add_checkpoint_body(0, [], sign_note(text, [log.signer]))
    elif case == "too_many_proof_lines":
        body = add_checkpoint_body(0, [b"\x00" * 32] * 64, note)
    answer = client.post("/add-checkpoint", data=body)
    assert answer.status_code == status, answer.data
    assert answer.content_type.startswith("text/plain")
    assert store.latest(log.origin) is None  # nothing was cosigned


def test_an_empty_log_is_cosigned_at_size_zero(tmp_path: Path, store: SqlWitnessStore) -> None:
    log = StaticLog(tmp_path / "empty", f"empty{secrets.token_hex(4)}.example/log")
    client = _client(log, store)
    note = sign_checkpoint(Checkpoint(log.origin, 0, EMPTY_ROOT), [log.signer])
    assert _post(client, 0, [], note).status_code == 200
    log.append(b"first")
    assert _post(client, 0, [], log.signed_checkpoint()).status_code == 200  # from 0: no proof needed


def test_other_routes_answer_4xx_in_text(log: StaticLog, store: SqlWitnessStore) -> None:
    client = _client(log, store)
    assert client.get("/add-checkpoint").status_code == 405
    assert client.get("/nope").status_code == 404
    assert client.post("/add-checkpoint", data=b"x" * 70_000).status_code == 413
    about = client.get("/")
    assert about.status_code == 200 and f"log {log.origin}" in about.get_data(as_text=True)


def test_the_store_swaps_only_from_the_expected_state(store: SqlWitnessStore) -> None:
    origin = f"cas{secrets.token_hex(4)}.example/log"
    a = WitnessState(5, b"\x05" * 32, b"five")
    b = WitnessState(9, b"\x09" * 32, b"nine")
    c = WitnessState(7, b"\x07" * 32, b"seven")
    assert store.swap(origin, None, a)
    assert not store.swap(origin, None, b)  # a second "first" checkpoint loses
    assert store.swap(origin, a, b)
    assert not store.swap(origin, a, c)  # a request checked against 5 cannot roll 9 back to 7
    assert store.latest(origin) == b


def test_two_witnesses_each_keep_their_own_view(log: StaticLog, database_url: str, tmp_path: Path) -> None:
    stores = [SqlWitnessStore(database_url), SqlWitnessStore(f"sqlite:///{tmp_path / 'w2.db'}")]
    signers = [_witness_signer("w1.example/w"), _witness_signer("w2.example/w")]
    clients = [_client(log, s, k) for s, k in zip(stores, signers, strict=True)]
    note = log.signed_checkpoint()
    lines = [_post(c, 0, [], note).data for c in clients]
    cosigned = note + b"".join(lines)
    verifiers: list[CosignatureVerifier] = [s.verifier for s in signers]  # type: ignore[misc]
    opened = open_checkpoint(cosigned, origin=log.origin, log_keys=[parse_verifier_key(log.vkey)],  # type: ignore[list-item]
                             witnesses=verifiers, quorum=2)
    assert set(opened.cosignatures) == {"w1.example/w", "w2.example/w"}
    # a forked checkpoint shown to witness 2 only is refused there too: no quorum for the fork
    fork = StaticLog(tmp_path / "fork2", log.origin, skey=log.signer.skey())
    fork.append(*log.entries[:4], b"rewritten", b"more")
    assert _post(clients[1], 5, prove_tree(6, 5, fork.store), fork.signed_checkpoint()).status_code == 422
    for store in stores:
        store.close()
