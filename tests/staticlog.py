"""A tiny static C2SP tiled log written to a folder with signer.tlog, for tests of readers.

``StaticLog(folder, origin)`` appends entries, publishes signed checkpoints with the tiles and
entry bundles each one needs (partial tiles of earlier checkpoints stay, as on a real log), and
can be served by a loopback ``http.server`` (:func:`serve`). Tests tamper with its files to play
a misbehaving log.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

from signer.tlog import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    MemoryHashStore,
    Tile,
    encode_bundle,
    generate_key,
    new_tiles,
    parse_signer_key,
    read_tile_data,
    sign_checkpoint,
    sign_note,
    tree_hash,
)


class StaticLog:
    """An append-only log published as static files under ``folder`` (``checkpoint``, ``tile/...``)."""

    def __init__(self, folder: Path, origin: str = "log.example/log", *, skey: str | None = None) -> None:
        self.folder = folder
        self.origin = origin
        folder.mkdir(parents=True, exist_ok=True)
        if skey is None:
            skey, _ = generate_key(origin)
        signer = parse_signer_key(skey)
        assert isinstance(signer, Ed25519Signer) and not isinstance(signer, CosignatureSigner)
        self.signer = signer
        self.vkey = signer.verifier.vkey()
        self.write("key", self.vkey.encode() + b"\n")  # /log/key
        self.store = MemoryHashStore()
        self.entries: list[bytes] = []
        self.published = 0
        self.checkpoints: dict[int, bytes] = {}

    def append(self, *entries: bytes) -> None:
        """Append entries (not yet published)."""
        for entry in entries:
            assert self.store.append_record(entry) == len(self.entries)
            self.entries.append(entry)

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the tree of ``size`` (default: everything appended)."""
        return tree_hash(len(self.entries) if size is None else size, self.store)

    def signed_checkpoint(self, size: int | None = None, *, root: bytes | None = None) -> bytes:
        """Return a signed checkpoint for ``size`` (optionally with a forged ``root``) without publishing it."""
        size = len(self.entries) if size is None else size
        return sign_checkpoint(Checkpoint(self.origin, size, root if root is not None else self.root(size)),
                               [self.signer])

    def publish(self, *witnesses: CosignatureSigner) -> bytes:
        """Write the tiles and bundles the new size needs and the signed checkpoint; return the checkpoint."""
        size = len(self.entries)
        for tile in new_tiles(8, self.published, size):
            self.write(tile.path(), read_tile_data(tile, self.store))
            if tile.level == 0:
                bundle = tile.for_entries()
                start = bundle.n * 256
                self.write(bundle.path(), encode_bundle(self.entries[start:start + bundle.width]))
        note = self.signed_checkpoint(size)
        for witness in witnesses:
            note += sign_note(Checkpoint(self.origin, size, self.root(size)).text(), [witness]).split(b"\n\n", 1)[1]
        self.write("checkpoint", note)
        self.published = size
        self.checkpoints[size] = note
        return note

    def write(self, relative: str, data: bytes) -> None:
        """Write a file of the log (tests use it to tamper)."""
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def read(self, relative: str) -> bytes:
        """Return a file of the log."""
        return (self.folder / relative).read_bytes()

    def tile_file(self, tile: Tile) -> Path:
        """Return the file of a tile."""
        return self.folder / tile.path()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a loopback port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
