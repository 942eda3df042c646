"""Status-list slots and signed status-list credentials in the database."""

from __future__ import annotations

import json
import logging
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.credentials import Issuer, StatusEntry, parse_jws
from signer.errors import InvalidCredential
from signer.keys import Keyring
from signer.statuslist import (
    LIST_SIZE,
    PURPOSES,
    IndexDraws,
    build_list_credential,
    empty_bits,
    get_bit,
    random_index,
    set_bit,
    sign_list_credential,
    sign_list_linked_data,
)
from verifier.storage.models import StatusList, StatusSlot

_logger = logging.getLogger(__name__)

# Fill a list only half way: random indexes stay cheap to find and every
# badge keeps a large crowd of unused entries around it.
_FILL_LIMIT = LIST_SIZE // 2


def list_url(issuer: Issuer, list_id: str) -> str:
    """Return the public URL of a status list."""
    return f"{issuer.public_url}/status/{list_id}"


class StatusListService:
    """Allocate random slots and flip bits in the caller's transaction."""

    def __init__(self, session: Session, *, issuer: Issuer, keyring: Keyring, clock: Clock,
                 ttl_seconds: int) -> None:
        self._session = session
        self._issuer = issuer
        self._keyring = keyring
        self._clock = clock
        self._ttl = ttl_seconds
        self._open: dict[str, StatusList] = {}

    def allocate(self, badge_id: str) -> tuple[StatusEntry, ...]:
        """Give ``badge_id`` a random slot in a revocation and a suspension list."""
        entries = []
        for purpose in PURPOSES:
            status_list, index = self._free_slot(purpose)
            self._session.add(StatusSlot(list_id=status_list.id, idx=index, purpose=purpose, badge_id=badge_id))
            # Counted in SQL (used = used + 1): concurrent issuers never overwrite each other's count.
            status_list.used = StatusList.used + 1  # type: ignore[assignment]
            entries.append(StatusEntry(purpose, list_url(self._issuer, status_list.id), index))
        self._session.flush()
        return tuple(entries)

    def _free_slot(self, purpose: str) -> tuple[StatusList, int]:
        status_list = self._open.get(purpose)
        if status_list is None or status_list.used >= _FILL_LIMIT:
            status_list = self._session.execute(
                select(StatusList)
                .where(StatusList.purpose == purpose, StatusList.used < _FILL_LIMIT)
                .order_by(StatusList.used.desc())
                .limit(1)
            ).scalar_one_or_none() or self._create(purpose)
            self._open[purpose] = status_list
        taken = _TakenProbe(self._session, status_list.id)
        index = random_index(taken, size=status_list.size)
        if index is None:  # vanishingly unlikely below half full; start a new list
            status_list = self._create(purpose)
            self._open[purpose] = status_list
            index = secrets.randbelow(status_list.size)
        return status_list, index

    def _create(self, purpose: str) -> StatusList:
        now = self._clock()
        status_list = StatusList(id=secrets.token_hex(8), purpose=purpose, size=LIST_SIZE, used=0,
                                 bits=bytes(empty_bits()), version=1, updated_at=now)
        status_list.credential, status_list.credential_ld = self._sign(status_list)
        self._session.add(status_list)
        self._session.flush()
        return status_list

    def set_bit(self, badge_id: str, purpose: str, value: bool) -> None:
        """Set the badge's bit in its ``purpose`` list and re-sign the list."""
        slot = self._session.execute(
            select(StatusSlot).where(StatusSlot.badge_id == badge_id, StatusSlot.purpose == purpose)
        ).scalar_one()
        # Lock the list row: two revocations at once must not overwrite each other's bit.
        status_list = self._session.execute(
            select(StatusList).where(StatusList.id == slot.list_id).with_for_update()
        ).scalar_one()
        self._session.refresh(status_list)
        bits = bytearray(status_list.bits)
        set_bit(bits, slot.idx, value)
        status_list.bits = bytes(bits)
        status_list.version += 1
        status_list.updated_at = self._clock()
        status_list.credential, status_list.credential_ld = self._sign(status_list)
        self._session.flush()

    def set_bits(self, list_id: str, indexes: list[int]) -> int:
        """Set the bits at ``indexes`` of one list (locked) and sign it once; return how many were clear."""
        status_list = self._session.execute(
            select(StatusList).where(StatusList.id == list_id).with_for_update()).scalar_one()
        self._session.refresh(status_list)
        changed = [index for index in indexes if not get_bit(status_list.bits, index)]
        bits = bytearray(status_list.bits)
        if not changed:
            return 0
        for index in changed:
            set_bit(bits, index, True)
        status_list.bits = bytes(bits)
        status_list.version += 1
        status_list.updated_at = self._clock()
        status_list.credential, status_list.credential_ld = self._sign(status_list)
        self._session.flush()
        return len(changed)

    def resign_all(self) -> int:
        """Re-sign every list credential with the current key (after key rotation)."""
        count = 0
        for status_list in self._session.execute(select(StatusList)).scalars():
            status_list.credential, status_list.credential_ld = self._sign(status_list)
            status_list.version += 1
            count += 1
        self._session.flush()
        return count

    def resign_outdated(self) -> int:
        """Re-sign the lists signed before their JSON-LD form existed (or with a ``jti``); return how many."""
        count = 0
        for status_list in self._session.execute(select(StatusList)).scalars():
            if status_list.credential_ld and '"jti"' not in _payload_text(status_list.credential):
                continue
            status_list.credential, status_list.credential_ld = self._sign(status_list)
            status_list.version += 1
            count += 1
        self._session.flush()
        return count

    def _sign(self, status_list: StatusList) -> tuple[str, str]:
        """Return the list credential as a JWS and as JSON-LD with a Data Integrity proof, same key, same content."""
        kid, private = self._keyring.signing_key()
        payload = build_list_credential(
            issuer=self._issuer, list_url=list_url(self._issuer, status_list.id),
            purpose=status_list.purpose, bits=status_list.bits, valid_from=status_list.updated_at,
            ttl_seconds=self._ttl,
        )
        return (sign_list_credential(payload, kid_url=self._issuer.kid_url(kid), private_key=private),
                sign_list_linked_data(payload, issuer=self._issuer, kid=kid, private_key=private,
                                      created=status_list.updated_at))


