"""An independent reader: tlog-scales (PyPI, Apache-2.0, written by others) reads and checks what signer.tlog writes.

tlog-scales reads a tlog-tiles log from files or HTTP, verifies checkpoint signatures and Ed25519
cosignatures with its own signed-note code, recomputes roots from tiles and checks inclusion and
consistency proofs with a literal translation of RFC 9162 §2.1.3.2 / §2.1.4.2. It shares no code
with us. Its writer is also used the other way round: a log it writes is read by our tile reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tlog_scales.backend import LocalBackend
from tlog_scales.reader import TilesReader
from tlog_scales.signing import PlainEd25519Signer, Vkey, VkeySet
from tlog_scales.tlog import ConsistencyProof, InclusionProof, InclusionProofInvalid
from tlog_scales.writer import TilesWriter

from signer.tlog import (
    CosignatureSigner,
    ProofError,
    TileError,
    TileHashReader,
    decode_bundle,
    generate_key,
    leaf_hash,
    open_checkpoint,
    parse_signer_key,
    parse_tile_path,
    parse_verifier_key,
    prove_record,
    prove_tree,
    stored_hash_index,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.staticlog import StaticLog

SIZES = (1, 5, 255, 256, 257, 600, 66_000)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> StaticLog:
    log = StaticLog(tmp_path_factory.mktemp("static-log"), "log.example/tlog")
    wsk, _ = generate_key("witness.example/w1", cosigner=True)
    witness = parse_signer_key(wsk)
    assert isinstance(witness, CosignatureSigner)
    for size in SIZES:
        log.append(*(f'{{"event":"issue","n":{i}}}'.encode() for i in range(len(log.entries), size)))
        log.publish(witness)
    log.witness_vkey = witness.verifier.vkey()  # type: ignore[attr-defined]
    return log


def _reader(log: StaticLog) -> TilesReader:
    return TilesReader(LocalBackend(log.folder))


def test_their_reader_verifies_our_checkpoint_and_cosignature(log: StaticLog) -> None:
    reader = _reader(log)
    cp = reader.get_checkpoint()
    assert (cp.origin, cp.size, cp.root_hash) == (log.origin, SIZES[-1], log.root())
    cp.verify(Vkey.from_string(log.vkey))  # raises on a bad signature
    valid = VkeySet(Vkey.from_string(log.vkey), Vkey.from_string(log.witness_vkey)).verify(cp.signatures, cp)  # type: ignore[attr-defined]
    assert {vkey.name for vkey, _ in valid} == {log.origin, "witness.example/w1"}
    other_sk, other_vk = generate_key(log.origin)
    with pytest.raises(RuntimeError, match="no signature matched"):
        cp.verify(Vkey.from_string(other_vk))
    del other_sk


def test_their_reader_recomputes_our_root_and_entries_from_our_tiles(log: StaticLog) -> None:
    reader = _reader(log)
    reader.get_checkpoint()
    assert reader.calculate_root_hash() == log.root()
    for i in (0, 1, 255, 256, 599, 65_535, 65_536, 65_999):
        assert reader.get_entry(i) == log.entries[i]
    for size in SIZES:
        reader.set_size(size)
        assert reader.calculate_root_hash() == log.root(size), size


def test_their_proofs_and_ours_agree_both_ways(log: StaticLog) -> None:
    reader = _reader(log)
    reader.get_checkpoint()
    size = SIZES[-1]
    root = log.root()
    for old in SIZES:
        theirs = reader.get_consistency_proof(old, size)
        ours = prove_tree(size, old, log.store)
        assert theirs.node_hashes == ours
        ConsistencyProof(old, size, ours).check(log.root(old), root)
        verify_consistency(old, size, theirs.node_hashes, log.root(old), root)
    for index in (0, 7, 256, 599, 65_999):
        ours = prove_record(size, index, log.store)
        InclusionProof(index, size, ours).check(leaf_hash(log.entries[index]), root)
        verify_inclusion(index, size, leaf_hash(log.entries[index]),
                         reader.get_inclusion_proof(index, size).node_hashes, root)


def test_a_tampered_tile_is_caught_by_both_readers(log: StaticLog, tmp_path: Path) -> None:
    tampered = StaticLog(tmp_path / "copy", log.origin)
    for path in log.folder.rglob("*"):
        if path.is_file():
            tampered.write(str(path.relative_to(log.folder)), path.read_bytes())
    victim = "tile/0/001"
    data = bytearray(tampered.read(victim))
    data[40] ^= 1
    tampered.write(victim, bytes(data))
    reader = _reader(tampered)
    cp = reader.get_checkpoint()
    # their reader: the proof for leaf 256 now carries the tampered hash of leaf 257 and fails their check
    proof = reader.get_inclusion_proof(256, cp.size)
    with pytest.raises(InclusionProofInvalid):
        proof.check(leaf_hash(log.entries[256]), cp.root_hash)

    def fetch(tile):  # type: ignore[no-untyped-def]
        return tampered.read(tile.path())

    ours = TileHashReader(cp.size, cp.root_hash, fetch)
    with pytest.raises(TileError):
        ours.read_hashes([stored_hash_index(0, 257)])


def test_we_read_a_log_their_writer_wrote(tmp_path: Path) -> None:
    origin = "theirs.example/log"
    sk, _ = generate_key(origin)
    seed = parse_signer_key(sk)._key.private_bytes_raw()  # noqa: SLF001 - hand the same key to their signer
    signer = PlainEd25519Signer(origin, seed)
    writer = TilesWriter.create(tmp_path / "log", origin)
    entries = [f"entry {i}".encode() for i in range(700)]
    for chunk in (entries[:3], entries[3:300], entries[300:]):
        for entry in chunk:
            writer.add_leaf(entry)
        writer.commit([signer])

    root_dir = tmp_path / "log"
    vkey = parse_verifier_key(signer.vkey.serialize())
    opened = open_checkpoint((root_dir / "checkpoint").read_bytes(), origin=origin, log_keys=[vkey])
    cp = opened.checkpoint
    assert cp.size == 700

    def fetch(tile):  # type: ignore[no-untyped-def]
        return (root_dir / tile.path()).read_bytes()

    reader = TileHashReader(cp.size, cp.root_hash, fetch)
    assert tree_hash(cp.size, reader) == cp.root_hash
    bundles = sorted(p.relative_to(root_dir).as_posix() for p in (root_dir / "tile" / "entries").rglob("*")
                     if p.is_file())
    got = []
    for path in bundles:
        tile = parse_tile_path(path)
        if tile.start + tile.width <= cp.size and (tile.full or tile.start + tile.width == cp.size):
            got.extend(decode_bundle((root_dir / path).read_bytes(), count=tile.width))
    assert got == entries
    assert reader.read_hashes([stored_hash_index(0, i) for i in (0, 299, 699)]) == [
        leaf_hash(entries[i]) for i in (0, 299, 699)]
    with pytest.raises(ProofError):
        verify_inclusion(0, cp.size, leaf_hash(b"not logged"), prove_record(cp.size, 0, reader), cp.root_hash)
