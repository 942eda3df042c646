"""How the public log changes ``liang verify``'s answer (the checks themselves are in ``logcheck``).

* Online, with the live record naming the badge's log proof: the proof is fetched, cached as
  served, verified (signed checkpoint, inclusion, consistency with the last checkpoint seen); a
  failure is a refusal with exit status 1 whatever the credential said.
* Without the live record (offline, server unreachable): the cached proof is verified again; a
  VALID answer stands only if the log recorded this exact credential for the badge. When the
  client knows the server keeps a log but holds no proof for the badge, VALID becomes CANNOT CHECK.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from signer.tlog import LogError
from verifier.verification.evidence import ClientError
from verifier.verification.fetch import OfficialOrigin
from verifier.verification.logcheck import LogChecker, LogRefused, LogResult
from verifier.verification.outcome import CANNOT_CHECK

_TIMEOUT = 10
_MAX_BODY = 4 * 1024 * 1024


def _refused(result: dict[str, Any], message: str) -> dict[str, Any]:
    refused = dict(result)
    refused.update(valid=False, status="invalid", reason="log_refused",
                   lines=[f"REFUSED: {message}", *result["lines"][1:]])
    return refused


def _cannot_check(result: dict[str, Any], message: str) -> dict[str, Any]:
    if not result.get("valid"):
        return {**result, "lines": [*result["lines"], f"  log: {message}"]}
    out = dict(result)
    out.update(valid=False, status=CANNOT_CHECK, reason="no_log_evidence",
               lines=[f"CANNOT CHECK: {result.get('badge_id')}: {message}", *result["lines"][1:]])
    return out


def _log_json(res: LogResult) -> dict[str, Any]:
    return {"origin": res.origin, "index": res.index, "tree_size": res.size, "at": res.at,
            "cosigners": res.cosigners, "consistency": res.consistency}


def with_log(checker: LogChecker, origin: OfficialOrigin, session: requests.Session, result: dict[str, Any],
             token: str | dict[str, Any], live: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """Return ``result`` with the log's verdict applied (see the module docstring)."""
    badge_id = str(result.get("badge_id") or "")
    reference = live.get("log") if isinstance(live, dict) else None
    # A log this client already trusts (configured or pinned) may not vanish; on first contact a
    # server whose log is not up yet (no key, no checkpoint) only earns a note.
    trusted = bool(checker.configured or checker.pins.get(checker.server))
    try:
        if isinstance(reference, dict) and isinstance(reference.get("proof_url"), str):
            url = reference["proof_url"]
            if not url.startswith(checker.server + "/"):
                raise LogRefused(f"the log proof {url[:80]} is not on the official origin {checker.server}")
            key = checker.key()
            if key is None:
                return {**result, "log": None,
                        "lines": [*result["lines"], "  log: the server names a log proof but publishes no log key yet"]}
            try:
                body = _get(session, url)
            except LogRefused:
                raise
            except ClientError as exc:
                if trusted:
                    raise
                return {**result, "log": None, "lines": [*result["lines"], f"  log: not available yet ({exc.message})"]}
            try:
                res = checker.check(badge_id, body, key)
            except LogRefused as exc:
                raise LogRefused(exc.message + checker.pin_hint()) from exc
            latest = reference.get("index")
            if isinstance(latest, int) and latest < res.size and latest != res.index:
                # The checkpoint covers the latest decision, yet the proof shows another one as latest.
                raise LogRefused(f"the server says the latest decision is entry {latest}, "
                                 f"its log proof says {res.index}")
            # latest >= res.size: decided after the checkpoint; the next one (seconds) will cover it.
            checker.check_consistency(res, body, key)
            checker.store_proof(badge_id, body)
            return {**result, "log": _log_json(res), "lines": [*result["lines"], res.line()]}
        if live is not None:
            known = checker.key() if checker.configured or checker.pins.get(checker.server) else None
            note = ("the server gave no log reference for this badge" if known
                    else "this server publishes no transparency log")
            return {**result, "log": None, "lines": [*result["lines"], f"  log: {note}"]}
        # No live record: only what the log said before, verified again now.
        key = checker.key() if (checker.configured or checker.pins.get(checker.server)) else None
        if key is None:
            return {**result, "log": None, "lines": [*result["lines"], "  log: not checked (no log known for this server)"]}
        cached = checker.cached_proof(badge_id)
        if cached is None:
            return _cannot_check(result, "no log proof of this badge is cached, and the server did not answer")
        res = checker.check(badge_id, cached, key)
        res.consistency = "not checked (no live answer)"
        if isinstance(token, str) and not res.vouches_for(token):
            return _cannot_check(result, "the public log never recorded this credential for the badge "
                                         "(a newer one, or a forgery)")
        return {**result, "log": _log_json(res), "lines": [*result["lines"], res.line()]}
    except LogRefused as exc:
        return _refused(result, exc.message)
    except ClientError as exc:
        return _cannot_check(result, exc.message)
    except LogError as exc:
        return _refused(result, f"the log does not verify: {exc.message}")


def _get(session: requests.Session, url: str) -> str:
    try:
        response = session.get(url, timeout=_TIMEOUT)
    except requests.RequestException as exc:
        raise ClientError(f"cannot fetch the log proof: {type(exc).__name__}") from exc
    if response.status_code != 200 or len(response.content) > _MAX_BODY:
        raise ClientError(f"the log proof {url} answered {response.status_code}")
    try:
        json.loads(response.content)
    except ValueError as exc:
        raise LogRefused("the log proof is not JSON") from exc
    return response.content.decode("utf-8")
