"""What ``liang verify`` asks the official origin: keys, status lists, the live record, the server's verdict.

Every document comes from ``--server`` only, through an on-disk cache that honours
``max-age``; each one used is recorded as :class:`Evidence` with the time it was fetched, and
an answer that could not be had (refused, timed out, 5xx, 429) is remembered as the reason
the server was unreachable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signer.credentials import Issuer
from signer.errors import InvalidCredential
from signer.ids import normalise_badge_id
from signer.keys import b64url_decode
from verifier.verification.evidence import ClientError, Evidence, _Cache, _max_age

_TIMEOUT = 10
_MAX_BODY = 2 * 1024 * 1024


class NotFound:
    """The server answered 404 for the badge: it does not exist (or is not public)."""


NOT_FOUND = NotFound()


class OfficialOrigin:
    """The one server a check trusts, and what was fetched from it during the current check."""

    def __init__(self, server: str, *, offline: bool, cache_dir: Path | None, session: requests.Session | None,
                 clock: Callable[[], float]) -> None:
        self.server = server
        self.issuer = Issuer(public_url=server)
        self.offline = offline
        root = cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liang"
        self._cache = _Cache(root)
        self._http = session or requests.Session()
        self._clock = clock
        self.evidence: dict[str, Evidence] = {}
        self.unreachable: str | None = None  # why the server could not be asked, if it could not

    def start(self) -> None:
        """Forget the evidence and the reachability of an earlier check."""
        self.evidence, self.unreachable = {}, None

    def get(self, url: str, *, cached: bool = True, refresh: bool = False) -> str:
        """Return the body at ``url``; cached documents are recorded as evidence with their age."""
        if not url.startswith(self.server + "/"):
            raise ClientError(f"refusing to fetch {url}: not on the official origin {self.server}")
        entry = self._cache.load(url) if cached else None
        now = self._clock()
        if entry and not refresh and (self.offline or 0 <= now - entry["fetched"] <= entry["ttl"]):
            return self._use(url, entry, from_network=False)
        if self.offline:
            raise ClientError(f"offline and nothing cached for {url}")
        headers = {"If-None-Match": entry["etag"]} if entry and entry.get("etag") else {}
        try:
            response = self._http.get(url, headers=headers, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            self.unreachable = f"cannot reach {self.server}: {type(exc).__name__}"
            if entry:  # the cached copy is used, and its age decides whether it may be trusted
                return self._use(url, entry, from_network=False)
            raise ClientError(self.unreachable) from exc
        if response.status_code == 304 and entry:
            body = str(entry["body"])
        elif response.status_code == 200:
            if len(response.content) > _MAX_BODY:
                raise ClientError(f"answer from {url} is too large")
            body = response.text
        elif entry and (response.status_code >= 500 or response.status_code == 429):
            self.unreachable = f"{self.server} answered {response.status_code}"
            return self._use(url, entry, from_network=False)
        else:
            raise ClientError(f"{url} answered {response.status_code}")
        fresh = {"body": body, "etag": response.headers.get("ETag"), "fetched": now,
                 "ttl": float(_max_age(response.headers.get("Cache-Control", "")))}
        if cached:
            self._cache.store(url, fresh)
            return self._use(url, fresh, from_network=True)
        return body

    def _use(self, url: str, entry: dict[str, Any], *, from_network: bool) -> str:
        self.evidence[url] = Evidence(url, float(entry["fetched"]), float(entry["ttl"]), from_network)
        return str(entry["body"])

    def keys(self, *, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        """Return the published Ed25519 keys by key id (private or malformed entries skipped)."""
        document = json.loads(self.get(self.issuer.jwks_url, refresh=refresh))
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "d" not in jwk:
                try:
                    keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
                except (ValueError, KeyError):
                    continue
        return keys

    def resolver(self, *, refresh: bool = False) -> Callable[[str], Ed25519PublicKey]:
        """Return a key resolver over the published keys: an unpublished key id is ``unknown_key``."""
        keys = self.keys(refresh=refresh)

        def resolve(kid: str) -> Ed25519PublicKey:
            if kid not in keys:
                raise InvalidCredential(f"key {kid[:64]} is not published by {self.server}", reason="unknown_key")
            return keys[kid]

        return resolve

    def live(self, badge_id: str) -> dict[str, Any] | NotFound | None:
        """Return the live JSON status, NOT_FOUND on a 404, None when the server cannot say."""
        url = f"{self.server}/api/v1/badges/{normalise_badge_id(badge_id)}"
        try:
            response = self._http.get(url, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            self.unreachable = f"cannot reach {self.server}: {type(exc).__name__}"
            return None
        if response.status_code == 404:
            return NOT_FOUND
        if response.status_code != 200 or len(response.content) > _MAX_BODY:
            self.unreachable = f"{url} answered {response.status_code}"
            return None
        try:
            body = response.json()
        except ValueError:
            self.unreachable = f"{url} did not answer JSON"
            return None
        return body if isinstance(body, dict) else None

    def server_verdict(self, token: str | dict[str, Any]) -> dict[str, Any] | None:
        """Ask the server what it makes of ``token`` (POST /api/v1/verify); None if it cannot say."""
        try:
            response = self._http.post(f"{self.server}/api/v1/verify", json={"credential": token}, timeout=_TIMEOUT)
            body = response.json() if response.status_code == 200 and len(response.content) <= _MAX_BODY else None
        except (requests.RequestException, ValueError):
            return None
        return body if isinstance(body, dict) else None

    def credential(self, badge_id: str) -> tuple[str, dict[str, Any]]:
        """Return a badge's current credential (compact JWS) and its live JSON status."""
        try:
            status = json.loads(self.get(f"{self.server}/api/v1/badges/{normalise_badge_id(badge_id)}", cached=False))
        except ClientError:
            raise
        except ValueError as exc:
            raise ClientError("the server's answer is not JSON") from exc
        if not isinstance(status, dict) or not status.get("credential"):
            raise ClientError("the server did not return a credential")
        return str(status["credential"]), status
