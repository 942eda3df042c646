"""The precomputed public document: every write path leaves it equal to a fresh one, and the row decides."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import select, text, update

from signer.ids import parse_badge_id
from signer.lifecycle import State
from tests.conftest import COMMITTEE
from verifier import context
from verifier.audit.consistency import check_consistency
from verifier.audit.service import AuditLog
from verifier.badges.bulk import BulkImporter
from verifier.badges.service import IssueRequest
from verifier.storage.db import make_engine
from verifier.storage.engine import IMMEDIATE
from verifier.storage.migrate import alembic_config, upgrade
from verifier.storage.models import Badge, Branch, Member, Shop
from verifier.storage.publicdoc import compute_documents, fill_missing, refresh_public_document
from verifier.verification.record import status_json


def _stored_and_fresh(app, badge_id: str) -> tuple[str | None, str]:
    canonical = parse_badge_id(badge_id)
    with app.app_context():
        session = context.session()
        stored = session.execute(select(Badge.public_doc).where(Badge.id == canonical)).scalar_one()
        return stored, compute_documents(session, [canonical])[canonical]


def _expected(app, badge_id: str) -> dict:
    """The JSON status computed from the ORM rows (the path the admin API and CLI use)."""
    with app.app_context():
        return status_json(context.badge_service().get(badge_id), issuer=context.issuer(), now=context.clock()())


def _assert_fresh(app, client, badge_id: str) -> None:
    stored, fresh = _stored_and_fresh(app, badge_id)
    assert stored == fresh
    response = client.get(f"/api/v1/badges/{badge_id}")
    assert response.status_code == 200
    body = json.loads(response.data)
    expected = _expected(app, badge_id)
    assert body == expected
    assert list(body) == list(expected)  # the contract's field order
    assert response.data.endswith(b"\n") and response.mimetype == "application/json"


@pytest.mark.parametrize(("steps"), [
    [],
    [("suspend", {})],
    [("suspend", {}), ("reinstate", {})],
    [("revoke", {"reason": "misconduct", "note": "私密"})],
    [("suspend", {}), ("revoke", {"reason": "shop_closed"})],
    [("renew", {"valid_days": 30})],
    [("resign", {})],
], ids=["issue", "suspend", "reinstate", "revoke", "revoke-suspended", "renew", "resign"])
def test_every_lifecycle_write_leaves_the_document_fresh(app, client, issue_badge, act, clock, steps):
    badge_id = issue_badge(shop_name="老王 \"正品\" 店", hosts=("wang.example.com",))
    for method, kwargs in steps:
        clock.advance(hours=1)
        act(method, badge_id, **kwargs)
    _assert_fresh(app, client, badge_id)


def test_an_approved_application_has_a_fresh_document(app, client, make_branch, act):
    make_branch()
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(
            IssueRequest("申请人", "申请小店", "https://apply1.example.com", "jd", "B01", 30, None),
            actor=COMMITTEE, state=State.PENDING)
        context.session().commit()
        badge_id = badge.id
    assert client.get(f"/api/v1/badges/{badge_id}").status_code == 404  # pending: not public
    act("approve", badge_id)
    _assert_fresh(app, client, badge_id)


def test_an_import_leaves_every_document_fresh(app, client, make_branch):
    make_branch()
    rows = [(i + 2, IssueRequest(f"店主{i}", f"导入店铺{i}", f"https://imp{i}.example.com", "taobao", "B01", 60,
                                 None)) for i in range(7)]
    with app.app_context():
        session = context.begin_write()
        report = BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                              audit=AuditLog(session, clock=context.clock())).run(rows, actor=COMMITTEE)
        session.commit()
    assert report.ok and len(report.issued) == 7
    for badge_id in report.issued:
        _assert_fresh(app, client, badge_id)


def test_a_rename_refreshed_in_its_transaction_shows_at_once(app, client, issue_badge):
    badge_id = issue_badge(shop_name="旧名字小店")
    with app.app_context():
        session = context.begin_write()
        badge = context.badge_service().get(badge_id)
        badge.shop.name = "新名字小店"
        refresh_public_document(session, [badge.id])
        session.commit()
    _assert_fresh(app, client, badge_id)
    assert json.loads(client.get(f"/api/v1/badges/{badge_id}").data)["shop"]["name"] == "新名字小店"
    assert "新名字小店" in client.get(f"/v/{badge_id}").get_data(as_text=True)


@pytest.mark.parametrize("change", ["shop", "member", "branch", "badge"])
def test_a_change_made_around_the_service_empties_the_document(app, client, issue_badge, change):
    """Any other road (SQL, a script): the database's guards empty the document; the rows are read instead."""
    badge_id = issue_badge(shop_name="旧名字小店", holder="旧名字")
    canonical = parse_badge_id(badge_id)
    with app.app_context():
        session = context.begin_write()
        badge = session.get(Badge, canonical)
        statement = {
            "shop": update(Shop).where(Shop.id == badge.shop_id).values(name="新名字小店"),
            "member": update(Member).where(Member.id == badge.shop.member_id).values(name="新名字"),
            "branch": update(Branch).where(Branch.id == badge.branch_id).values(name="新支部"),
            "badge": update(Badge).where(Badge.id == canonical).values(valid_until=datetime(2030, 1, 1, tzinfo=UTC)),
        }[change]
        session.execute(statement)
        session.commit()
        assert check_consistency(context.session()) == [f"badge {badge_id}: no precomputed public document"]
    body = json.loads(client.get(f"/api/v1/badges/{badge_id}").data)
    assert body == _expected(app, badge_id)
    shown = {"shop": body["shop"]["name"], "member": body["holder"]["display_name"],
             "branch": body["branch"]["name"], "badge": body["valid_until"]}[change]
    assert shown == {"shop": "新名字小店", "member": "新名字", "branch": "新支部", "badge": "2030-01-01T00:00:00Z"}[change]


