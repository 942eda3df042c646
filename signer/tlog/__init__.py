"""A transparency log's pure parts: RFC 6962 Merkle trees, C2SP tiles, signed notes, checkpoints,
cosignatures and tlog-proof texts. No Flask, no database: callers inject storage as a
:class:`~signer.tlog.merkle.HashReader` and fetchers as plain callables.

Every error is a :class:`~signer.tlog.errors.LogError`.
"""

from signer.tlog.checkpoint import Checkpoint, VerifiedCheckpoint, open_checkpoint, parse_checkpoint, sign_checkpoint
from signer.tlog.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    cosignature_timestamp,
    cosigned_message,
    verify_cosignatures,
)
from signer.tlog.errors import (
    AmbiguousKey,
    CheckpointError,
    InvalidNoteSignature,
    KeyFormatError,
    LogError,
    MalformedLogData,
    MalformedNote,
    ProofError,
    TileError,
    UnknownKey,
    UnverifiedNote,
)
from signer.tlog.keys import generate_key, parse_signer_key, parse_verifier_key
from signer.tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    HashReader,
    MemoryHashStore,
    leaf_hash,
    node_hash,
    record_count,
    root_from_leaf_hashes,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes,
    stored_hashes_for_record_hash,
    tree_hash,
)
from signer.tlog.note import (
    Ed25519Signer,
    Ed25519Verifier,
    Note,
    NoteSigner,
    NoteVerifier,
    Signature,
    Verifiers,
    b64decode,
    b64encode,
    key_id,
    open_note,
    parse_note,
    sign_note,
)
from signer.tlog.proofs import check_record, check_tree, prove_record, prove_tree, verify_consistency, verify_inclusion
from signer.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    TileHashReader,
    decode_bundle,
    encode_bundle,
    hash_from_tile,
    new_tiles,
    parse_go_tile_path,
    parse_tile_path,
    read_tile_data,
    tile_for_index,
    tile_hash,
    tile_parent,
    tiles_for_size,
)
from signer.tlog.tlogproof import TlogProof, format_proof, parse_proof

__all__ = [
    "EMPTY_ROOT", "HASH_SIZE", "TILE_HEIGHT", "TILE_WIDTH",
    "AmbiguousKey", "Checkpoint", "CheckpointError", "CosignatureSigner", "CosignatureVerifier",
    "Ed25519Signer", "Ed25519Verifier", "HashReader", "InvalidNoteSignature", "KeyFormatError", "LogError",
    "MalformedLogData", "MalformedNote", "MemoryHashStore", "Note", "NoteSigner", "NoteVerifier", "ProofError",
    "Signature", "Tile", "TileError", "TileHashReader", "TlogProof", "UnknownKey", "UnverifiedNote",
    "VerifiedCheckpoint", "Verifiers",
    "b64decode", "b64encode", "check_record", "check_tree", "cosignature_timestamp", "cosigned_message",
    "decode_bundle", "encode_bundle", "format_proof", "generate_key", "hash_from_tile", "key_id", "leaf_hash",
    "new_tiles", "node_hash", "open_checkpoint", "open_note", "parse_checkpoint", "parse_go_tile_path", "parse_note",
    "parse_proof", "parse_signer_key", "parse_tile_path", "parse_verifier_key", "prove_record", "prove_tree",
    "read_tile_data", "record_count", "root_from_leaf_hashes", "sign_checkpoint", "sign_note",
    "split_stored_hash_index", "stored_hash_count", "stored_hash_index", "stored_hashes",
    "stored_hashes_for_record_hash", "tile_for_index", "tile_hash", "tile_parent", "tiles_for_size", "tree_hash",
    "verify_consistency", "verify_inclusion", "verify_cosignatures",
]
