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

This module decides; ``fetch`` gets the documents (and records the evidence), ``outcome``
writes the answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from signer import dataintegrity
from signer.credentials import VerifiedCredential, verify_credential, verify_jws
from signer.errors import InvalidCredential, MalformedId
from signer.ids import normalise_badge_id
from signer.statuslist import decode_bits, get_bit
from verifier.transparency.remote import http_fetcher
from verifier.verification import outcome
from verifier.verification.evidence import ClientError, _is_file, _json_credential
from verifier.verification.fetch import NOT_FOUND, NotFound, OfficialOrigin
from verifier.verification.logcheck import LogChecker, LogPins
from verifier.verification.logverdict import with_log
from verifier.verification.outcome import CANNOT_CHECK
from verifier.verification.scan import classify_verify_url, extract_from_upload

__all__ = ["CANNOT_CHECK", "NOT_FOUND", "ClientError", "VerifyClient", "default_server"]

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


class VerifyClient:
    """Verify targets against one official server."""

    def __init__(self, server: str, *, offline: bool = False, cache_dir: Path | None = None,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.time,
                 log_key: str | None = None, witnesses: tuple[str, ...] = (), witness_quorum: int | None = None,
                 log_pins: LogPins | None = None) -> None:
        parts = urlsplit(server)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ClientError(f"--server must be an http(s) URL, not {server!r}")
        self.server = server.rstrip("/")
        self._origin = OfficialOrigin(self.server, offline=offline, cache_dir=cache_dir, session=session, clock=clock)
        self.issuer = self._origin.issuer
        self._offline = offline
        self._clock = clock
        self._session = session or requests.Session()
        root = cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liang"
        self._log = LogChecker(self.server, fetch=None if offline else http_fetcher(self.server + "/log/", self._session),
                               cache_dir=root, log_key=log_key, witnesses=witnesses, quorum=witness_quorum,
                               pins=log_pins)

    def _credential_for(self, target: str) -> tuple[str | dict[str, Any], dict[str, Any] | None]:
        """Return (compact JWS or JSON-LD credential, live JSON status if it was fetched) for any kind of target."""
        if target.count(".") == 2 and target.startswith("eyJ"):
            return target, None
        if _is_file(target):
            path = Path(target)
            data = path.read_bytes()[: 16 * 1024 * 1024 + 1]
            if data.lstrip()[:1] == b"{":  # a credential.json: the JSON-LD form with a Data Integrity proof
                return _json_credential(data), None

            found = extract_from_upload(data, max_bytes=16 * 1024 * 1024)
            if found.credential:
                return found.credential, None
            for text in found.qr_texts:
                badge_id = classify_verify_url(text, public_url=self.server)
                if badge_id:
                    return self._origin.credential(badge_id)
            if found.qr_texts:
                raise ClientError(f"the picture's QR code points elsewhere ({found.qr_texts[0][:80]}): "
                                  "not an official verification link")
            raise ClientError("no badge credential or verification QR code in the file")
        if target.startswith(("http://", "https://")) and urlsplit(target).path.endswith("/credential.json"):
            return _json_credential(self._origin.get(target, cached=False).encode("utf-8")), None
        if target.startswith(("http://", "https://")):
            badge_id = classify_verify_url(target, public_url=self.server)
            if badge_id is None:
                raise ClientError(f"{target[:100]} is not a verification link of {self.server}")
            return self._origin.credential(badge_id)
        try:
            badge_id = normalise_badge_id(target)
        except MalformedId as exc:
            raise ClientError("TARGET is neither a file, a verify URL, a badge id nor a JWS") from exc
        return self._origin.credential(badge_id)

    def _evaluate(self, token: str | dict[str, Any], *, refresh: bool) -> tuple[VerifiedCredential, str]:
        """Check ``token`` (either form) against the keys and status lists; return it and its status word."""
        resolve = self._origin.resolver(refresh=refresh)
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
        token = self._origin.get(list_url, refresh=refresh)
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
        evidence = self._origin.evidence.get(list_url)
        if evidence and isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl >= 0:
            evidence.ttl = min(evidence.ttl, ttl / 1000)  # the list's own ttl (milliseconds) binds too
        return get_bit(decode_bits(subject.get("encodedList", "")), index)

    def _check(self, token: str | dict[str, Any]) -> tuple[VerifiedCredential, str, bool]:
        """Evaluate ``token``, refetching the keys once (online) when its key is not in the cached set."""
        try:
            cred, status = self._evaluate(token, refresh=False)
            return cred, status, False
        except (InvalidCredential, ClientError) as exc:
            if self._offline or self._origin.unreachable or (
                    isinstance(exc, InvalidCredential) and exc.reason != "unknown_key"):
                raise
        # a key or a list signed since the cache was filled (rotation, withdrawal): ask again
        cred, status = self._evaluate(token, refresh=True)
        return cred, status, True

    def verify(self, target: str) -> dict[str, Any]:
        """Return the outcome for ``target``: ``valid`` (bool), ``status``, printable ``lines``.

        A verified credential is then checked against the public log (``logverdict``): a log that
        contradicts itself or the credential turns any answer into a refusal, never VALID.
        """
        self._origin.start()
        token, fetched = self._credential_for(target)
        result = self._verify_token(token, fetched)
        if "reason" not in result:  # the credential verified: now the log must agree
            return with_log(self._log, self._origin, self._session, result, token, self._live_seen, self._clock())
        return result

    def _verify_token(self, token: str | dict[str, Any], fetched: dict[str, Any] | None) -> dict[str, Any]:
        self._live_seen: dict[str, Any] | None = fetched
        live: dict[str, Any] | NotFound | None = fetched
        try:
            cred, status, refreshed = self._check(token)
        except InvalidCredential as exc:
            return self._refused(token, exc)
        notes: list[str] = []
        if not self._offline and live is None:
            live = self._live_for(cred.badge_id)
        self._live_seen = live if isinstance(live, dict) else None
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
            verdict = self._origin.server_verdict(token)
            if verdict and not verdict.get("verified") and verdict.get("reason") in _SERVER_REFUSALS:
                return self._refused(token, InvalidCredential(str(verdict.get("message") or verdict["reason"]),
                                                              reason=str(verdict["reason"])),
                                     cred=cred, ask_server=False)
            # without the server's verdict, only evidence fetched now may answer
            confirmed = bool(verdict) or all(e.from_network for e in self._origin.evidence.values())
            if isinstance(token, str) and live.get("credential") and live.get("credential") != token:
                notes.append("  note: the server holds a newer credential for this badge")
        live_status = live.get("status") if isinstance(live, dict) else None
        if live_status in {"revoked", "suspended", "expired", "not_yet_valid"}:
            status = live_status if status == "valid" or live_status == "revoked" else status
        now = self._clock()
        if not confirmed and status in _REVISABLE:
            stale = [e for e in self._origin.evidence.values()
                     if e.stale(now) or (isinstance(live, dict) and not e.from_network)]
            if stale:
                return outcome.cannot_check(self._origin, cred.badge_id, cred.kid, stale, now)
        return outcome.decided(self._origin, cred, status, live if isinstance(live, dict) else None, notes, now)

    def _live_for(self, badge_id: str) -> dict[str, Any] | NotFound | None:
        try:
            return self._origin.live(badge_id)
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

    def _refused(self, token: str | dict[str, Any], exc: InvalidCredential, *, cred: VerifiedCredential | None = None,
                 ask_server: bool = True) -> dict[str, Any]:
        """Return the outcome for a credential that does not verify (or CANNOT_CHECK if that rests on old keys)."""
        reason, message = exc.reason, exc.message
        if ask_server and reason == "unknown_key" and not self._offline and not self._origin.unreachable:
            # the server names why: a withdrawn (compromised) key rather than merely an unknown one
            verdict = self._origin.server_verdict(token)
            if verdict and not verdict.get("verified") and verdict.get("reason") in _SERVER_REFUSALS:
                reason, message = str(verdict["reason"]), str(verdict.get("message") or message)
        badge_id, kid = (cred.badge_id, cred.kid) if cred else (None, None)
        now = self._clock()
        stale = [e for e in self._origin.evidence.values() if e.stale(now)]
        if reason in _REVISABLE and stale and (self._offline or self._origin.unreachable):
            # "not published" on an old copy of the keys says nothing: a key may have been added since
            return outcome.cannot_check(self._origin, badge_id, kid, stale, now, why=message)
        return outcome.invalid(self._origin, reason=reason, message=message, badge_id=badge_id, kid=kid, now=now)
