"""Checkpoints, cosignatures and tlog-proof texts (C2SP tlog-checkpoint, tlog-cosignature, tlog-proof)."""

from __future__ import annotations

import base64
import re

import pytest

from signer.tlog import (
    EMPTY_ROOT,
    Checkpoint,
    CheckpointError,
    CosignatureSigner,
    CosignatureVerifier,
    InvalidNoteSignature,
    MalformedLogData,
    MemoryHashStore,
    TlogProof,
    UnverifiedNote,
    cosignature_timestamp,
    cosigned_message,
    format_proof,
    generate_key,
    leaf_hash,
    open_checkpoint,
    parse_checkpoint,
    parse_proof,
    parse_signer_key,
    parse_verifier_key,
    prove_record,
    sign_checkpoint,
    sign_note,
    tree_hash,
    verify_cosignatures,
    verify_inclusion,
)
from tests.unit.signer.tlog.vectors import read

ORIGIN = "example.com/log"


def _code_blocks(spec: str) -> list[str]:
    return re.findall(r"```\n(.*?)```", spec, re.S)


def test_parse_the_c2sp_checkpoint_example() -> None:
    example = _code_blocks(read("c2sp/tlog-checkpoint.md"))[0]
    text = example[:example.index("\n\n") + 1] if "\n\n" in example else example.split("\u2014")[0]
    checkpoint = parse_checkpoint(text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root_hash).decode() == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    assert checkpoint.text() == text


@pytest.mark.parametrize("text", [
    "o\n1\n" + base64.b64encode(b"x" * 32).decode(),  # no final newline
    "o\n1\n",  # two lines
    "\n1\n" + base64.b64encode(b"x" * 32).decode() + "\n",  # empty origin
    "o\n01\n" + base64.b64encode(b"x" * 32).decode() + "\n",  # leading zero
    "o\n-1\n" + base64.b64encode(b"x" * 32).decode() + "\n",
    "o\n+1\n" + base64.b64encode(b"x" * 32).decode() + "\n",
    "o\n 1\n" + base64.b64encode(b"x" * 32).decode() + "\n",
    "o\n9223372036854775808\n" + base64.b64encode(b"x" * 32).decode() + "\n",  # 2**63
    "o\n1\n" + base64.b64encode(b"x" * 31).decode() + "\n",  # short root
    "o\n1\n" + base64.b64encode(b"x" * 32).decode().rstrip("=") + "\n",  # unpadded
    "o\n1\n" + base64.b64encode(b"x" * 32).decode() + "\n\n",  # empty extension line
    "o\n0\n" + base64.b64encode(b"x" * 32).decode() + "\n",  # size 0 with a non-empty root
])
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(MalformedLogData):
        parse_checkpoint(text)


def test_extension_lines_round_trip() -> None:
    cp = Checkpoint(ORIGIN, 0, EMPTY_ROOT, ("ext one", "ext two"))
    assert parse_checkpoint(cp.text()) == cp


def _keys() -> tuple[object, object]:
    skey, vkey = generate_key(ORIGIN)
    return parse_signer_key(skey), parse_verifier_key(vkey)


