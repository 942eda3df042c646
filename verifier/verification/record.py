"""What the public sees of a badge: the JSON status of the contract, decided from the stored record.

Every producer of the public JSON status (the verify API and page, the admin API, the CLI, the
export, the demo) calls :func:`status_json`: the public state is decided here, from the stored
state and dates and the clock, and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from signer import lifecycle
from signer.clock import isoformat_z
from signer.credentials import Issuer
from signer.ids import format_badge_id
from signer.lifecycle import State
from verifier.storage.models import Badge
from verifier.storage.publicread import PublicBadge

__all__ = ["status_json"]


def status_json(badge: Badge | PublicBadge, *, issuer: Issuer, now: datetime) -> dict[str, Any]:
    """Return the public JSON status of a badge (the contract's shape)."""
    view = badge if isinstance(badge, PublicBadge) else PublicBadge.from_badge(badge)
    shown = format_badge_id(view.id)
    public = lifecycle.public_status(view.state, valid_from=view.valid_from, valid_until=view.valid_until, now=now)
    verify_url = issuer.verify_url(shown)
    return {
        "id": shown,
        "status": public.value if public else view.state,
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
