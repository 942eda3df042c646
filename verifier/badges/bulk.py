"""Bulk issuance from CSV: validate every row first, then insert everything in one transaction.

The per-row ORM path of :class:`BadgeService.issue` costs several round trips a
badge; here ids are reserved up front, each table gets one driver-level insert
(``COPY`` on PostgreSQL, ``executemany`` on SQLite), status-list indexes are drawn
in memory (the list's used indexes are loaded once), the audit chain is extended
with one event per badge in a single insert, and credentials are signed in worker
processes (:mod:`signer.batch`) while the other rows are written.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signer.batch import CHUNK as SIGN_CHUNK
from signer.batch import MIN_PARALLEL, BatchSigner, Job
from signer.clock import Clock, isoformat_z
from signer.credentials import BadgeClaims, Issuer, StatusEntry
from signer.ids import format_badge_id, new_badge_id
from signer.keys import Keyring
from signer.lifecycle import Action, State
from signer.statuslist import PURPOSES, IndexDraws
from verifier.audit.service import Actor, AuditLog
from verifier.badges.csvrows import COLUMNS, MAX_ROWS, OPTIONAL, ImportReport, RowError, parse_csv
from verifier.badges.rules import check_issue
from verifier.badges.service import IssueRequest
from verifier.badges.shops import url_key
from verifier.badges.statuslists import _FILL_LIMIT, StatusListService, list_url
from verifier.errorwords import row_message
from verifier.organisation import members
from verifier.storage.db import insert_many, reserve_ids
from verifier.storage.models import Badge, Branch, Member, Shop, StatusList, StatusSlot

_logger = logging.getLogger(__name__)
__all__ = ["COLUMNS", "MAX_ROWS", "OPTIONAL", "BulkImporter", "ImportReport", "RowError", "as_dict", "parse_csv"]

_LIVE = (State.PENDING.value, State.ACTIVE.value, State.SUSPENDED.value)
_CHUNK = 500


@dataclass(frozen=True)
class _Row:
    line: int
    req: IssueRequest
    hosts: list[str]
    member: int | None = None  # an existing member found by member_ref; else a new member


class BulkImporter:
    """Validate and issue many badges at once; the caller owns (and commits) the transaction."""

    def __init__(self, session: Session, *, issuer: Issuer, keyring: Keyring, clock: Clock, audit: AuditLog,
                 status_ttl: int = 300, default_days: int = 365, sign_workers: int = 0) -> None:
        self._session = session
        # Worker processes for signing (see signer.batch); 0 signs in process. Small imports
        # sign in process anyway: starting the workers would cost more than it saves.
        self._sign_workers = sign_workers
        self._issuer = issuer
        self._keyring = keyring
        self._clock = clock
        self._audit = audit
        self._status_ttl = status_ttl
        self._default_days = default_days

    # -- validation -----------------------------------------------------------
    def validate(self, rows: list[tuple[int, IssueRequest]], *,
                 branch_scope: str | None = None) -> tuple[list[_Row], list[RowError]]:
        """Return the cleaned rows and every row's refusal (nothing is written)."""
        branches = {b.code: b for b in self._session.execute(select(Branch)).scalars()}
        cleaned: list[_Row] = []
        errors: list[RowError] = []
        seen: dict[str, int] = {}
        for line, raw in rows:
            # Every problem of the row, not the first: the person fixes the line once.
            req, problems = check_issue(raw, default_days=self._default_days)
            found = [RowError.of(line, exc) for exc in problems]
            code = raw.branch.strip() if isinstance(raw.branch, str) else ""
            if code and not any(e.field == "branch" for e in found):
                if code not in branches:
                    found.append(RowError(line, "branch", f"no branch with code {code!r}", "unknown",
                                          (("value", code),)))
                elif branch_scope is not None and code != branch_scope:
                    found.append(RowError(line, "branch", f"you may only import into branch {branch_scope}",
                                          "scope", (("branch", branch_scope),)))
            if found or req is None:
                errors.extend(found)
                continue
            hosts = list(req.hosts or ())
            key = url_key(req.shop_url)
            if key in seen:
                errors.append(RowError(line, "shop_url", f"duplicate of line {seen[key]} (same shop URL)",
                                       "duplicate", (("line", seen[key]),)))
                continue
            seen[key] = line
            cleaned.append(_Row(line, req, hosts))
        cleaned = self._members_by_ref(cleaned, branches, errors)
        # A shop URL that already carries a live badge is refused (renew that one instead).
        urls = [url_key(r.req.shop_url) for r in cleaned]
        taken: set[str] = set()
        for i in range(0, len(urls), _CHUNK):
            taken.update(self._session.execute(
                select(Shop.url_key).join(Badge, Badge.shop_id == Shop.id)
                .where(Shop.url_key.in_(urls[i:i + _CHUNK]), Badge.state.in_(_LIVE))
            ).scalars())
        if taken:
            keep = []
            for row in cleaned:
                if url_key(row.req.shop_url) in taken:
                    errors.append(RowError(row.line, "shop_url", "this shop already has a badge; renew it instead",
                                           "shop_has_badge"))
                else:
                    keep.append(row)
            cleaned = keep
        errors.sort(key=lambda e: e.line)
        return cleaned, errors

    def _members_by_ref(self, rows: list[_Row], branches: dict[str, Branch], errors: list[RowError]) -> list[_Row]:
        """Bind rows with a member_ref to the member holding it (same name and branch), else refuse the row."""
        known = members.by_refs(self._session, (r.req.member_ref for r in rows if r.req.member_ref))
        new: dict[str, tuple[str, str]] = {}  # a number first seen in this file: (name, branch)
        keep = []
        for row in rows:
            ref, req = row.req.member_ref, row.req
            if ref is None:
                keep.append(row)
            elif ref in known and known[ref][2] != branches[req.branch].id:
                errors.append(RowError(row.line, "member_ref", f"member_ref belongs to a member outside "
                                                                 f"branch {req.branch}"))
            elif ref in known and known[ref][1] != req.holder:
                errors.append(RowError(row.line, "holder", f"holder {req.holder!r} is not the name of member "
                                                             f"{ref} ({known[ref][1]!r})"))
            elif ref not in known and new.setdefault(ref, (req.holder, req.branch)) != (req.holder, req.branch):
                errors.append(RowError(row.line, "member_ref", "member_ref is given to another holder or branch "
                                                                 "earlier in the file", "ref_reused"))
            else:
                keep.append(_Row(row.line, req, row.hosts, known[ref][0] if ref in known else None))
        return keep

    # -- import ---------------------------------------------------------------
    def run(self, rows: list[tuple[int, IssueRequest]], *, actor: Actor, dry_run: bool = False,
            branch_scope: str | None = None, progress: Callable[[int], None] | None = None,
            parse_errors: Iterable[RowError] = ()) -> ImportReport:
        """Validate everything, then issue all rows or none."""
        early = list(parse_errors)
        report = ImportReport(rows=len(rows) + len(early), dry_run=dry_run)
        with ExitStack() as stack:
            signer = None
            if (not dry_run and self._sign_workers and len(rows) >= MIN_PARALLEL and not early
                    and self._keyring.can_sign):
                # A large import signs in worker processes: start them now, so that their
                # start-up overlaps validation (if a row is refused, they were started in vain).
                signer = stack.enter_context(self._signer())
                signer.start(len(rows))
            cleaned, errors = self.validate(rows, branch_scope=branch_scope)
            report.errors = sorted([*early, *errors], key=lambda e: e.line)
            if report.errors or dry_run or not cleaned:
                return report
            if signer is None:
                signer = stack.enter_context(self._signer())  # KeyUnavailable if this node cannot sign
                signer.start(len(cleaned))
            report.issued = self._write(cleaned, signer, now=self._clock(), actor=actor, progress=progress)
        _logger.info("imported %d badges (signed %s)", len(report.issued),
                     "in worker processes" if signer.parallel else "in process")
        return report

    def _signer(self) -> BatchSigner:
        kid, private = self._keyring.signing_key()
        return BatchSigner(issuer=self._issuer, kid=kid, private_key=private, workers=self._sign_workers)

    def _write(self, rows: list[_Row], signer: BatchSigner, *, now: datetime, actor: Actor,
               progress: Callable[[int], None] | None) -> list[str]:
        session, issuer, default_days, kid = self._session, self._issuer, self._default_days, signer.kid
        branches = {b.code: b for b in session.execute(select(Branch)).scalars()}
        # Members: the one a member_ref names (existing, or new once per file), else a new one per row.
        keys: list[tuple[str, Any]] = [("m", r.member) if r.member is not None else ("ref", r.req.member_ref) if r.req.member_ref
                else ("row", r.line) for r in rows]
        new_members = {k: r for k, r in zip(keys, rows, strict=True) if k[0] != "m"}
        member_ids: dict[tuple[str, Any], int] = dict(zip(new_members, reserve_ids(session, Member.__table__, len(new_members)), strict=True))
        member_ids.update((k, int(k[1])) for k in keys if k[0] == "m")
        shop_ids = reserve_ids(session, Shop.__table__, len(rows))

        slots = _SlotAllocator(session, issuer=issuer, keyring=self._keyring, clock=self._clock,
                               ttl=self._status_ttl)
        list_urls: dict[str, str] = {}
        until: dict[int, tuple[datetime, dict[str, Any]]] = {}
        badge_ids: set[str] = set()
        jobs: list[Job] = []
        badge_rows: list[tuple[Any, ...]] = []
        slot_rows: list[tuple[Any, ...]] = []
        audit_rows: list[dict[str, Any]] = []
        issued: list[str] = []
        active, issue, now_z = State.ACTIVE.value, Action.ISSUE.value, isoformat_z(now)
        for row, shop_id in zip(rows, shop_ids, strict=True):
            badge_id = new_badge_id()
            while badge_id in badge_ids:
                badge_id = new_badge_id()
            badge_ids.add(badge_id)
            shown = format_badge_id(badge_id)
            req = row.req
            branch = branches[req.branch]
            days = req.valid_days or default_days
            if days not in until:
                # One audit "after" document per validity period, shared by its events (stored once).
                ends = now + timedelta(days=days)
                until[days] = (ends, {"state": active, "valid_from": now_z, "valid_until": isoformat_z(ends),
                                      "revocation_reason": None, "kid": kid, "via": "import"})
            valid_until, after = until[days]
            entries = []
            for purpose in PURPOSES:
                list_id, idx = slots.take(purpose)
                slot_rows.append((list_id, idx, purpose, badge_id))
                if list_id not in list_urls:
                    list_urls[list_id] = list_url(issuer, list_id)
                entries.append(StatusEntry(purpose, list_urls[list_id], idx))
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            jobs.append((BadgeClaims(badge_id=shown, shop_name=req.shop_name,
                                     shop_url=req.shop_url, platform=req.platform, hosts=tuple(row.hosts),
                                     branch_code=branch.code, branch_name=branch.name, valid_from=now,
                                     valid_until=valid_until, status_entries=tuple(entries)), credential_id))
            if len(jobs) == SIGN_CHUNK:
                signer.submit(jobs)
                jobs = []
            badge_rows.append((badge_id, shop_id, branch.id, active, now, valid_until, now, credential_id, kid, now))
            audit_rows.append({"action": issue, "target": shown, "branch_code": branch.code, "before": None,
                               "after": after})
            issued.append(shown)
        signer.submit(jobs)

        # With worker processes, the credentials are being signed while these rows are written.
        insert_many(session, Member.__table__, ("id", "name", "member_ref", "branch_id", "contact", "created_at"),
                    [(member_ids[key], r.req.holder, r.req.member_ref, branches[r.req.branch].id, None, now)
                     for key, r in new_members.items()])
        insert_many(session, Shop.__table__, ("id", "member_id", "platform", "name", "url", "url_key", "hosts",
                                                "created_at"),
                    [(shop_id, member_ids[key], r.req.platform, r.req.shop_name, r.req.shop_url,
                     url_key(r.req.shop_url), r.hosts, now)
                     for r, shop_id, key in zip(rows, shop_ids, keys, strict=True)])
        self._audit.append_many(actor, audit_rows)
        # Badge ids are 60 random bits; a clash with a stored id is practically impossible,
        # and the primary key would refuse it (rolling back the whole import) anyway.
        insert_many(session, Badge.__table__, _BADGE_COLUMNS, _signed(badge_rows, signer, progress))
        insert_many(session, StatusSlot.__table__, ("list_id", "idx", "purpose", "badge_id"), slot_rows)
        slots.save_counters()
        return issued


