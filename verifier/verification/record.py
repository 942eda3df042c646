"""What the public sees of a badge, decided from the stored record: the one home of the public record.

The public state is decided here (:func:`public_state`, from the stored state and dates and the
clock) and nowhere else. Three forms carry it: the contract's JSON status built from the ORM
rows (:func:`status_json`: the admin API, the CLI, the export, the demo), the same answer
spliced from the document precomputed at write time (:class:`Splicer`: the verify API and page,
one row read), and the face the badge images draw (:func:`badge_face`). Storage only stores
and reads the rows (:mod:`verifier.storage.publicdoc`); it decides nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from signer.clock import isoformat_z
from signer.credentials import Issuer
from signer.ids import format_badge_id
from signer.images import BadgeFace
from signer.lifecycle import State, public_status
from verifier.storage.models import Badge
from verifier.storage.publicdoc import PublicDocument
from verifier.storage.publicread import PublicBadge

__all__ = ["Splicer", "badge_face", "public_state", "status_json"]

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_REVOKED = State.REVOKED.value


def public_state(state: str, *, valid_from: datetime, valid_until: datetime, now: datetime) -> str:
    """Return the public status word of a stored state and dates at ``now`` (a stored state if not public)."""
    public = public_status(state, valid_from=valid_from, valid_until=valid_until, now=now)
    return public.value if public else state


def badge_face(badge: PublicBadge, *, now: datetime, zone: tzinfo, issuer: Issuer) -> BadgeFace:
    """Return what the badge image shows at ``now``: the same public state the JSON answer shows."""
    shown = format_badge_id(badge.id)
    return BadgeFace(badge_id=shown, shop_name=badge.shop_name, branch_name=badge.branch_name,
                     platform=badge.platform,
                     status=public_state(badge.state, valid_from=badge.valid_from, valid_until=badge.valid_until,
                                         now=now),
                     checked_on=now.astimezone(zone).date().isoformat(), verify_url=issuer.verify_url(shown))


def status_json(badge: Badge | PublicBadge, *, issuer: Issuer, now: datetime) -> dict[str, Any]:
    """Return the public JSON status of a badge (the contract's shape)."""
    view = badge if isinstance(badge, PublicBadge) else PublicBadge.from_badge(badge)
    shown = format_badge_id(view.id)
    verify_url = issuer.verify_url(shown)
    return {
        "id": shown,
        "status": public_state(view.state, valid_from=view.valid_from, valid_until=view.valid_until, now=now),
        "checked_at": isoformat_z(now),
        "holder": {"display_name": view.holder},
        "shop": {"name": view.shop_name, "platform": view.platform, "url": view.shop_url, "hosts": list(view.hosts)},
        "branch": {"code": view.branch_code, "name": view.branch_name},
        "valid_from": isoformat_z(view.valid_from),
        "valid_until": isoformat_z(view.valid_until),
        "revocation": (
            {"reason": view.revocation_reason, "at": isoformat_z(view.revoked_at)}
            if view.state == State.REVOKED.value and view.revoked_at else None
        ),
        "verify_url": verify_url,
        "complaint_url": f"{verify_url}/complain",
        "credential": view.credential,
        "log": None if view.log_index is None else {
            "index": view.log_index, "proof_url": f"{issuer.public_url}/api/v1/badges/{shown}/log"},
    }


class Splicer:
    """Turn a stored document into the JSON status body of the contract, for one deployment."""

    def __init__(self, issuer: Issuer) -> None:
        self._base = issuer.verify_url("")
        base = _ENCODE(self._base)[1:-1]  # JSON-escaped once
        self._verify = ',"verify_url":"' + base
        self._complaint = '","complaint_url":"' + base
        self._stamp: tuple[float, str] = (-1.0, "")
        self._proof = _ENCODE(issuer.public_url)[1:-1] + "/api/v1/badges/"

    def log(self, doc: PublicDocument, shown: str) -> dict[str, Any] | None:
        """Return the JSON status's ``log`` object: the latest decision's entry and where its proof is, or None."""
        if doc.log_index is None:
            return None
        return {"index": doc.log_index, "proof_url": f"{self._proof}{shown}/log"}

    def checked_at(self, now: datetime) -> str:
        """Return ``now`` as the contract writes it (formatted once per second)."""
        if now.tzinfo is None:
            return isoformat_z(now)
        second = now.timestamp() // 1
        stamp = self._stamp
        if stamp[0] != second:
            stamp = self._stamp = (second, isoformat_z(now))
        return stamp[1]

    @staticmethod
    def status(doc: PublicDocument, now: datetime) -> str:
        """Return the public status word, decided from the row's state and dates at ``now``."""
        return public_state(doc.state, valid_from=doc.valid_from, valid_until=doc.valid_until, now=now)

    @staticmethod
    def revocation(doc: PublicDocument) -> dict[str, str | None] | None:
        """Return the public revocation object, or None."""
        if doc.state == _REVOKED and doc.revoked_at is not None:
            return {"reason": doc.revocation_reason, "at": isoformat_z(doc.revoked_at)}
        return None

    def body(self, doc: PublicDocument, *, status: str, now: datetime) -> bytes:
        """Return the JSON status body (bytes, with the trailing newline Flask's ``jsonify`` writes)."""
        text = doc.text
        head = text.find(',"holder":')  # the id's value holds no quote: the first match is the key
        tail = text.rfind(',"credential":')  # a string never holds an unescaped quote: the last key
        revocation = self.revocation(doc)
        shown = text[7:head - 1]  # '{"id":"' … '"'
        return "".join((
            text[:head], ',"status":"', status, '","checked_at":"', self.checked_at(now), '"',
            text[head:tail], ',"revocation":', "null" if revocation is None else _ENCODE(revocation),
            self._verify, shown, self._complaint, shown, '/complain"', text[tail:-1], ',"log":',
            "null" if doc.log_index is None else
            f'{{"index":{doc.log_index},"proof_url":"{self._proof}{shown}/log"}}', "}\n",
        )).encode("utf-8")

    def as_dict(self, doc: PublicDocument, *, status: str, now: datetime | None) -> dict[str, Any]:
        """Return the JSON status as a dict (``checked_at`` None without ``now``), for a page render."""
        fields = json.loads(doc.text)
        verify_url = self._base + fields["id"]
        return {"id": fields["id"], "status": status, "checked_at": self.checked_at(now) if now else None,
                "holder": fields["holder"], "shop": fields["shop"], "branch": fields["branch"],
                "valid_from": fields["valid_from"], "valid_until": fields["valid_until"],
                "revocation": self.revocation(doc), "verify_url": verify_url,
                "complaint_url": f"{verify_url}/complain", "credential": fields["credential"],
                "log": self.log(doc, fields["id"])}
