"""``liang verify``: check a badge from outside the service, with public keys and status lists only.

The client trusts nothing but the official origin: it fetches the JWKS and the
status lists from ``--server`` (cached on disk, honouring ``max-age``),
checks the credential's signature and validity dates itself, reads its bits in
the status lists, and, when the server answers, adds the live status and
revocation reason.

It never says VALID on stale or contradicted evidence:

* online, a live 404 is "not valid" (the badge does not exist: a forged credential), and a
  live record that contradicts the presented credential or the cached evidence (another
  credential, another key, another status) makes the client refetch the keys and the status
  lists and ask the server's verdict on the presented credential before answering;
* offline, or with the server unreachable, every piece of cached evidence carries the time it
  was fetched: a verdict that newer evidence could overturn (valid, suspended, unknown key)
  becomes ``cannot_check`` once anything used is past its ``ttl``, with the age of what was used.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signer import dataintegrity
from signer.credentials import Issuer, VerifiedCredential, verify_credential, verify_jws
from signer.errors import InvalidCredential, MalformedId
from signer.ids import normalise_badge_id
from signer.keys import b64url_decode
from signer.statuslist import decode_bits, get_bit
from verifier.verification.evidence import ClientError, Evidence, _Cache, _is_file, _json_credential, _max_age

_TIMEOUT = 10
_MAX_BODY = 2 * 1024 * 1024

#: ``status`` of a check whose evidence is too old to decide (exit status 1, like every non-valid answer).
CANNOT_CHECK = "cannot_check"
# Verdicts newer evidence could overturn: a key published since, a suspension lifted, a
# revocation or key withdrawal not yet seen. On evidence past its ttl they become CANNOT_CHECK.
# Revoked (final), expired (the credential's own dates) and a broken signature stand.
_REVISABLE = frozenset({"valid", "suspended", "unknown_key"})
# Reasons in the server's verdict on a presented credential that make it not valid whatever
# the client's own (possibly older) evidence says.
_SERVER_REFUSALS = frozenset({"key_withdrawn", "unknown_key", "bad_signature", "claims", "malformed",
                              "unsupported_alg", "not_found"})


def default_server() -> str:
    """Return the server from LIANG_PUBLIC_URL (or the default)."""
    return os.environ.get("LIANG_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


class _NotFound:
    """The server answered 404 for the badge: it does not exist (or is not public)."""


NOT_FOUND = _NotFound()


class VerifyClient:
    """Verify targets against one official server."""

    def __init__(self, server: str, *, offline: bool = False, cache_dir: Path | None = None,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.time) -> None:
        parts = urlsplit(server)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ClientError(f"--server must be an http(s) URL, not {server!r}")
        self.server = server.rstrip("/")
        self.issuer = Issuer(public_url=self.server)
        self._offline = offline
        root = cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liang"
        self._cache = _Cache(root)
        self._http = session or requests.Session()
        self._clock = clock
        self._evidence: dict[str, Evidence] = {}
        self._unreachable: str | None = None  # why the server could not be asked, if it could not

    # -- fetching -----------------------------------------------------------------------------
    def _get(self, url: str, *, cached: bool = True, refresh: bool = False) -> str:
        """Return the body at ``url``; cached documents are recorded as evidence with their age."""
        if not url.startswith(self.server + "/"):
            raise ClientError(f"refusing to fetch {url}: not on the official origin {self.server}")
        entry = self._cache.load(url) if cached else None
        now = self._clock()
        if entry and not refresh and (self._offline or now - entry["fetched"] <= entry["ttl"]):
            return self._use(url, entry, from_network=False)
        if self._offline:
            raise ClientError(f"offline and nothing cached for {url}")
        headers = {"If-None-Match": entry["etag"]} if entry and entry.get("etag") else {}
        try:
            response = self._http.get(url, headers=headers, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            self._unreachable = f"cannot reach {self.server}: {type(exc).__name__}"
            if entry:  # the cached copy is used, and its age decides whether it may be trusted
                return self._use(url, entry, from_network=False)
            raise ClientError(self._unreachable) from exc
        if response.status_code == 304 and entry:
            body = str(entry["body"])
        elif response.status_code == 200:
            if len(response.content) > _MAX_BODY:
                raise ClientError(f"answer from {url} is too large")
            body = response.text
        elif entry and (response.status_code >= 500 or response.status_code == 429):
            self._unreachable = f"{self.server} answered {response.status_code}"
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
        self._evidence[url] = Evidence(url, float(entry["fetched"]), float(entry["ttl"]),
                                       from_network)
        return str(entry["body"])

    def _keys(self, *, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        document = json.loads(self._get(self.issuer.jwks_url, refresh=refresh))
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "d" not in jwk:
                try:
                    keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
                except (ValueError, KeyError):
                    continue
        return keys

    def _resolver(self, *, refresh: bool = False) -> Any:
        keys = self._keys(refresh=refresh)

        def resolve(kid: str) -> Ed25519PublicKey:
            if kid not in keys:
                raise InvalidCredential(f"key {kid[:64]} is not published by {self.server}", reason="unknown_key")
            return keys[kid]

        return resolve

    def _live(self, badge_id: str) -> dict[str, Any] | _NotFound | None:
        """Return the live JSON status, NOT_FOUND on a 404, None when the server cannot say."""
        url = f"{self.server}/api/v1/badges/{normalise_badge_id(badge_id)}"
        try:
            response = self._http.get(url, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            self._unreachable = f"cannot reach {self.server}: {type(exc).__name__}"
            return None
        if response.status_code == 404:
            return NOT_FOUND
        if response.status_code != 200 or len(response.content) > _MAX_BODY:
            self._unreachable = f"{url} answered {response.status_code}"
            return None
        try:
            body = response.json()
        except ValueError:
            self._unreachable = f"{url} did not answer JSON"
            return None
        return body if isinstance(body, dict) else None

    def _server_verdict(self, token: str | dict[str, Any]) -> dict[str, Any] | None:
        """Ask the server what it makes of ``token`` (POST /api/v1/verify); None if it cannot say."""
        try:
            response = self._http.post(f"{self.server}/api/v1/verify", json={"credential": token}, timeout=_TIMEOUT)
            body = response.json() if response.status_code == 200 and len(response.content) <= _MAX_BODY else None
        except (requests.RequestException, ValueError):
            return None
        return body if isinstance(body, dict) else None

    # -- verification ---------------------------------------------------------------------------
    def _credential_for(self, target: str) -> tuple[str | dict[str, Any], dict[str, Any] | None]:
        """Return (compact JWS or JSON-LD credential, live JSON status if it was fetched) for any kind of target."""
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
                    return self._fetch_credential(badge_id)
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
            return self._fetch_credential(badge_id)
        try:
            badge_id = normalise_badge_id(target)
        except MalformedId as exc:
            raise ClientError("TARGET is neither a file, a verify URL, a badge id nor a JWS") from exc
        return self._fetch_credential(badge_id)

    def _fetch_credential(self, badge_id: str) -> tuple[str, dict[str, Any]]:
        try:
            status = json.loads(self._get(f"{self.server}/api/v1/badges/{normalise_badge_id(badge_id)}", cached=False))
        except ClientError:
            raise
        except ValueError as exc:
            raise ClientError("the server's answer is not JSON") from exc
        if not isinstance(status, dict) or not status.get("credential"):
            raise ClientError("the server did not return a credential")
        return str(status["credential"]), status

    def _evaluate(self, token: str | dict[str, Any], *, refresh: bool) -> tuple[VerifiedCredential, str]:
        """Check ``token`` (either form) against the keys and status lists; return it and its status word."""
        resolve = self._resolver(refresh=refresh)
        if isinstance(token, dict):
            cred = dataintegrity.verify(token, issuer=self.issuer, resolve_key=resolve)
        else:
            cred = verify_credential(token, issuer=self.issuer, resolve_key=resolve)
        now = datetime.fromtimestamp(self._clock(), UTC)
        status = "valid"
        if now < cred.valid_from:
            status = "not_yet_valid"
        elif now >= cred.valid_until:
            status = "expired"
        listed = self._listed_status(cred, resolve, refresh=refresh)
        if listed == "revoked" or (listed == "suspended" and status != "revoked"):
            status = listed
        return cred, status

    def _listed_status(self, cred: VerifiedCredential, resolve: Any, *, refresh: bool) -> str | None:
        """Return ``revoked``, ``suspended`` or None from the credential's status-list entries.

        All reading of ``credentialStatus`` happens here (one place to adapt to its shape).
        """
        found: str | None = None
        for entry in cred.status_entries:
            if self._bit(entry.list_url, entry.index, entry.purpose, resolve, refresh=refresh):
                if entry.purpose == "revocation":
                    found = "revoked"
                elif found is None:
                    found = "suspended"
        return found

    def _bit(self, list_url: str, index: int, purpose: str, resolve: Any, *, refresh: bool = False) -> bool:
        token = self._get(list_url, refresh=refresh)
        try:
            parsed = verify_jws(token, issuer=self.issuer, resolve_key=resolve)
        except InvalidCredential as exc:
            # a list re-signed with a key this run does not know yet (the keys were rotated or a
            # key withdrawn): say so instead of passing the list's problem off as the credential's
            raise ClientError(f"status list {list_url} does not verify: {exc.message}") from exc
        subject = parsed.payload.get("credentialSubject", {})
        if parsed.payload.get("id") != list_url or subject.get("statusPurpose") != purpose:
            raise ClientError(f"status list {list_url} does not match the credential")
        ttl = subject.get("ttl")
        evidence = self._evidence.get(list_url)
        if evidence and isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl >= 0:
            evidence.ttl = min(evidence.ttl, ttl / 1000)  # the list's own ttl (milliseconds) binds too
        return get_bit(decode_bits(subject.get("encodedList", "")), index)

    def _check(self, token: str | dict[str, Any]) -> tuple[VerifiedCredential, str, bool]:
        """Evaluate ``token``, refetching the keys once (online) when its key is not in the cached set."""
        try:
            cred, status = self._evaluate(token, refresh=False)
            return cred, status, False
        except (InvalidCredential, ClientError) as exc:
            if self._offline or self._unreachable or (
                    isinstance(exc, InvalidCredential) and exc.reason != "unknown_key"):
                raise
        # a key or a list signed since the cache was filled (rotation, withdrawal): ask again
        cred, status = self._evaluate(token, refresh=True)
        return cred, status, True

    def verify(self, target: str) -> dict[str, Any]:
        """Return the outcome for ``target``: ``valid`` (bool), ``status``, printable ``lines``."""
        self._evidence, self._unreachable = {}, None
        token, fetched = self._credential_for(target)
        live: dict[str, Any] | _NotFound | None = fetched
        try:
            cred, status, refreshed = self._check(token)
        except InvalidCredential as exc:
            return self._refused(token, exc)
        notes: list[str] = []
        if not self._offline and live is None:
            live = self._live_for(cred.badge_id)
        if live is NOT_FOUND:
            # the signature may be good (a stolen key), the badge it speaks for does not exist
            return self._refused(token, InvalidCredential(
                f"the server has no badge {cred.badge_id}: the credential is forged or the badge was withdrawn",
                reason="not_found"), cred=cred, ask_server=False)
        confirmed = isinstance(live, dict)
        if isinstance(live, dict) and self._contradicts(live, token, status):
            # The live record disagrees with what was presented or with the cached evidence:
            # answer only on keys and lists fetched now, and on the server's verdict.
            try:
                if not refreshed:
                    cred, status = self._evaluate(token, refresh=True)
            except InvalidCredential as exc:
                return self._refused(token, exc, cred=cred)
            verdict = self._server_verdict(token)
            if verdict and not verdict.get("verified") and verdict.get("reason") in _SERVER_REFUSALS:
                return self._refused(token, InvalidCredential(str(verdict.get("message") or verdict["reason"]),
                                                              reason=str(verdict["reason"])),
                                     cred=cred, ask_server=False)
            # without the server's verdict, only evidence fetched now may answer
            confirmed = bool(verdict) or all(e.from_network for e in self._evidence.values())
            if isinstance(token, str) and live.get("credential") and live.get("credential") != token:
                notes.append("  note: the server holds a newer credential for this badge")
        live_status = live.get("status") if isinstance(live, dict) else None
        if live_status in {"revoked", "suspended", "expired", "not_yet_valid"}:
            status = live_status if status == "valid" or live_status == "revoked" else status
        now = self._clock()
        if not confirmed and status in _REVISABLE:
            stale = [e for e in self._evidence.values()
                     if e.stale(now) or (isinstance(live, dict) and not e.from_network)]
            if stale:
                return self._cannot_check(cred.badge_id, cred.kid, stale, now)
        return self._outcome(cred, status, live if isinstance(live, dict) else None, notes, now)

    def _live_for(self, badge_id: str) -> dict[str, Any] | _NotFound | None:
        try:
            return self._live(badge_id)
        except MalformedId:
            return NOT_FOUND

    @staticmethod
    def _contradicts(live: dict[str, Any], token: str | dict[str, Any], status: str) -> bool:
        """Return whether the live record disagrees with the presented credential or our evidence.

        Another credential (re-signed after a key withdrawal, a renewal) or another key, or
        another status than the cached lists give (a revocation or reinstatement since).
        """
        current = live.get("credential")
        if isinstance(token, dict):  # the JSON-LD form: the live record holds the JWS form of it
            return live.get("status") != status
        return live.get("status") != status or (isinstance(current, str) and current != token)

    def _evidence_json(self, now: float) -> list[dict[str, Any]]:
        return [e.as_json(now) for e in self._evidence.values()]

    def _live_word(self, live: dict[str, Any] | None) -> str:
        if live is not None:
            return "checked"
        return "offline" if self._offline else "unavailable"

    def _refused(self, token: str | dict[str, Any], exc: InvalidCredential, *, cred: VerifiedCredential | None = None,
                 ask_server: bool = True) -> dict[str, Any]:
        """Return the outcome for a credential that does not verify (or CANNOT_CHECK if that rests on old keys)."""
        reason, message = exc.reason, exc.message
        if ask_server and reason == "unknown_key" and not self._offline and not self._unreachable:
            # the server names why: a withdrawn (compromised) key rather than merely an unknown one
            verdict = self._server_verdict(token)
            if verdict and not verdict.get("verified") and verdict.get("reason") in _SERVER_REFUSALS:
                reason, message = str(verdict["reason"]), str(verdict.get("message") or message)
        badge_id, kid = (cred.badge_id, cred.kid) if cred else (None, None)
        now = self._clock()
        stale = [e for e in self._evidence.values() if e.stale(now)]
        if reason in _REVISABLE and stale and (self._offline or self._unreachable):
            # "not published" on an old copy of the keys says nothing: a key may have been added since
            return self._cannot_check(badge_id, kid, stale, now, why=message)
        return {"valid": False, "status": "invalid", "reason": reason, "badge_id": badge_id, "kid": kid,
                "revocation": None, "live": "checked" if reason == "not_found" else self._live_word(None),
                "evidence": self._evidence_json(now), "lines": [f"INVALID: {message}"]}

    @staticmethod
    def _ages(evidence: list[Evidence], now: float) -> str:
        return ", ".join(f"{_short(e.url)} {int(e.age(now))} s old (ttl {int(e.ttl)} s)" for e in evidence)

    def _cannot_check(self, badge_id: str | None, kid: str | None, stale: list[Evidence], now: float, *,
                      why: str | None = None) -> dict[str, Any]:
        """Return the CANNOT_CHECK outcome, naming the age of the evidence that was all there was."""
        cause = "offline" if self._offline else (self._unreachable or "the server did not confirm")
        oldest = max(e.age(now) for e in stale)
        subject = badge_id or "the credential"
        return {
            "valid": False, "status": CANNOT_CHECK, "reason": "stale_evidence", "badge_id": badge_id,
            "kid": kid, "revocation": None, "live": self._live_word(None),
            "evidence": self._evidence_json(now), "evidence_age_seconds": int(oldest),
            "lines": [f"CANNOT CHECK: {subject}: {cause}, and the cached evidence is too old to decide"
                      + (f" ({why})" if why else ""),
                      f"  evidence: {self._ages(stale, now)}",
                      "  check again when the server can be reached"],
        }

    def _outcome(self, cred: VerifiedCredential, status: str, live: dict[str, Any] | None, notes: list[str],
                 now: float) -> dict[str, Any]:
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
        if live is None:
            cached = [e for e in self._evidence.values() if not e.from_network]
            why = "offline" if self._offline else (self._unreachable or "not available")
            lines.append(f"  live record: {why}; answered from keys and status lists"
                         + (f" ({self._ages(cached, now)})" if cached else ""))
        lines.extend(notes)
        return {"valid": status == "valid", "status": status, "badge_id": cred.badge_id,
                "revocation": revocation, "kid": cred.kid, "live": self._live_word(live),
                "evidence": self._evidence_json(now), "lines": lines}


def _short(url: str) -> str:
    path = urlsplit(url).path
    return "keys" if path.endswith("jwks.json") else f"status list {path.rsplit('/', 1)[-1]}"