_BADGE_COLUMNS = ("id", "shop_id", "branch_id", "state", "valid_from", "valid_until", "issued_at", "credential",
                  "credential_id", "kid", "updated_at")


def _signed(badge_rows: list[tuple[Any, ...]], signer: BatchSigner,
            progress: Callable[[int], None] | None) -> Iterator[tuple[Any, ...]]:
    """Yield the badge rows with their credentials, chunk by chunk as they are signed.

    On PostgreSQL one COPY takes these as they come: the server stores a chunk while the next
    one is signed.
    """
    done = 0
    for credentials in signer.results():
        for row, jws in zip(badge_rows[done:done + len(credentials)], credentials, strict=True):
            yield (*row[:7], jws, *row[7:])
        done += len(credentials)
        if progress is not None:
            progress(len(credentials))


class _SlotAllocator:
    """Draw random free indexes per purpose, loading each list's used indexes once."""

    def __init__(self, session: Session, *, issuer: Issuer, keyring: Keyring, clock: Clock, ttl: int) -> None:
        self._session = session
        self._lists = StatusListService(session, issuer=issuer, keyring=keyring, clock=clock, ttl_seconds=ttl)
        self._current: dict[str, tuple[str, int, int]] = {}  # purpose -> (list id, size, used)
        self._taken: dict[str, set[int]] = {}
        self._added: dict[str, int] = {}
        self._draws = IndexDraws()

    def _open(self, purpose: str) -> None:
        full = list(self._added)  # lists this import already filled (their counters are not saved yet)
        row = self._session.execute(
            select(StatusList).where(StatusList.purpose == purpose, StatusList.used < _FILL_LIMIT,
                                     StatusList.id.notin_(full))
            .order_by(StatusList.used.desc()).limit(1).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            row = self._lists._create(purpose)  # noqa: SLF001 - same package; one new signed empty list
        self._current[purpose] = (row.id, row.size, row.used)
        self._taken[row.id] = set(self._session.execute(
            select(StatusSlot.idx).where(StatusSlot.list_id == row.id)).scalars())
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
        """Add the slots taken to each list's ``used`` counter."""
        for list_id, added in self._added.items():
            if added:
                self._session.execute(update(StatusList).where(StatusList.id == list_id)
                                      .values(used=StatusList.used + added))


def as_dict(report: ImportReport) -> dict[str, Any]:
    """Return a JSON-friendly view of a report."""
    return {"rows": report.rows, "imported": len(report.issued), "dry_run": report.dry_run,
            "errors": [{"line": e.line, "field": e.field, "message": row_message(e)} for e in report.errors]}
