"""Bursts of complaints about one badge: accepted, but held for the branch's review.

A flood (a competitor, or a merchant drowning genuine complaints in junk) must never make
the service refuse a newcomer; instead, complaints past the threshold within the window
are marked with a console-only ``held`` event. The public state stays ``received``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signer.ids import format_badge_id
from verifier.storage.models import Complaint, ComplaintEvent

_logger = logging.getLogger(__name__)

#: More complaints than this about one badge within BURST_WINDOW: the next ones are held.
BURST_THRESHOLD = 20
BURST_WINDOW = timedelta(hours=1)
#: The event kind marking a complaint held for review (console only, not public, not a state).
HELD = "held"


def hold_if_burst(session: Session, complaint: Complaint, *, now: datetime, threshold: int) -> bool:
    """Mark ``complaint`` (not yet added) as held when its badge had ``threshold`` or more in the window."""
    recent = session.execute(
        select(func.count(Complaint.id)).where(Complaint.badge_id == complaint.badge_id,
                                               Complaint.created_at >= now - BURST_WINDOW)).scalar_one()
    if recent < threshold:
        return False
    complaint.events.append(ComplaintEvent(at=now, kind=HELD, public=0, actor="system"))
    _logger.warning("complaint burst on badge %s: %d in the last hour; holding for review",
                    format_badge_id(complaint.badge_id), recent + 1)
    return True


def is_held(complaint: Complaint) -> bool:
    """Return whether the complaint arrived in a burst and is held for the branch's review."""
    return any(e.kind == HELD for e in complaint.events)
