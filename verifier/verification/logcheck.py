"""``liang verify``'s log check: the badge's decisions are in a signed, consistent public log.

For a badge, the client reads ``GET /api/v1/badges/<id>/log`` (the entries with inclusion proofs
and the signed checkpoint), and checks:

* the checkpoint is signed by the log key — configured (``--log-key``, ``LIANG_LOG_KEY``) or
  pinned on first use in ``$XDG_CONFIG_HOME/liang/log-keys.json`` (outside the cache: a trust
  anchor is not a cache entry) — and, with a witness policy, cosigned by enough named witnesses;
* every entry, the latest decision included, is in that checkpoint (RFC 6962 inclusion proof);
* the checkpoint is consistent with the last one this client saw for the log (kept under
  ``$XDG_CACHE_HOME/liang/log/``): both roots are recomputed from the log's tiles, each tile
  checked against the newer signed root. A rewritten history is refused, never VALID.

The proof is cached as served and verified again on every read, so offline the client still
knows which credentials the log vouches for (``credential_sha256``): a key slipped into the
cached key set cannot make a credential the log never recorded VALID.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signer.tlog import (
    CosignatureVerifier,
    Ed25519Verifier,
    LogError,
    Tile,
    TileError,
    TileHashReader,
    b64decode,
    leaf_hash,
    open_checkpoint,
    parse_verifier_key,
    tree_hash,
    verify_inclusion,
)
from signer.tlog.checkpoint import VerifiedCheckpoint
from verifier.verification.evidence import ClientError

#: ``fetch(path) -> bytes | None`` for resources under ``<server>/log/`` (None: 404).
Fetch = Callable[[str], bytes | None]


class LogRefused(ClientError):
    """The log contradicts itself or the credential: the answer is refused, never VALID."""

    code = "log_refused"


@dataclass
class LogResult:
    """What the log says about the badge, once verified."""

    origin: str
    index: int
    size: int
    at: str | None
    credential_hashes: set[str] = field(default_factory=set)
    cosigners: list[str] = field(default_factory=list)
    consistency: str = "first"  # "first", "consistent", "not checked (offline)"

    def vouches_for(self, token: str) -> bool:
        """Tell whether the log recorded this exact credential (its SHA-256) for the badge."""
        return hashlib.sha256(token.encode("utf-8")).hexdigest() in self.credential_hashes

    def line(self) -> str:
        """Return the line ``liang verify`` prints."""
        if self.index < 0:
            return (f"  log: no decision of this badge is in the signed checkpoint of {self.size} entries yet "
                    f"(a new checkpoint follows within seconds); history {self.consistency}")
        witnessed = f", cosigned by {', '.join(self.cosigners)}" if self.cosigners else ""
        return (f"  log: latest decision is entry {self.index}{f' ({self.at})' if self.at else ''}, in the signed "
                f"checkpoint of {self.size} entries of {self.origin}{witnessed}; history {self.consistency}")


def _config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "liang"


class LogPins:
    """The log key trusted per server: pinned on first use, kept with the user's configuration."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or _config_dir() / "log-keys.json"

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, server: str) -> str | None:
        """Return the pinned key of ``server``'s log, if any."""
        return self._load().get(server)

    def pin(self, server: str, vkey: str) -> None:
        """Pin ``vkey`` for ``server``."""
        pins = self._load()
        pins[server] = vkey
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pins, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)


def tile_fetcher(fetch: Fetch) -> Callable[[Any], bytes]:
    """Return ``fetch_tile(tile)``; a partial tile no longer served is cut from its full tile (C2SP allows it)."""

    def fetch_tile(tile: Tile) -> bytes:
        data = fetch(tile.path())
        if data is None and not tile.full:
            full = fetch(Tile(tile.level, tile.n, 256).path())
            data = full[:32 * tile.width] if full is not None else None
        if data is None:
            raise TileError(f"the log does not serve {tile.path()}")
        return data

    return fetch_tile


