"""BulkImporter: credentials signed in worker processes are the ones signing in process makes, and every
imported badge is whole (credential, slots, audit event) whichever way it was signed."""

from __future__ import annotations

import gc
import itertools
import logging
import random
import uuid

import pytest
from sqlalchemy import delete, func, select

from signer.batch import MIN_PARALLEL
from signer.credentials import verify_credential
from signer.statuslist import IndexDraws
from tests.conftest import COMMITTEE
from verifier import context
from verifier.audit.service import AuditLog
from verifier.badges import bulk, issuance, statuslists
from verifier.badges.bulk import BulkImporter
from verifier.badges.service import IssueRequest
from verifier.storage.models import AuditEvent, AuditHead, Badge, Member, Shop, StatusList, StatusSlot


@pytest.fixture
def branches(make_branch):
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")


def _rows(count: int) -> list[tuple[int, IssueRequest]]:
    return [(i + 2, IssueRequest(f"店主{i % 300}", f"店铺 \"{i}\"", f"https://s{i}.example.com/shop",
                                 ("taobao", "jd", "tmall")[i % 3], ("B01", "B02")[i % 2], 30 + i % 5,
                                 (f"s{i}.example.com", f"m.s{i}.example.com") if i % 4 else None))
            for i in range(count)]


def _import(app, rows, *, workers: int):
    with app.app_context():
        session = context.begin_write()
        importer = BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                                audit=AuditLog(session, clock=context.clock()), sign_workers=workers)
        report = importer.run(rows, actor=COMMITTEE)
        session.commit()
    assert report.ok, report.errors[:3]
    return report


def _credentials(app) -> dict[str, str]:
    with app.app_context():
        return dict(context.session().execute(select(Badge.id, Badge.credential)).all())


def _forget_imports(app) -> None:
    """Delete what an import wrote (the signing key and branches stay)."""
    with app.app_context():
        session = context.begin_write()
        for model in (StatusSlot, Badge, Shop, Member, StatusList, AuditEvent, AuditHead):
            session.execute(delete(model))
        session.commit()


@pytest.fixture
def repeatable(monkeypatch):
    """Make an import's random choices (ids, indexes, list ids, credential ids) repeat from a fixed seed."""

    def reset() -> None:
        ids = (f"{n:012d}" for n in itertools.count(1))
        monkeypatch.setattr(issuance, "new_badge_id", lambda: next(ids))
        monkeypatch.setattr(issuance, "new_badge_ids", lambda n: [next(ids) for _ in range(n)])
        counter = itertools.count(1)
        monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))
        monkeypatch.setattr(issuance, "_credential_ids",
                            lambda n: [f"urn:uuid:{uuid.UUID(int=next(counter))}" for _ in range(n)])
        seeded = random.Random(7)  # noqa: S311 - repeatable test data
        monkeypatch.setattr(statuslists, "IndexDraws", lambda: IndexDraws(read=seeded.randbytes))
        lists = itertools.count(1)
        monkeypatch.setattr("verifier.badges.statuslists.secrets.token_hex", lambda n: f"{next(lists):0{2 * n}x}")

    return reset


def test_credential_ids_are_uuid4_urns_and_fresh():
    drawn = issuance._credential_ids(300)
    assert len(set(drawn)) == 300
    for cid in drawn:
        assert cid.startswith("urn:uuid:")
        parsed = uuid.UUID(cid.removeprefix("urn:uuid:"))
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == cid[9:]


def test_workers_sign_byte_for_byte_what_signing_in_process_signs(app, branches, repeatable, caplog):
    caplog.set_level(logging.INFO, logger="verifier.badges.bulk")
    rows = _rows(MIN_PARALLEL)
    repeatable()
    _import(app, rows, workers=0)
    in_process = _credentials(app)
    _forget_imports(app)
    repeatable()
    _import(app, rows, workers=1)
    in_workers = _credentials(app)
    assert "signed in process" in caplog.text and "signed in worker processes" in caplog.text
    assert len(in_workers) == MIN_PARALLEL
    assert in_workers == in_process