def test_a_document_that_disagrees_with_its_rows_is_flagged(app, issue_badge):
    badge_id = issue_badge()
    with app.app_context():
        session = context.begin_write()
        session.execute(update(Badge).where(Badge.id == parse_badge_id(badge_id))
                        .values(public_doc='{"id":"' + badge_id + '","holder":{"display_name":"别人"}}'))
        session.commit()
        problems = check_consistency(context.session())
    assert problems == [f"badge {badge_id}: its precomputed public document differs from its record"]


def test_a_missing_document_is_flagged_and_read_through_the_rows(app, client, issue_badge):
    badge_id = issue_badge()
    with app.app_context():
        session = context.begin_write()
        session.execute(update(Badge).where(Badge.id == parse_badge_id(badge_id)).values(public_doc=None))
        session.commit()
        assert check_consistency(context.session()) == [f"badge {badge_id}: no precomputed public document"]
    body = json.loads(client.get(f"/api/v1/badges/{badge_id}").data)
    assert body == _expected(app, badge_id)


@pytest.mark.parametrize("path", ["/api/v1/badges/{}", "/v/{}"])
def test_a_committed_revocation_shows_on_the_very_next_read(app, client, issue_badge, act, path):
    badge_id = issue_badge()
    assert client.get(path.format(badge_id)).status_code == 200  # the page/answer for "valid" is now cached
    act("revoke", badge_id, reason="misconduct")
    response = client.get(path.format(badge_id))
    if path.startswith("/api"):
        body = json.loads(response.data)
        assert (body["status"], body["revocation"]["reason"]) == ("revoked", "misconduct")
    else:
        page = response.get_data(as_text=True)
        assert "state-revoked" in page and "state-valid" not in page


@pytest.mark.parametrize("path", ["/api/v1/badges/{}", "/v/{}"])
def test_the_row_decides_even_beside_a_stale_document(app, client, issue_badge, path):
    """A document cannot say "valid": the state column in the same row decides, read at request time."""
    badge_id = issue_badge()
    assert client.get(path.format(badge_id)).status_code == 200
    revoked_at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    with app.app_context():
        session = context.begin_write()  # the state changes behind the service's back: the document stays
        session.execute(update(Badge).where(Badge.id == parse_badge_id(badge_id))
                        .values(state="revoked", revoked_at=revoked_at, revocation_reason="shop_closed"))
        session.commit()
    response = client.get(path.format(badge_id))
    if path.startswith("/api"):
        body = json.loads(response.data)
        assert body["status"] == "revoked"
        assert body["revocation"] == {"reason": "shop_closed", "at": "2026-11-25T03:00:00Z"}
    else:
        assert "state-revoked" in response.get_data(as_text=True)