class LogChecker:
    """Check a badge's log proof for one server; remembers the last checkpoint per log origin."""

    def __init__(self, server: str, *, fetch: Fetch | None, cache_dir: Path, log_key: str | None = None,
                 witnesses: Iterable[str] = (), quorum: int | None = None, pins: LogPins | None = None) -> None:
        self.server = server
        self.fetch = fetch  # None: offline
        self.dir = cache_dir / "log"
        self.pins = pins or LogPins()
        self.configured = log_key or os.environ.get("LIANG_LOG_KEY") or None
        self.witnesses: list[CosignatureVerifier] = []
        for text in witnesses:
            try:
                witness = parse_verifier_key(text)
            except LogError as exc:
                raise ClientError(f"--witness: {exc.message}") from exc
            if not isinstance(witness, CosignatureVerifier):
                raise ClientError("--witness takes a witness's cosignature key (type 0x04)")
            self.witnesses.append(witness)
        self.quorum = len(self.witnesses) if quorum is None else quorum

    # -- the log key ---------------------------------------------------------------------------
    def key(self) -> Ed25519Verifier | None:
        """Return the trusted log key: configured, pinned, or (online) read from /log/key and pinned now."""
        text = self.configured or self.pins.get(self.server)
        if text is None and self.fetch is not None:
            served = self.fetch("key")
            if served is None:
                return None
            text = served.decode("utf-8", "replace").strip()
            self._parse_key(text)
            self.pins.pin(self.server, text)
        return self._parse_key(text) if text else None

    def pin_hint(self) -> str:
        """Return advice when the pinned (not configured) key no longer matches what the server serves."""
        if self.configured or self.fetch is None or not self.pins.get(self.server):
            return ""
        try:
            served = (self.fetch("key") or b"").decode("utf-8", "replace").strip()
        except LogError:
            return ""
        if served and served != self.pins.get(self.server):
            return (f" (the server now serves the log key {served[:80]}, not the one pinned on first use in "
                    f"{self.pins.path}: a log key rotation is announced in advance; if this one is genuine, "
                    "pass it with --log-key or remove the pin)")
        return ""

    @staticmethod
    def _parse_key(text: str) -> Ed25519Verifier:
        try:
            key = parse_verifier_key(text)
        except LogError as exc:
            raise LogRefused(f"the log key {text[:60]!r} is malformed: {exc.message}") from exc
        if type(key) is not Ed25519Verifier:
            raise LogRefused("the log key is not an Ed25519 note key")
        return key

    # -- cached proofs, verified again on read ---------------------------------------------------
    def _proof_path(self, badge_id: str) -> Path:
        return self.dir / "proofs" / (hashlib.sha256(f"{self.server}|{badge_id}".encode()).hexdigest() + ".json")

    def store_proof(self, badge_id: str, body: str) -> None:
        """Keep the proof document exactly as served (it is verified again whenever it is read)."""
        path = self._proof_path(badge_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(body, encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass

    def cached_proof(self, badge_id: str) -> str | None:
        """Return the proof document cached for the badge, if any."""
        try:
            return self._proof_path(badge_id).read_text(encoding="utf-8")
        except OSError:
            return None

    # -- the check ---------------------------------------------------------------------------------
    def check(self, badge_id: str, body: str, key: Ed25519Verifier) -> LogResult:
        """Verify a proof document for ``badge_id``; raise :class:`LogRefused` when the log fails any check."""
        try:
            doc = json.loads(body)
            note = str(doc["checkpoint"]).encode("utf-8")
            entries = doc["entries"]
            if not isinstance(entries, list):
                raise ValueError("no entries")
        except (ValueError, KeyError, TypeError) as exc:
            raise LogRefused(f"the log proof for {badge_id} is malformed") from exc
        try:
            verified = open_checkpoint(note, origin=key.name, log_keys=[key], witnesses=self.witnesses,
                                       quorum=self.quorum)
        except LogError as exc:
            raise LogRefused(f"the log checkpoint does not verify: {exc.message}") from exc
        cp = verified.checkpoint
        result = LogResult(cp.origin, -1, cp.size, None, cosigners=sorted(verified.cosignatures))
        for item in entries:
            try:
                index, leaf = int(item["index"]), str(item["leaf"])
                proof = [b64decode(h) for h in item["proof"]]
                verify_inclusion(index, cp.size, leaf_hash(leaf.encode("utf-8")), proof, cp.root_hash)
                entry = json.loads(leaf)
            except (LogError, ValueError, KeyError, TypeError) as exc:
                raise LogRefused(f"log entry {item.get('index') if isinstance(item, dict) else '?'} is not in the "
                                 f"signed checkpoint of {cp.size} entries") from exc
            if not isinstance(entry, dict) or _plain(entry.get("badge")) != _plain(badge_id):
                raise LogRefused(f"log entry {index} is not about badge {badge_id}")
            if isinstance(entry.get("credential_sha256"), str):
                result.credential_hashes.add(entry["credential_sha256"])
            if index > result.index:
                result.index, result.at = index, entry.get("at")
        return result

    # -- consistency with the last checkpoint seen ----------------------------------------------
    def _state_path(self, origin: str) -> Path:
        return self.dir / "checkpoints" / (hashlib.sha256(origin.encode()).hexdigest() + ".note")

    def last_seen(self, origin: str, key: Ed25519Verifier) -> VerifiedCheckpoint | None:
        """Return the last checkpoint seen for ``origin``, verified again (a damaged copy counts as none)."""
        try:
            note = self._state_path(origin).read_bytes()
            return open_checkpoint(note, origin=origin, log_keys=[key])
        except (OSError, LogError):
            return None

    def check_consistency(self, result: LogResult, body: str, key: Ed25519Verifier) -> None:
        """Check the proof's checkpoint against the last one seen (from tiles), then remember the larger."""
        note = str(json.loads(body)["checkpoint"]).encode("utf-8")
        new = open_checkpoint(note, origin=result.origin, log_keys=[key]).checkpoint
        last = self.last_seen(result.origin, key)
        if last is None:
            result.consistency = "first seen by this client"
            self._remember(result.origin, note)
            return
        old = last.checkpoint
        if self.fetch is None:
            result.consistency = "not checked (offline)"
            return
        small, big = (old, new) if old.size <= new.size else (new, old)
        if small.size == big.size:
            consistent = small.root_hash == big.root_hash
        elif small.size == 0:
            consistent = True
        else:
            try:
                reader = TileHashReader(big.size, big.root_hash, tile_fetcher(self.fetch))
                consistent = tree_hash(small.size, reader) == small.root_hash
            except LogError as exc:
                if exc.code == "tile_inconsistent" and "inconsistent" in exc.message:
                    raise LogRefused(f"the log serves tiles that do not match its checkpoint: {exc.message}") from exc
                raise ClientError(f"cannot check the log's consistency: {exc.message}") from exc
        if not consistent:
            raise LogRefused(f"the log's history was rewritten: its checkpoint of {new.size} entries is not "
                             f"consistent with the checkpoint of {old.size} entries seen before")
        result.consistency = f"consistent with the checkpoint of {old.size} entries seen before"
        if new.size > old.size:
            self._remember(result.origin, note)

    def _remember(self, origin: str, note: bytes) -> None:
        path = self._state_path(origin)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(note)
            tmp.replace(path)
        except OSError:
            pass


def _plain(badge_id: Any) -> str:
    return str(badge_id or "").replace("-", "").upper()
