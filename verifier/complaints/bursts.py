"""Floods of complaints about one badge: the junk is held for the branch's review, not the newcomer.

A flood (a competitor, or a merchant drowning genuine complaints in junk) must never make the
service refuse a shopper, nor hide the shopper who comes after it. Earlier, once a badge had
20 complaints within the hour, *every* later complaint was held, the genuine one included, and
sorted behind the junk. Now a complaint is held for what it is, not for when it came:

* its client (keyed hash of the address) already filed ``CLIENT_REPEATS`` or more complaints
  about this badge within the window — one sender's flood; or
* the badge is in a burst (``threshold`` or more within the window) and the complaint repeats
  the words of one already filed in the window by another client — a copied flood.

A shopper from a fresh address in their own words is never held, however loud the flood.
Held complaints are marked with a console-only ``held`` event (the public state stays
``received``) and listed after the others, in a section of their own on the queue's first page.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from signer.ids import format_badge_id
from verifier.complaints.words import normalise_text
from verifier.storage.models import Complaint, ComplaintEvent

_logger = logging.getLogger(__name__)

#: This many complaints about one badge within BURST_WINDOW make a burst (copied words are held).
BURST_THRESHOLD = 20
BURST_WINDOW = timedelta(hours=1)
#: A client's complaints about one badge within BURST_WINDOW beyond this many are held.
CLIENT_REPEATS = 2
#: The event kind marking a complaint held for review (console only, not public, not a state).
HELD = "held"
#: At most this many earlier complaints are compared word for word (a burst's recent ones).
_COMPARE = 500


def hold_if_burst(session: Session, complaint: Complaint, *, now: datetime, threshold: int,
                  words: str | None = None) -> bool:
    """Mark ``complaint`` (not yet added) as held when it looks like part of a flood (see the module)."""
    since = now - BURST_WINDOW
    same_badge = (Complaint.badge_id == complaint.badge_id, Complaint.created_at >= since)
    why = None
    if complaint.client_hash is not None:
        own = session.execute(select(func.count(Complaint.id))
                              .where(*same_badge, Complaint.client_hash == complaint.client_hash)).scalar_one()
        if own >= CLIENT_REPEATS:
            why = f"its sender filed {own} before within the hour"
    if why is None and words is not None:
        recent = session.execute(select(func.count(Complaint.id)).where(*same_badge)).scalar_one()
        if recent >= threshold:
            earlier = session.execute(
                select(Complaint.description, Complaint.client_hash).where(*same_badge)
                .order_by(Complaint.created_at.desc()).limit(_COMPARE)).all()
            if any(normalise_text(text or "") == words and client != complaint.client_hash
                   for text, client in earlier):
                why = f"it repeats another sender's words in a burst of {recent + 1}"
    if why is None:
        return False
    complaint.events.append(ComplaintEvent(at=now, kind=HELD, public=0, actor="system"))
    _logger.warning("complaint on badge %s held for review: %s", format_badge_id(complaint.badge_id), why)
    return True


def is_held(complaint: Complaint) -> bool:
    """Return whether the complaint is held for the branch's review as part of a flood."""
    return any(e.kind == HELD for e in complaint.events)


def held_clause() -> object:
    """Return a SQL expression, true for a held complaint (for ordering and filtering a query)."""
    return exists().where(ComplaintEvent.complaint_id == Complaint.id, ComplaintEvent.kind == HELD)
