"""One issuance path: a badge issued on its own is a batch of one, a CSV import a batch of many.

:meth:`Issuance.check` applies every rule a request must meet to a whole batch with a
handful of queries: text limits, shop URL and bound hosts (:mod:`verifier.badges.rules`),
the branch, the member chosen by id or number (:class:`verifier.organisation.members.Chooser`)
and one badge per shop (platform and normalised URL). :meth:`Issuance.issue` then writes
the accepted batch, and is the only code that issues a badge: the state comes from the
lifecycle table, members, shops, status slots and badges go in with one driver-level insert
per table (``COPY`` on PostgreSQL, ``executemany`` on SQLite), credentials are signed by a
:class:`signer.batch.BatchSigner` (in worker processes for a large batch) while the other
rows are written, and every badge gets the same audit event, counted by the metrics when
the transaction commits. The caller owns the transaction: all or nothing.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signer import lifecycle
from signer.batch import CHUNK as SIGN_CHUNK
from signer.batch import BatchSigner, Job
from signer.clock import Clock, isoformat_z
from signer.credentials import BadgeClaims, Issuer, StatusEntry, build_credential
from signer.errors import Conflict, InvalidInput
from signer.ids import format_badge_id, new_badge_id, new_badge_ids
from signer.keys import Keyring
from signer.lifecycle import Action, State
from signer.signing import linked_data_credential
from signer.statuslist import PURPOSES
from verifier.audit.service import Actor, AuditLog
from verifier.badges.rules import IssueRequest, check_issue, validate_shop_url
from verifier.badges.shopkeys import shop_conflict
from verifier.badges.shops import foreign_hosts, shop_key, url_key
from verifier.badges.statuslists import SlotAllocator, StatusListService, list_url
from verifier.organisation.members import Chooser
from verifier.storage.db import insert_many, reserve_ids
from verifier.storage.models import LIVE_STATES, Badge, Branch, Member, Shop, StatusSlot
from verifier.storage.publicdoc import document_text
from verifier.transparency.entries import IssueEntries, PublicLog

#: A shop with a badge in one of these states has its badge (pending applications do not block an issue).
LIVE = LIVE_STATES
_QUERY_CHUNK = 500
_BADGE_COLUMNS = ("id", "shop_id", "branch_id", "state", "valid_from", "valid_until", "issued_at", "credential",
                  "credential_id", "kid", "updated_at", "credential_ld", "shop_key", "log_index", "public_doc")


@dataclass(frozen=True)
class Refusal:
    """Why one request of a batch was refused; ``line`` is its place (a file's line for an import)."""

    line: int
    error: InvalidInput | Conflict

    @property
    def field(self) -> str | None:
        """Return the request field at fault (a shop conflict is the shop URL's)."""
        return self.error.field if isinstance(self.error, InvalidInput) else "shop_url"


@dataclass(frozen=True)
class Accepted:
    """A request that passed every rule, ready to issue."""

    line: int
    req: IssueRequest  # cleaned: hosts filled in, valid_days set
    key: str  # the shop URL's comparison key (shops.url_key)
    shop_key: str  # what one badge per shop is enforced on (badges.shop_key)
    member: int | None = None  # the existing member it goes to; None: a new member
    record_ref: bool = False  # give that member ``req.member_ref``, its first number
    shop: int | None = None  # the member's shop exactly as requested, if there is one


class Issuance:
    """Check and issue batches of badge requests; the caller owns (and commits) the transaction."""

    def __init__(self, session: Session, *, issuer: Issuer, keyring: Keyring, clock: Clock, audit: AuditLog,
                 status_ttl: int = 300, default_days: int = 365) -> None:
        self._session = session
        self._issuer = issuer
        self._keyring = keyring
        self._clock = clock
        self._audit = audit
        self._log = PublicLog(session, clock=clock)
        self._status_ttl = status_ttl
        self._default_days = default_days
        self._branches: dict[str, Branch] | None = None

    def branches(self, *, wanted: Iterable[str] = ()) -> dict[str, Branch]:
        """Return every branch by code (loaded once, and again when one of ``wanted`` is new since)."""
        if self._branches is None or not set(wanted) <= self._branches.keys():
            self._branches = {b.code: b for b in self._session.execute(select(Branch)).scalars()}
        return self._branches

    # -- the rules ---------------------------------------------------------------------------------
    def check(self, rows: Sequence[tuple[int, IssueRequest]], *,
              branch_scope: str | None = None) -> tuple[list[Accepted], list[Refusal]]:
        """Return the accepted requests and every refusal, by line (nothing is written).

        The requests are judged in order, as if issued one after another: a second request for
        one shop is refused, and a member number given to a new member finds that member later.
        """
        branches = self.branches(wanted={req.branch for _, req in rows if isinstance(req.branch, str)})
        refused: list[Refusal] = []
        valid: list[tuple[int, IssueRequest, str]] = []
        for line, raw in rows:
            # Every problem of the request, not the first: the person fixes the line once.
            req, problems = check_issue(raw, default_days=self._default_days)
            code = raw.branch.strip() if isinstance(raw.branch, str) else ""
            if code and not any(p.field == "branch" for p in problems):
                if code not in branches:
                    problems.append(InvalidInput(f"no branch with code {code!r}", field="branch", kind="unknown",
                                                 params={"value": code}))
                elif branch_scope is not None and code != branch_scope:
                    problems.append(InvalidInput(f"you may only import into branch {branch_scope}", field="branch",
                                                 kind="scope", params={"branch": branch_scope}))
            if problems or req is None:
                refused.extend(Refusal(line, exc) for exc in problems)
                continue
            valid.append((line, req, shop_key(req.platform, req.shop_url)))
        taken = self._shops_with_badges({key for _, req, key in valid})
        chooser = Chooser(self._session, (req for _, req, _ in valid), chunk=_QUERY_CHUNK)
        seen: dict[str, int] = {}
        accepted: list[Accepted] = []
        for line, req, shop in valid:
            try:
                if shop in seen:
                    raise Conflict(f"duplicate of line {seen[shop]} (same shop URL)", reason="duplicate",
                                   params={"line": seen[shop]})
                if shop in taken:
                    raise Conflict("this shop already has a badge; renew it instead", reason="shop_has_badge")
                member, record_ref = chooser.choose(req, branches[req.branch])
            except (InvalidInput, Conflict) as exc:
                refused.append(Refusal(line, exc))
                continue
            seen[shop] = line
            accepted.append(Accepted(line, req, url_key(req.shop_url), shop, member, record_ref))
        refused.sort(key=lambda r: r.line)
        return self._reuse_shops(accepted), refused

    def accept(self, req: IssueRequest) -> Accepted:
        """Return one request accepted, or raise its refusal (InvalidInput or Conflict)."""
        accepted, refused = self.check([(1, req)])
        if refused:
            raise refused[0].error
        return accepted[0]

    def refuse_second_badge(self, key: str, *, besides: str | None = None, pending: bool = False) -> None:
        """Raise Conflict when the shop with this shop key already has a live badge (one badge per shop).

        Pending applications do not block an issue: anyone may apply, and an application must
        not be able to block the branch from issuing; approval checks again. With ``pending``,
        a waiting application for the shop is refused too (one application per shop). This is
        the friendly early answer; the database's unique indexes hold the rule under any race.
        """
        if key in self._shops_with_badges({key}, besides=besides):
            raise Conflict("this shop already has a badge; renew it instead", reason="shop_has_badge")
        if pending and key in self._shops_with_badges({key}, besides=besides, states=(State.PENDING.value,)):
            raise Conflict("an application for this shop is already waiting for its branch",
                           reason="shop_has_application")

    def _shops_with_badges(self, shops: set[str], *, besides: str | None = None,
                           states: tuple[str, ...] = LIVE) -> set[str]:
        keys = sorted(shops)
        found: set[str] = set()
        for i in range(0, len(keys), _QUERY_CHUNK):
            query = select(Badge.shop_key).where(Badge.shop_key.in_(keys[i:i + _QUERY_CHUNK]),
                                                 Badge.state.in_(states))
            if besides is not None:
                query = query.where(Badge.id != besides)
            found.update(key for key in self._session.execute(query).scalars() if key is not None)
        return found

    def _reuse_shops(self, accepted: list[Accepted]) -> list[Accepted]:
        """Point requests for an existing member at that member's shop when it is exactly the one requested.

        A shop row never changes: a changed name, platform or host list is a new shop, so no
        earlier badge's public record ever changes.
        """
        owners = sorted({a.member for a in accepted if a.member is not None})
        shops: dict[tuple[int, str], list[tuple[int, str, str, str, list[str]]]] = {}
        for i in range(0, len(owners), _QUERY_CHUNK):
            for sid, member_id, key, url, name, platform, hosts in self._session.execute(
                select(Shop.id, Shop.member_id, Shop.url_key, Shop.url, Shop.name, Shop.platform, Shop.hosts)
                .where(Shop.member_id.in_(owners[i:i + _QUERY_CHUNK])).order_by(Shop.id.desc())
            ).all():
                shops.setdefault((member_id, key), []).append((sid, url, name, platform, list(hosts)))
        if not shops:
            return accepted
        out = []
        for a in accepted:
            wanted = (a.req.shop_url, a.req.shop_name, a.req.platform, list(a.req.hosts or ()))
            same = [sid for sid, *shop in shops.get((a.member or 0, a.key), ()) if tuple(shop) == wanted]
            out.append(replace(a, shop=same[0]) if same else a)
        return out

    # -- the one place badges are issued -------------------------------------------------------------
    def signer(self, *, workers: int = 0) -> BatchSigner:
        """Return a signer with the current key (KeyUnavailable when this node cannot sign)."""
        kid, private = self._keyring.signing_key()
        return BatchSigner(issuer=self._issuer, kid=kid, private_key=private, workers=workers)

    def issue(self, batch: Sequence[Accepted], *, actor: Actor, signer: BatchSigner,
              valid_from: datetime | None = None, linked_data: bool = False,
              progress: Callable[[int], None] | None = None) -> list[str]:
        """Issue every accepted request (``signer`` started for ``len(batch)``); return the ids, grouped.

        ``linked_data`` also stores each credential's JSON-LD form now (else it is made on first
        request: it costs milliseconds a badge).
        """
        state = lifecycle.transition(State.NEW, Action.ISSUE).value  # the one transition table
        session, issuer, kid = self._session, self._issuer, signer.kid
        branches = self.branches()
        now = self._clock()
        start = valid_from or now
        start_z = isoformat_z(start)
        # Members: the existing one chosen, else one new member per member number (once a batch) or per row.
        owners: list[tuple[str, Any]] = [("m", a.member) if a.member is not None
                                         else ("ref", a.req.member_ref) if a.req.member_ref else ("row", a.line)
                                         for a in batch]
        new_members = {k: a for k, a in zip(owners, batch, strict=True) if k[0] != "m"}
        member_ids: dict[tuple[str, Any], int] = dict(zip(
            new_members, reserve_ids(session, Member.__table__, len(new_members)), strict=True))
        member_ids.update((k, int(k[1])) for k in owners if k[0] == "m")
        fresh = [a for a in batch if a.shop is None]
        fresh_ids = reserve_ids(session, Shop.__table__, len(fresh))
        shop_ids = dict(zip((a.line for a in fresh), fresh_ids, strict=True))

        slots = SlotAllocator(StatusListService(session, issuer=issuer, keyring=self._keyring, clock=self._clock,
                                                ttl_seconds=self._status_ttl), session, expected=len(batch))
        list_urls: dict[str, str] = {}
        ends: dict[int, tuple[datetime, dict[str, Any]]] = {}
        badge_ids: set[str] = set()
        jobs: list[Job] = []
        badge_rows: list[tuple[Any, ...]] = []
        facts: list[dict[str, Any]] = []  # each badge's public facts, for its precomputed document
        slot_rows: list[tuple[Any, ...]] = []
        audit_rows: list[dict[str, Any]] = []
        issued: list[str] = []
        private = self._keyring.signing_key()[1] if linked_data else None
        drawn_ids, credential_ids = new_badge_ids(len(batch)), _credential_ids(len(batch))
        for n, a in enumerate(batch):
            badge_id = drawn_ids[n]
            while badge_id in badge_ids:
                badge_id = new_badge_id()
            badge_ids.add(badge_id)
            shown = format_badge_id(badge_id)
            req = a.req
            branch = branches[req.branch]
            days = req.valid_days or self._default_days
            if days not in ends:
                # One audit "after" document per validity period, shared by its events (stored once).
                until = start + timedelta(days=days)
                ends[days] = (until, {"state": state, "valid_from": start_z, "valid_until": isoformat_z(until),
                                      "revocation_reason": None, "kid": kid})
            valid_until, after = ends[days]
            if req.confirm_foreign_hosts:
                after = {**after, "confirmed_foreign_hosts": foreign_hosts(req.hosts or (),
                                                                           validate_shop_url(req.shop_url)[1])}
            entries = []
            for purpose in PURPOSES:
                list_id, idx = slots.take(purpose)
                slot_rows.append((list_id, idx, purpose, badge_id))
                if list_id not in list_urls:
                    list_urls[list_id] = list_url(issuer, list_id)
                entries.append(StatusEntry(purpose, list_urls[list_id], idx))
            credential_id = credential_ids[n]
            claims = BadgeClaims(badge_id=shown, shop_name=req.shop_name, shop_url=req.shop_url,
                                 platform=req.platform, hosts=tuple(req.hosts or ()), branch_code=branch.code,
                                 branch_name=branch.name, valid_from=start, valid_until=valid_until,
                                 status_entries=tuple(entries))
            jobs.append((claims, credential_id))
            if len(jobs) == SIGN_CHUNK:
                signer.submit(jobs)
                jobs = []
            ld = None if private is None else linked_data_credential(
                build_credential(claims, issuer=issuer, credential_id=credential_id), issuer=issuer, kid=kid,
                private_key=private, now=now)
            shop_id = a.shop if a.shop is not None else shop_ids[a.line]
            badge_rows.append((badge_id, shop_id, branch.id, state, start, valid_until, now, credential_id, kid,
                               now, ld, a.shop_key))
            facts.append({"badge_id": badge_id, "holder": req.holder, "shop_name": req.shop_name,
                          "platform": req.platform, "shop_url": req.shop_url, "hosts": list(req.hosts or ()),
                          "branch_code": branch.code, "branch_name": branch.name, "valid_from": start,
                          "valid_until": valid_until})
            audit_rows.append({"action": Action.ISSUE.value, "target": shown, "branch_code": branch.code,
                               "before": None, "after": after})
            issued.append(shown)
        signer.submit(jobs)

        # With worker processes, the credentials are being signed while these rows are written.
        for a in batch:
            if a.record_ref:
                session.execute(update(Member).where(Member.id == a.member).values(member_ref=a.req.member_ref))
        insert_many(session, Member.__table__, ("id", "name", "member_ref", "branch_id", "contact", "created_at"),
                    [(member_ids[k], a.req.holder, a.req.member_ref, branches[a.req.branch].id, None, now)
                     for k, a in new_members.items()])
        insert_many(session, Shop.__table__, ("id", "member_id", "platform", "name", "url", "url_key", "hosts",
                                              "created_at"),
                    [(shop_ids[a.line], member_ids[k], a.req.platform, a.req.shop_name, a.req.shop_url, a.key,
                      list(a.req.hosts or ()), now)
                     for a, k in zip(batch, owners, strict=True) if a.shop is None])
        self._audit.append_many(actor, audit_rows)
        # One public-log entry per badge, in this transaction: indexes taken now (the log head is
        # locked after the audit head, as everywhere), the entries written once the credentials
        # they name are signed. One head update and one insert for the whole batch.
        first = self._log.reserve(len(batch))
        log_entries = IssueEntries(at=now, state=state, kid=kid)
        logged: list[tuple[bytes, str | None]] = []
        badge_rows = [(*row, first + n) for n, row in enumerate(badge_rows)]
        # Badge ids are 60 random bits; a clash with a stored id is practically impossible,
        # and the primary key would refuse it (rolling back the whole batch) anyway.
        # The public document goes in with the row (storage/publicdoc.py): no second write per badge.
        signed = _logged(_signed(badge_rows, facts, signer, progress), issued, facts, log_entries, logged)
        try:
            insert_many(session, Badge.__table__, _BADGE_COLUMNS, signed if len(batch) > SIGN_CHUNK else list(signed))
        except IntegrityError as exc:
            # Another writer issued for one of these shops since check() looked: the database's
            # unique index refused the second live badge; the whole batch rolls back.
            conflict = shop_conflict(exc)
            if conflict is None:
                raise
            raise conflict from exc
        self._log.write(first, logged)
        insert_many(session, StatusSlot.__table__, ("list_id", "idx", "purpose", "badge_id"), slot_rows)
        slots.save_counters()
        # Whatever else is derived from a new badge belongs here, in the same transaction, for
        # a single issue and an import alike (the public document is already in the row).
        return issued


def _credential_ids(count: int) -> list[str]:
    """Return ``count`` fresh credential ids, each ``urn:uuid:`` and a uuid4, from one draw of randomness."""
    raw = secrets.token_bytes(16 * count)  # what uuid4 reads, 16 bytes an id, read once for the batch
    return [f"urn:uuid:{uuid.UUID(bytes=raw[i:i + 16], version=4)}" for i in range(0, 16 * count, 16)]


def _logged(rows: Iterator[tuple[Any, ...]], shown: list[str], facts: list[dict[str, Any]], entries: IssueEntries,
            logged: list[tuple[bytes, str | None]]) -> Iterator[tuple[Any, ...]]:
    """Yield the signed badge rows unchanged, keeping each one's log entry (it names the signed credential)."""
    for row, badge, fact in zip(rows, shown, facts, strict=True):
        logged.append((entries.entry(badge, fact["branch_code"], row[7], valid_from=fact["valid_from"],
                                     valid_until=fact["valid_until"]), row[0]))
        yield row


def _signed(badge_rows: list[tuple[Any, ...]], facts: list[dict[str, Any]], signer: BatchSigner,
            progress: Callable[[int], None] | None) -> Iterator[tuple[Any, ...]]:
    """Yield the badge rows with their credentials and public documents, chunk by chunk as signed.

    On PostgreSQL one COPY takes these as they come: the server stores a chunk while the next
    one is signed.
    """
    done = 0
    for credentials in signer.results():
        chunk = slice(done, done + len(credentials))
        for row, fact, jws in zip(badge_rows[chunk], facts[chunk], credentials, strict=True):
            yield (*row[:7], jws, *row[7:], document_text(credential=jws, **fact))
        done += len(credentials)
        if progress is not None:
            progress(len(credentials))