def test_open_checkpoint_checks_key_origin_and_quorum() -> None:
    log_signer, log_verifier = _keys()
    store = MemoryHashStore()
    for i in range(5):
        store.append_record(f"e{i}".encode())
    cp = Checkpoint(ORIGIN, 5, tree_hash(5, store))
    signed = sign_checkpoint(cp, [log_signer])  # type: ignore[list-item]
    opened = open_checkpoint(signed, origin=ORIGIN, log_keys=[log_verifier])  # type: ignore[list-item]
    assert opened.checkpoint == cp and opened.cosignatures == {}

    with pytest.raises(CheckpointError) as info:
        open_checkpoint(signed, origin="other.example/log", log_keys=[log_verifier])  # type: ignore[list-item]
    assert info.value.reason == "wrong_origin"
    other_signer, other_verifier = _keys()
    with pytest.raises(UnverifiedNote):
        open_checkpoint(signed, origin=ORIGIN, log_keys=[other_verifier])  # type: ignore[list-item]

    witnesses = []
    cosigned = signed
    for i, when in enumerate((1_700_000_000, 1_700_000_100)):
        wsk, wvk = generate_key(f"witness{i}.example/w", cosigner=True)
        wsigner = parse_signer_key(wsk)
        assert isinstance(wsigner, CosignatureSigner)
        wsigner._clock = lambda when=when: when  # noqa: SLF001 - the injected clock
        wverifier = parse_verifier_key(wvk)
        assert isinstance(wverifier, CosignatureVerifier)
        witnesses.append(wverifier)
        line = sign_note(cp.text(), [wsigner]).decode().split("\n\n")[1]
        cosigned += line.encode()
    opened = open_checkpoint(cosigned, origin=ORIGIN, log_keys=[log_verifier], witnesses=witnesses, quorum=2)  # type: ignore[list-item]
    assert opened.cosignatures == {"witness0.example/w": 1_700_000_000, "witness1.example/w": 1_700_000_100}
    with pytest.raises(CheckpointError) as info:
        open_checkpoint(signed, origin=ORIGIN, log_keys=[log_verifier], witnesses=witnesses, quorum=1)  # type: ignore[list-item]
    assert info.value.reason == "quorum"
    # a witness's cosignature is no log signature, and a log key is no witness
    with pytest.raises(UnverifiedNote):
        open_checkpoint(cosigned, origin=ORIGIN, log_keys=[], witnesses=witnesses)
    assert verify_cosignatures(signed, witnesses) == {}
    # a cosignature over another tree (a fork) fails verification of the whole note
    forged = cosigned.replace(cp.text().encode(), Checkpoint(ORIGIN, 5, b"\x00" * 32).text().encode())
    with pytest.raises(InvalidNoteSignature):
        verify_cosignatures(forged, witnesses)
    del other_signer


def test_cosignature_bytes_follow_the_spec() -> None:
    wsk, wvk = generate_key("witness.example/w1", cosigner=True)
    assert base64.b64decode(wvk.split("+", 2)[2])[0] == 0x04
    signer = parse_signer_key(wsk)
    assert isinstance(signer, CosignatureSigner)
    signer._clock = lambda: 1679315147  # noqa: SLF001
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    spec = read("c2sp/tlog-cosignature.md")
    message = re.search(r"\n {4}(cosignature/v1\n {4}time \d+\n(?: {4}.*\n)+)", spec).group(1)
    assert cosigned_message(text.encode(), 1679315147).decode() == re.sub(r"^ {4}", "", message, flags=re.M)
    note = sign_note(text, [signer])
    sig_line = note.decode().split("\n\n")[1]
    raw = base64.b64decode(sig_line.split(" ")[2].strip())
    assert len(raw) == 4 + 8 + 64 and int.from_bytes(raw[4:12], "big") == 1679315147
    opened = verify_cosignatures(note, [parse_verifier_key(wvk)])  # type: ignore[list-item]
    assert opened == {"witness.example/w1": 1679315147}
    from signer.tlog import parse_note
    assert cosignature_timestamp(parse_note(note).unverified_sigs[0]) == 1679315147


def test_tlog_proof_round_trip_and_spec_example() -> None:
    log_signer, log_verifier = _keys()
    store = MemoryHashStore()
    for i in range(11):
        store.append_record(f"e{i}".encode())
    cp = Checkpoint(ORIGIN, 11, tree_hash(11, store))
    signed = sign_checkpoint(cp, [log_signer])  # type: ignore[list-item]
    proof = TlogProof(7, tuple(prove_record(11, 7, store)), signed, extra=b"context")
    text = format_proof(proof)
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 7\n")
    parsed = parse_proof(text)
    assert parsed == proof
    opened = open_checkpoint(parsed.checkpoint, origin=ORIGIN, log_keys=[log_verifier])  # type: ignore[list-item]
    verify_inclusion(parsed.index, opened.checkpoint.size, leaf_hash(b"e7"), parsed.proof, opened.checkpoint.root_hash)

    example = _code_blocks(read("c2sp/tlog-proof.md"))[0]
    spec_proof = parse_proof(example)
    assert spec_proof.index == 73894 and len(spec_proof.proof) == 5 and spec_proof.extra
    assert spec_proof.checkpoint.startswith(b"example.com/fancylog\n109482\n")
    for bad in ("c2sp.org/tlog-proof@v2\nindex 1\n\n" + signed.decode(), "c2sp.org/tlog-proof@v1\nindex 01\n\nx",
                "c2sp.org/tlog-proof@v1\n\nx", "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx",
                "c2sp.org/tlog-proof@v1\nindex 1\n"):
        with pytest.raises(MalformedLogData):
            parse_proof(bad)
