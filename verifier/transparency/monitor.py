"""``liang log monitor``: follow the log from its public tiles alone and refuse any inconsistency.

Each pass: read the log key (``/log/key``, pinned on first use, or given), open the latest
``/log/checkpoint`` with it, fetch the entry bundles the monitor has not yet seen (plus the one it
had partly seen, to check nothing in it changed), recompute every leaf hash and the root from
the entries themselves, compare the hash tiles the log serves with the recomputed ones, and keep
the state (size, root, the leaf hashes) for the next pass. The new tree must contain every entry
of the last one unchanged — the same leaves, so its root over the old size is the remembered root
— otherwise the history was rewritten and the pass fails with one line.

No Flask; the HTTP fetcher is injected.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signer.tlog import (
    Checkpoint,
    CosignatureVerifier,
    Ed25519Verifier,
    KeyFormatError,
    LogError,
    MemoryHashStore,
    Tile,
    decode_bundle,
    leaf_hash,
    new_tiles,
    open_checkpoint,
    parse_verifier_key,
    read_tile_data,
    stored_hashes_for_record_hash,
    tree_hash,
)

#: ``fetch(path) -> bytes | None``: a log resource below ``<server>/log/`` (None: 404).
Fetch = Callable[[str], bytes | None]


class MonitorError(LogError):
    """The log is inconsistent, or cannot be followed; the message is the one line to print."""

    code = "log_inconsistent"


@dataclass(frozen=True)
class Decision:
    """One log entry as the monitor prints it."""

    index: int
    raw: bytes

    def fields(self) -> dict[str, Any]:
        """Return the entry's JSON fields (or ``{"raw": ...}`` for an entry that is not a JSON object)."""
        try:
            value = json.loads(self.raw)
        except (ValueError, UnicodeDecodeError):
            value = None
        if not isinstance(value, dict):
            return {"index": self.index, "raw": self.raw.decode("utf-8", "replace")}
        return {"index": self.index, **value}

    def line(self) -> str:
        """Return a one-line text rendering: index, time, event, badge, state, reason."""
        f = self.fields()
        if "raw" in f:
            return f"#{self.index} {f['raw']}"
        parts = [f"#{self.index}", str(f.get("at", "")), str(f.get("event", ""))]
        for name in ("badge", "state", "reason", "branch", "kid"):
            if f.get(name) not in (None, ""):
                parts.append(f"{name}={f[name]}")
        return " ".join(p for p in parts if p)


class MonitorState:
    """What the monitor saw last for one log: a JSON file and the leaf hashes beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hashes_path = path.with_suffix(".hashes")
        self.origin: str | None = None
        self.vkey: str | None = None
        self.size = 0
        self.root: bytes | None = None
        self.leaves: list[bytes] = []

    def load(self) -> None:
        """Read the state; a state that does not parse or whose hashes do not give its root is refused."""
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.origin, self.vkey, self.size = str(data["origin"]), str(data["vkey"]), int(data["size"])
            self.root = base64.b64decode(data["root"], validate=True)
            raw = self.hashes_path.read_bytes()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MonitorError(f"monitor state {self.path} is unreadable: remove it to start over") from exc
        if len(raw) != 32 * self.size:
            raise MonitorError(f"monitor state {self.path} is damaged: remove it to start over")
        self.leaves = [raw[i:i + 32] for i in range(0, len(raw), 32)]

    def save(self, checkpoint: Checkpoint, vkey: str, leaves: list[bytes]) -> None:
        """Write the new state atomically (hashes first, then the file that names their count)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _atomic(self.hashes_path, b"".join(leaves))
        _atomic(self.path, json.dumps({"origin": checkpoint.origin, "vkey": vkey, "size": checkpoint.size,
                                       "root": base64.b64encode(checkpoint.root_hash).decode()}).encode())


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def default_state_path(server: str, cache_dir: Path | None = None) -> Path:
    """Return the state file for ``server`` under ``$XDG_CACHE_HOME/liang/monitor``."""
    root = cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liang"
    return root / "monitor" / (hashlib.sha256(server.encode()).hexdigest()[:32] + ".json")


