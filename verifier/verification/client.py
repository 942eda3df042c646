"""``liang verify``: check a badge from outside the service, with public keys and status lists only.

The client trusts nothing but the official origin: it fetches the JWKS and the
status lists from ``--server`` (cached on disk, honouring ``max-age``),
checks the credential's signature and validity dates itself, reads its bits in
the status lists, and, when the server answers, adds the live status and
revocation reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signer import dataintegrity
from signer.credentials import Issuer, verify_credential, verify_jws
from signer.errors import BadgeError, InvalidCredential, MalformedId
from signer.ids import normalise_badge_id
from signer.keys import b64url_decode
from signer.statuslist import decode_bits, get_bit

_TIMEOUT = 10
_MAX_BODY = 2 * 1024 * 1024


class ClientError(BadgeError):
    """The client could not complete a check (network, server answer)."""

    code = "client_error"


def default_server() -> str:
    """Return the server from LIANG_PUBLIC_URL (or the default)."""
    return os.environ.get("LIANG_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


class _Cache:
    """A small on-disk HTTP cache keyed by URL (body, ETag, expiry)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, url: str) -> Path:
        return self._root / hashlib.sha256(url.encode()).hexdigest()

    def load(self, url: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(url).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

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


class VerifyClient:
    """Verify targets against one official server."""

    def __init__(self, server: str, *, offline: bool = False, cache_dir: Path | None = None,
                 session: requests.Session | None = None) -> None:
        parts = urlsplit(server)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ClientError(f"--server must be an http(s) URL, not {server!r}")
        self.server = server.rstrip("/")
        self.issuer = Issuer(public_url=self.server)
        self._offline = offline
        root = cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liang"
        self._cache = _Cache(root)
        self._http = session or requests.Session()

    # -- fetching -----------------------------------------------------------------------------
    def _get(self, url: str, *, cached: bool = True) -> str:
        if not url.startswith(self.server + "/"):
            raise ClientError(f"refusing to fetch {url}: not on the official origin {self.server}")
        entry = self._cache.load(url) if cached else None
        now = time.time()
        if entry and (self._offline or entry["expires"] > now):
            return str(entry["body"])
        if self._offline:
            raise ClientError(f"offline and nothing cached for {url}")
        headers = {"If-None-Match": entry["etag"]} if entry and entry.get("etag") else {}
        try:
            response = self._http.get(url, headers=headers, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            if entry:
                return str(entry["body"])
            raise ClientError(f"cannot reach {self.server}: {type(exc).__name__}") from exc
        if response.status_code == 304 and entry:
            body = str(entry["body"])
        elif response.status_code == 200:
            if len(response.content) > _MAX_BODY:
                raise ClientError(f"answer from {url} is too large")
            body = response.text
        else:
            raise ClientError(f"{url} answered {response.status_code}")
        if cached:
            self._cache.store(url, {"body": body, "etag": response.headers.get("ETag"),
                                    "expires": now + _max_age(response.headers.get("Cache-Control", ""))})
        return body

    def _keys(self) -> dict[str, Ed25519PublicKey]:
        document = json.loads(self._get(self.issuer.jwks_url))
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "d" not in jwk:
                try:
                    keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
                except (ValueError, KeyError):
                    continue
        return keys

    def _resolver(self) -> Any:
        keys = self._keys()

        def resolve(kid: str) -> Ed25519PublicKey:
            if kid not in keys:
                raise InvalidCredential(f"key {kid[:64]} is not published by {self.server}", reason="unknown_key")
            return keys[kid]

        return resolve

    # -- verification ---------------------------------------------------------------------------
    def _credential_for(self, target: str) -> tuple[str | dict[str, Any], str | None]:
        """Return (compact JWS or JSON-LD credential, badge id or None) for any kind of target."""
        if target.count(".") == 2 and target.startswith("eyJ"):
            return target, None
        if _is_file(target):
            path = Path(target)
            data = path.read_bytes()[: 16 * 1024 * 1024 + 1]
            if data.lstrip()[:1] == b"{":  # a credential.json: the JSON-LD form with a Data Integrity proof
                return _json_credential(data), None
            from verifier.web.uploads import classify_verify_url, extract_from_upload

            found = extract_from_upload(data, max_bytes=16 * 1024 * 1024)
            if found.credential:
                return found.credential, None
            for text in found.qr_texts:
                badge_id = classify_verify_url(text, public_url=self.server)
                if badge_id:
                    return self._fetch_credential(badge_id), badge_id
            if found.qr_texts:
                raise ClientError(f"the picture's QR code points elsewhere ({found.qr_texts[0][:80]}): "
                                  "not an official verification link")
            raise ClientError("no badge credential or verification QR code in the file")
        if target.startswith(("http://", "https://")) and urlsplit(target).path.endswith("/credential.json"):
            return _json_credential(self._get(target, cached=False).encode("utf-8")), None
        if target.startswith(("http://", "https://")):
            from verifier.web.uploads import classify_verify_url

            badge_id = classify_verify_url(target, public_url=self.server)
            if badge_id is None:
                raise ClientError(f"{target[:100]} is not a verification link of {self.server}")
            return self._fetch_credential(badge_id), badge_id
        try:
            badge_id = normalise_badge_id(target)
        except MalformedId as exc:
            raise ClientError("TARGET is neither a file, a verify URL, a badge id nor a JWS") from exc
        return self._fetch_credential(badge_id), badge_id

    def _fetch_credential(self, badge_id: str) -> str:
        try:
            status = json.loads(self._get(f"{self.server}/api/v1/badges/{normalise_badge_id(badge_id)}", cached=False))
        except ClientError:
            raise
        except ValueError as exc:
            raise ClientError("the server's answer is not JSON") from exc
        if not isinstance(status, dict) or not status.get("credential"):
            raise ClientError("the server did not return a credential")
        return str(status["credential"])

    def verify(self, target: str) -> dict[str, Any]:
        """Return the outcome for ``target``: ``valid`` (bool), ``status``, printable ``lines``."""
        token, _ = self._credential_for(target)
        resolve = self._resolver()
        try:
            if isinstance(token, dict):
                cred = dataintegrity.verify(token, issuer=self.issuer, resolve_key=resolve)
            else:
                cred = verify_credential(token, issuer=self.issuer, resolve_key=resolve)
        except InvalidCredential as exc:
            return {"valid": False, "status": "invalid", "reason": exc.reason,
                    "lines": [f"INVALID: {exc.message}"]}
        now = datetime.now(UTC)
        status = "valid"
        if now < cred.valid_from:
            status = "not_yet_valid"
        elif now >= cred.valid_until:
            status = "expired"
        for entry in cred.status_entries:
            if self._bit(entry.list_url, entry.index, entry.purpose, resolve):
                status = "revoked" if entry.purpose == "revocation" else (
                    status if status == "revoked" else "suspended")
        live: dict[str, Any] | None = None
        if not self._offline:
            try:
                live = json.loads(self._get(f"{self.server}/api/v1/badges/{cred.badge_id}", cached=False))
            except (ClientError, ValueError):
                live = None
        if live and live.get("status") in {"revoked", "suspended", "expired", "not_yet_valid"}:
            status = live["status"] if status == "valid" or live["status"] == "revoked" else status
        subject = cred.payload["credentialSubject"]
        shop = subject.get("shop", {})
        lines = [f"{status.upper()}: {cred.badge_id} {shop.get('name', '')} ({shop.get('platform', '')})",
                 f"  hosts: {' '.join(shop.get('hosts', []))}",
                 f"  branch: {subject.get('source', {}).get('name', '')}",
                 f"  valid: {cred.payload['validFrom']} .. {cred.payload['validUntil']}",
                 f"  signed by key {cred.kid}"]
        revocation = (live or {}).get("revocation")
        if revocation:
            lines.append(f"  revoked: {revocation.get('reason')} at {revocation.get('at')}")
        return {"valid": status == "valid", "status": status, "badge_id": cred.badge_id,
                "revocation": revocation, "kid": cred.kid, "lines": lines}

    def _bit(self, list_url: str, index: int, purpose: str, resolve: Any) -> bool:
        token = self._get(list_url)
        parsed = verify_jws(token, issuer=self.issuer, resolve_key=resolve)
        subject = parsed.payload.get("credentialSubject", {})
        if parsed.payload.get("id") != list_url or subject.get("statusPurpose") != purpose:
            raise ClientError(f"status list {list_url} does not match the credential")
        return get_bit(decode_bits(subject.get("encodedList", "")), index)