@pytest.mark.parametrize("workers,count", [(0, 40), (1, 40), (1, MIN_PARALLEL)])
def test_every_imported_badge_is_whole_and_its_credential_verifies(app, branches, workers, count):
    report = _import(app, _rows(count), workers=workers)
    assert len(report.issued) == count
    with app.app_context():
        session = context.session()
        keyring = context.keyring()
        badges = session.execute(select(Badge)).scalars().all()
        slots = {(s.badge_id, s.purpose): (s.list_id, s.idx) for s in session.execute(select(StatusSlot)).scalars()}
        for badge in badges:
            verified = verify_credential(badge.credential, issuer=context.issuer(), resolve_key=keyring.public_key)
            assert verified.kid == badge.kid
            assert verified.credential_id == badge.credential_id
            assert verified.badge_id.replace("-", "") == badge.id
            assert verified.valid_until == badge.valid_until
            subject = verified.payload["credentialSubject"]
            assert subject["shop"]["hosts"] == badge.shop.hosts and subject["shop"]["url"] == badge.shop.url
            assert "holder" not in subject  # no personal name in a portable credential
            assert {(e.purpose, e.list_url.rsplit("/", 1)[1], e.index) for e in verified.status_entries} == {
                (purpose, *slots[(badge.id, purpose)]) for purpose in ("revocation", "suspension")}
        assert len(slots) == 2 * count
        used = session.execute(select(func.sum(StatusList.used))).scalar_one()
        assert used == 2 * count
        issued = session.execute(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "issue")).scalar_one()
        assert issued == count
        assert AuditLog(session, clock=context.clock()).verify_chain() == []
        # Without member_ref every row is a new person: a name never merges two members.
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == count


def test_an_import_never_merges_people_by_name(app, branches):
    _import(app, [(2, IssueRequest("店主1", "店", "https://first.example/", "jd", "B01"))], workers=0)
    _import(app, [(2, IssueRequest("店主1", "店2", "https://second.example/", "jd", "B01")),
                  (3, IssueRequest("店主1", "店3", "https://third.example/", "jd", "B01"))], workers=0)
    with app.app_context():
        members = context.session().execute(select(Member.name)).scalars().all()
        shops = context.session().execute(select(Shop.member_id)).scalars().all()
    assert members == ["店主1"] * 3 and len(set(shops)) == 3


def test_an_import_finds_or_creates_members_by_member_ref(app, branches):
    _import(app, [(2, IssueRequest("店主1", "店", "https://first.example/", "jd", "B01", member_ref="WS-1"))],
            workers=0)
    _import(app, [(2, IssueRequest("店主1", "店2", "https://second.example/", "jd", "B01", member_ref="WS-1")),
                  (3, IssueRequest("店主2", "店3", "https://third.example/", "jd", "B02", member_ref="WS-2")),
                  (4, IssueRequest("店主2", "店4", "https://fourth.example/", "jd", "B02", member_ref="WS-2")),
                  (5, IssueRequest("店主1", "店5", "https://fifth.example/", "jd", "B01"))], workers=0)
    with app.app_context():
        by_ref = dict(context.session().execute(
            select(Member.member_ref, func.count(Shop.id)).join(Shop, Shop.member_id == Member.id)
            .group_by(Member.member_ref)).all())
    assert by_ref == {"WS-1": 2, "WS-2": 2, None: 1}


@pytest.mark.parametrize("rows,line,field,match", [
    ([("店主9", "B01", "WS-1")], 2, "holder", "'店主9' is not the name of the member chosen by member_ref"),
    ([("店主1", "B02", "WS-1")], 2, "member_ref", "outside branch B02"),
    ([("店主3", "B01", "WS-3"), ("店主4", "B01", "WS-3")], 3, "member_ref", "another holder or branch"),
    ([("店主3", "B01", "WS-3"), ("店主3", "B02", "WS-3")], 3, "member_ref", "another holder or branch"),
])
def test_an_import_refuses_a_member_ref_that_names_someone_else_and_imports_nothing(app, branches, rows, line,
                                                                                    field, match):
    _import(app, [(2, IssueRequest("店主1", "店", "https://first.example/", "jd", "B01", member_ref="WS-1"))],
            workers=0)
    requests = [(i + 2, IssueRequest(h, "店", f"https://x{i}.example/", "jd", b, member_ref=r))
                for i, (h, b, r) in enumerate(rows)]
    with app.app_context():
        session = context.begin_write()
        report = BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                              audit=AuditLog(session, clock=context.clock())).run(requests, actor=COMMITTEE)
        session.rollback()
    assert [(e.line, e.field) for e in report.errors] == [(line, field)]
    assert match in report.errors[0].message and not report.issued
    with app.app_context():
        assert context.session().execute(select(func.count()).select_from(Member)).scalar_one() == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_an_import_pauses_the_cyclic_collector_and_leaves_it_as_it_found_it(app, branches, monkeypatch, enabled):
    seen = []
    real_issue = issuance.Issuance.issue

    def issue(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return real_issue(self, *args, **kwargs)

    monkeypatch.setattr(issuance.Issuance, "issue", issue)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        _import(app, _rows(3), workers=0)
        assert seen == [False]
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_overlapping_imports_resume_the_collector_when_the_last_one_ends():
    was = gc.isenabled()
    gc.enable()
    try:
        with bulk._collector_paused():
            with bulk._collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
