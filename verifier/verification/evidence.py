"""What ``liang verify`` rests on: the on-disk cache of keys and lists, each piece of evidence and its age."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signer.clock import isoformat_z
from signer.errors import BadgeError


class ClientError(BadgeError):
    """The client could not complete a check (network, server answer)."""

    code = "client_error"


class _Cache:
    """A small on-disk HTTP cache keyed by URL (body, ETag, fetch time, ttl)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, url: str) -> Path:
        return self._root / hashlib.sha256(url.encode()).hexdigest()

    def load(self, url: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(self._path(url).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("body"), str):
            return None
        if "fetched" not in entry:
            # written by an older client: only its expiry is known, so it counts as fetched
            # then with no time to live left.
            entry["fetched"], entry["ttl"] = float(entry.get("expires", 0)), 0.0
        return entry

    def store(self, url: str, entry: dict[str, Any]) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            tmp = self._path(url).with_suffix(".tmp")
            tmp.write_text(json.dumps(entry), encoding="utf-8")
            tmp.replace(self._path(url))
        except OSError:
            pass  # a cache that cannot be written only costs a refetch


def _max_age(cache_control: str) -> int:
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.isdigit():
            return int(value)
    return 0


def _json_credential(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ClientError("the file is neither a badge image nor a JSON credential") from exc
    if not isinstance(document, dict):
        raise ClientError("a JSON credential is a JSON object")
    return document


def _is_file(target: str) -> bool:
    try:
        return len(target) < 4096 and Path(target).is_file()
    except (OSError, ValueError):  # names too long for the file system, NUL bytes
        return False


@dataclass
class Evidence:
    """One document a verdict rests on, and how old it is."""

    url: str
    fetched: float  # POSIX time of the fetch (or of the last 304 revalidation)
    ttl: float  # seconds the issuer lets it be trusted after the fetch
    from_network: bool  # fetched (or revalidated) during this run

    def age(self, now: float) -> float:
        """Return the seconds since the fetch."""
        return max(0.0, now - self.fetched)

    def stale(self, now: float) -> bool:
        """Return whether it is past its time to live; a fetch time in the future is stale too (no clock
        the client trusts ever wrote it: a tampered cache or a clock set back)."""
        return self.fetched > now or self.age(now) > self.ttl

    def as_json(self, now: float) -> dict[str, Any]:
        """Return the machine-readable description of this evidence."""
        return {"url": self.url, "source": "network" if self.from_network else "cache",
                "fetched_at": isoformat_z(datetime.fromtimestamp(self.fetched, UTC)),
                "age_seconds": int(self.age(now)), "ttl_seconds": int(self.ttl), "stale": self.stale(now)}