class Monitor:
    """Follow one log through ``fetch``; :meth:`run` yields each new decision after it is verified."""

    def __init__(self, fetch: Fetch, state: MonitorState, *, key: str | None = None,
                 witnesses: Sequence[CosignatureVerifier] = (), quorum: int = 0) -> None:
        self.fetch = fetch
        self.state = state
        self.given_key = key
        self.witnesses = list(witnesses)
        self.quorum = quorum

    def _get(self, path: str) -> bytes:
        data = self.fetch(path)
        if data is None:
            raise MonitorError(f"the log does not serve {path}")
        return data

    def _key(self) -> tuple[str, Ed25519Verifier]:
        if self.given_key:
            text = self.given_key.strip()
        else:
            text = self._get("key").decode("utf-8", "replace").strip()
            if self.state.vkey and text != self.state.vkey:
                raise MonitorError(f"the log key changed from {self.state.vkey} to {text}: a rotation must be "
                                   "announced; check it and pass the new key with --key")
        try:
            key = parse_verifier_key(text)
        except KeyFormatError as exc:
            raise MonitorError(f"the log key is malformed: {exc.message}") from exc
        if type(key) is not Ed25519Verifier:
            raise MonitorError("the log key is not an Ed25519 note key")
        return text, key

    def verify(self) -> tuple[Checkpoint, str, list[Decision]]:
        """Check the latest checkpoint against the entries and the last state; return it, the key and the new decisions."""
        self.state.load()
        vkey, key = self._key()
        origin = self.state.origin or key.name
        note = self._get("checkpoint")
        try:
            checkpoint = open_checkpoint(note, origin=origin, log_keys=[key], witnesses=self.witnesses,
                                         quorum=self.quorum).checkpoint
        except LogError as exc:
            raise MonitorError(f"the checkpoint does not verify: {exc.message}") from exc
        old = self.state.size
        if checkpoint.size < old:
            raise MonitorError(f"the log shrank from {old} to {checkpoint.size} entries: history rewritten")

        store = MemoryHashStore()
        for i, h in enumerate(self.state.leaves):
            store.hashes.extend(stored_hashes_for_record_hash(i, h, store))
        if old and tree_hash(old, store) != self.state.root:
            raise MonitorError(f"monitor state {self.state.path} does not give its own root: remove it to start over")

        decisions = []
        first_tile = old // 256
        for n in range(first_tile, (checkpoint.size + 255) // 256):
            width = min(256, checkpoint.size - n * 256)
            bundle = Tile(-1, n, width)
            try:
                entries = decode_bundle(self._get(bundle.path()), count=width)
            except LogError as exc:
                raise MonitorError(f"entry bundle {bundle.path()} is malformed: {exc.message}") from exc
            for i, entry in enumerate(entries):
                index = n * 256 + i
                h = leaf_hash(entry)
                if index < old:
                    if h != self.state.leaves[index]:
                        raise MonitorError(f"entry {index} was rewritten: the log's history changed")
                    continue
                store.hashes.extend(stored_hashes_for_record_hash(index, h, store))
                self.state.leaves.append(h)
                decisions.append(Decision(index, entry))
        if tree_hash(checkpoint.size, store) != checkpoint.root_hash:
            what = "is not a consistent extension of the last one seen" if old else "does not match its entries"
            raise MonitorError(f"checkpoint {checkpoint.size} {what}: history rewritten (a fork)")
        for tile in new_tiles(8, old, checkpoint.size):
            served = self.fetch(tile.path())
            if served is None:
                raise MonitorError(f"the log does not serve tile {tile.path()}")
            if served != read_tile_data(tile, store):
                raise MonitorError(f"tile {tile.path()} does not match the entries: the log serves a tampered tile")
        return checkpoint, vkey, decisions

    def run(self) -> Iterator[Decision]:
        """Verify, then yield the new decisions; the state is saved only once everything verified."""
        checkpoint, vkey, decisions = self.verify()
        self.state.save(checkpoint, vkey, self.state.leaves)
        self.state.origin, self.state.vkey = checkpoint.origin, vkey
        self.state.size, self.state.root = checkpoint.size, checkpoint.root_hash
        yield from decisions