def _payload_text(token: str | None) -> str:
    try:
        return json.dumps(parse_jws(token or "").payload)
    except InvalidCredential:
        return '"jti"'  # unreadable: sign it again


def signed_list(session: Session, list_id: str, *, linked_data: bool = False) -> tuple[int, str] | None:
    """Return a status list's version and signed credential (the JWS, or the JSON-LD form), or None."""
    column = StatusList.credential_ld if linked_data else StatusList.credential
    row = session.execute(select(StatusList.version, column).where(StatusList.id == list_id)).one_or_none()
    if row is None or not row[1]:
        return None
    return int(row[0]), str(row[1])


class _TakenProbe:
    """A container that asks the database whether an index is used."""

    def __init__(self, session: Session, list_id: str) -> None:
        self._session = session
        self._list_id = list_id

    def __contains__(self, index: object) -> bool:
        return self._session.execute(
            select(StatusSlot.idx).where(StatusSlot.list_id == self._list_id, StatusSlot.idx == index)
        ).first() is not None


class SlotAllocator:
    """Draw random free indexes per purpose for a batch of badges; ``save_counters`` books them.

    Each list in use is locked for the transaction. A large batch loads a list's used indexes
    once (one query instead of one per draw); a small one asks the database about each
    candidate, as :meth:`StatusListService.allocate` does, instead of loading up to 65,536 indexes.
    """

    def __init__(self, lists: StatusListService, session: Session, *, expected: int) -> None:
        self._session = session
        self._lists = lists
        self._load = expected >= _LOAD_FROM
        self._current: dict[str, tuple[str, int, int]] = {}  # purpose -> (list id, size, used)
        self._taken: dict[str, set[int] | _Taken] = {}
        self._added: dict[str, int] = {}
        self._draws = IndexDraws()

    def _open(self, purpose: str) -> None:
        full = list(self._added)  # lists this batch already filled (their counters are not saved yet)
        row = self._session.execute(
            select(StatusList).where(StatusList.purpose == purpose, StatusList.used < _FILL_LIMIT,
                                     StatusList.id.notin_(full))
            .order_by(StatusList.used.desc()).limit(1).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            row = self._lists._create(purpose)  # noqa: SLF001 - one new signed empty list
        self._current[purpose] = (row.id, row.size, row.used)
        self._taken[row.id] = (set(self._session.execute(select(StatusSlot.idx).where(StatusSlot.list_id == row.id))
                                   .scalars()) if self._load else _Taken(self._session, row.id))
        self._added.setdefault(row.id, 0)

    def take(self, purpose: str) -> tuple[str, int]:
        """Return (list id, index) of a fresh random slot."""
        if purpose not in self._current or self._current[purpose][2] >= _FILL_LIMIT:
            self._open(purpose)
        list_id, size, used = self._current[purpose]
        taken = self._taken[list_id]
        index = self._draws.random_index(taken, size=size)
        while index is None:  # practically unreachable below half full
            index = secrets.randbelow(size)
            index = None if index in taken else index
        taken.add(index)
        self._current[purpose] = (list_id, size, used + 1)
        self._added[list_id] += 1
        return list_id, index

    def save_counters(self) -> None:
        """Add the slots taken to each list's ``used`` counter (in SQL: concurrent issuers add up)."""
        for list_id, added in self._added.items():
            if added:
                self._session.execute(update(StatusList).where(StatusList.id == list_id)
                                      .values(used=StatusList.used + added))


#: From this many badges on, a batch loads each list's used indexes instead of probing per draw.
_LOAD_FROM = 64


class _Taken:
    """The used indexes of one list, asked of the database, and those this batch took."""

    def __init__(self, session: Session, list_id: str) -> None:
        self._probe = _TakenProbe(session, list_id)
        self._used: set[int] = set()

    def __contains__(self, index: object) -> bool:
        return index in self._used or index in self._probe

    def add(self, index: int) -> None:
        self._used.add(index)