def _migrate(conn, url: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def _old_registry(url: str):
    """A database at revision 0009 (before the column) holding one badge; return its engine."""
    engine = make_engine(url)
    now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        _migrate(conn, url, "0009")
        conn.execute(text("INSERT INTO branches (id, code, name, created_at) VALUES (1, 'B01', '一支部', :t)"),
                     {"t": now})
        conn.execute(text("INSERT INTO members (id, name, branch_id, created_at) VALUES (1, '王五', 1, :t)"),
                     {"t": now})
        conn.execute(text("INSERT INTO shops (id, member_id, platform, name, url, url_key, hosts, created_at) "
                          "VALUES (1, 1, 'taobao', '王五小店', 'https://w.taobao.com', 'https://w.taobao.com', "
                          "'[\"w.taobao.com\"]', :t)"), {"t": now})
        conn.execute(text("INSERT INTO badges (id, shop_id, branch_id, state, valid_from, valid_until, credential, "
                          "updated_at) VALUES ('7K3M9QX2HT4B', 1, 1, 'active', :t, :u, 'a.b.c', :t)"),
                     {"t": now, "u": now.replace(year=2027)})
    return engine


def test_the_migration_leaves_documents_to_the_code(tmp_path):
    """Migration 0010 adds the column empty (it runs no application code); the read path copes until init fills it."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = _old_registry(url)
    with engine.begin() as conn:
        _migrate(conn, url, "head")
        assert conn.execute(text("SELECT public_doc FROM badges")).scalar_one() is None
    engine.dispose()


def test_an_upgrade_computes_documents_for_existing_badges(tmp_path):
    engine = _old_registry(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine)  # what `liang init` runs
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT public_doc FROM badges")).scalar_one()
    engine.dispose()
    assert json.loads(stored) == {
        "id": "7K3M-9QX2-HT4B", "holder": {"display_name": "王五"},
        "shop": {"name": "王五小店", "platform": "taobao", "url": "https://w.taobao.com", "hosts": ["w.taobao.com"]},
        "branch": {"code": "B01", "name": "一支部"}, "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2027-01-01T00:00:00Z", "credential": "a.b.c"}


def test_init_refills_a_document_a_guard_emptied(app, issue_badge, run_cli):
    badge_id = issue_badge(shop_name="旧名字小店")
    canonical = parse_badge_id(badge_id)
    with app.app_context():
        session = context.begin_write()
        shop_id = session.get(Badge, canonical).shop_id
        session.execute(update(Shop).where(Shop.id == shop_id).values(name="新名字小店"))  # around the service
        session.commit()
    assert _stored_and_fresh(app, badge_id)[0] is None
    assert run_cli("init").exit_code == 0
    stored, fresh = _stored_and_fresh(app, badge_id)
    assert stored == fresh and "新名字小店" in stored
    with app.app_context():
        assert check_consistency(context.session()) == []


def test_a_rename_committed_while_init_fills_is_never_left_stale(app, issue_badge):
    """A rename in flight holds its rows; the fill waits for it and then reads the new name."""
    badge_id = issue_badge(shop_name="旧名字小店")
    canonical = parse_badge_id(badge_id)
    with app.app_context():
        engine = context.database().engine
        with engine.begin() as conn:
            conn.execute(update(Badge).where(Badge.id == canonical).values(public_doc=None))
            shop_id = conn.execute(select(Badge.shop_id).where(Badge.id == canonical)).scalar_one()
        filled: list[int] = []
        with engine.connect().execution_options(**{IMMEDIATE: True}) as renamer:
            renamer.begin()
            renamer.execute(update(Shop).where(Shop.id == shop_id).values(name="新名字小店"))  # not yet committed
            worker = threading.Thread(target=lambda: filled.append(fill_missing(engine)))
            worker.start()
            worker.join(0.5)
            assert worker.is_alive()  # waiting for the rename's rows, not reading around them
            renamer.commit()
        worker.join(10)
        assert filled == [1]
    stored, fresh = _stored_and_fresh(app, badge_id)
    assert stored == fresh and "新名字小店" in stored


def test_the_etag_is_the_bodys_sha256_and_answers_304(app, client, issue_badge):
    """The body is hashed in pieces (to keep the GIL): the tag is still the whole body's SHA-256."""
    import hashlib

    badge_id = issue_badge(shop_name="长" * 150)  # a body well over one 2 KiB piece
    response = client.get(f"/api/v1/badges/{badge_id}")
    assert len(response.data) > 2 * 2047
    assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()[:32]}"'
    assert response.headers["Vary"] == "Accept-Language"
    again = client.get(f"/api/v1/badges/{badge_id}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("what", ["member", "branch"])
def test_a_rename_in_the_console_refreshes_the_documents_and_audit_verify_stays_clean(app, client, issue_badge,
                                                                                      run_cli, what):
    """Issue 24 F: renaming a member (or branch) left the documents empty and `audit verify` exit 1."""
    badge_id = issue_badge(shop_name="改名小店", holder="旧名字")
    canonical = parse_badge_id(badge_id)
    with app.app_context():
        badge = context.session().get(Badge, canonical)
        member_id, branch_code = badge.shop.member_id, badge.branch.code
        if what == "member":
            context.org_actions().edit_member(member_id, name="新名字", contact=None, groups=(), actor=COMMITTEE,
                                              allow=lambda member: None)
        else:
            context.org_actions().edit_branch(branch_code, "新支部名", actor=COMMITTEE)
    stored, fresh = _stored_and_fresh(app, badge_id)
    assert stored is not None and stored == fresh
    body = json.loads(client.get(f"/api/v1/badges/{badge_id}").data)
    assert (body["holder"]["display_name"] if what == "member" else body["branch"]["name"]) in {"新名字", "新支部名"}
    result = run_cli("audit", "verify")
    assert result.exit_code == 0, result.stderr
