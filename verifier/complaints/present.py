"""What an administrator sees of a complaint: the admin API's JSON (personal data only when allowed)."""

from __future__ import annotations

from typing import Any

from signer.clock import isoformat_z
from signer.ids import format_badge_id
from verifier.complaints.bursts import is_held
from verifier.storage.models import Complaint

__all__ = ["admin_json"]


def admin_json(complaint: Complaint, *, age: dict[str, Any], personal: bool, evidence_url: Any = None,
               tracking_url: str | None = None) -> dict[str, Any]:
    """Return the administrator's view; contact, order number and evidence only when ``personal``."""
    body: dict[str, Any] = {
        "tracking_number": complaint.tracking_number,
        "tracking_url": tracking_url,
        "badge_id": format_badge_id(complaint.badge_id),
        "branch": {"code": complaint.branch.code, "name": complaint.branch.name},
        "category": complaint.category,
        "status": complaint.state,
        "description": complaint.description,
        "public_reply": complaint.public_reply,
        "private_note": complaint.private_note,
        "created_at": isoformat_z(complaint.created_at),
        "updated_at": isoformat_z(complaint.updated_at),
        "closed_at": isoformat_z(complaint.closed_at) if complaint.closed_at else None,
        "age": age,
        "personal_data_purged": complaint.personal_data_purged_at is not None,
        "held_for_review": is_held(complaint),
        "events": [{"at": isoformat_z(e.at), "kind": e.kind, "from": e.from_state, "to": e.to_state,
                    "reply": e.public_reply, "actor": e.actor} for e in complaint.events],
    }
    if personal:
        body["contact"] = complaint.contact
        body["order_number"] = complaint.order_number
        body["evidence"] = [{"id": ev.id, "content_type": ev.content_type, "size": ev.size,
                             "url": evidence_url(ev) if evidence_url else None} for ev in complaint.evidence]
    return body
