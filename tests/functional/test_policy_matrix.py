"""Every admin route × role × method, generated from the URL map: no unexpected 2xx/3xx, refusals change nothing.

Roles: committee, branch-own (B01 administrator on B01 records), branch-foreign (B02 administrator on
the same B01 records), auditor, anonymous. URL parameters are filled with real ids of B01 records.
A route whose parameters the test cannot fill, or whose view carries no guard, fails the test.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.functional.admin.conftest import login, make_token, make_user  # noqa: F401 - fixtures
from verifier import context
from verifier.accounts.policy import READ_ACTIONS, WRITE_ACTIONS
from verifier.audit.service import SYSTEM, AuditLog
from verifier.organisation.service import OrgService
from verifier.storage.models import ApiToken, Base, Member, PartyGroup

ROLES = ("committee", "branch-own", "branch-foreign", "auditor", "anonymous")
USERS = {"committee": "boss", "branch-own": "sec1", "branch-foreign": "sec2", "auditor": "eye"}
#: Views where a signed-in administrator acts on their own account (not on the organisation).
SELF_SERVICE = {"admin.logout", "admin.totp", "admin.tokens", "admin.token_revoke"}
#: Of those, the ones that write an API token: still refused to auditors.
TOKEN_WRITES = {"admin.tokens", "admin.token_revoke"}
#: Parameters tied to one branch's record (a foreign branch must get 403 whatever the method).
TIED = {"badge_id", "member_id", "number", "evidence_id"}
PREFIXES = ("/admin", "/api/v1/admin")


@pytest.fixture
def app_config(app_config):
    # Refusals must come from the policy, not from a missing CSRF token.
    app_config["WTF_CSRF_ENABLED"] = False
    return app_config


@pytest.fixture
def world(app, make_branch, make_user, make_token, issue_badge, login):  # noqa: F811
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")
    for role, name in USERS.items():
        make_user(name, {"branch-own": "branch", "branch-foreign": "branch"}.get(role, role),
                  {"branch-own": "B01", "branch-foreign": "B02"}.get(role))
    badge_id = issue_badge(branch="B01", holder="王一")
    with app.app_context():
        context.begin_write()
        org = OrgService(context.session(), clock=context.clock(), audit=AuditLog(context.session(),
                                                                                  clock=context.clock()))
        group = org.add_group("T-ONE", "一组", "trade", actor=SYSTEM)
        member_id = context.session().execute(select(Member.id).where(Member.name == "王一")).scalar_one()
        context.session().commit()
        group_id = group.id
    number, evidence_id = _complaint(app, badge_id)
    tokens = {role: make_token(name) for role, name in USERS.items()}
    with app.app_context():
        token_id = context.session().execute(select(func.min(ApiToken.id))).scalar_one()  # the committee's
    consoles = {role: login(name) for role, name in USERS.items()}
    consoles["anonymous"] = app.test_client()
    params = {"badge_id": badge_id, "member_id": member_id, "group_id": group_id, "token_id": token_id,
              "action": "suspend", "decision": "approve", "number": number, "evidence_id": evidence_id,
              "branch_code": "B01", "group_code": "T-ONE"}
    return {"tokens": tokens, "consoles": consoles, "params": params, "member_id": member_id,
            "badge_id": badge_id}


def _complaint(app, badge_id: str) -> tuple[str, int]:
    """File a complaint (with one evidence photo) against the own-branch badge."""
    from tests.functional.complaints_support import jpeg_with_gps
    from verifier.complaints.service import ComplaintForm
    from verifier.complaints.views import complaint_service

    with app.test_request_context():
        context.begin_write()
        badge = context.badge_service().get_public(badge_id)
        filing = complaint_service().file(
            badge, ComplaintForm(category="quality", description="吹风机坏了", evidence=(jpeg_with_gps(),)),
            client="127.0.0.9", actor=SYSTEM)
        number, evidence_id = filing.complaint.tracking_number, filing.complaint.evidence[0].id
        context.session().commit()
    return number, evidence_id


def _snapshot(app) -> dict[str, Any]:
    """Return every row of every table that an administrator could change (users excluded: login counters)."""
    skip = {"users", "audit_head"}
    with app.app_context():
        conn = context.session().connection()
        state = {}
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(select(table)).all()
            state[table.name] = sorted(repr(tuple(r)) for r in rows)
        context.session().rollback()
    return state


def _body(world: dict[str, Any], n: int) -> dict[str, Any]:
    """A request body that would succeed for B01 if allowed: the refusal must come from the policy."""
    return {"holder": f"测试{n}", "shop_name": f"测试店{n}", "shop_url": f"https://matrix{n}.taobao.com",
            "platform": "taobao", "branch": "B01", "valid_days": 30, "reason": "misconduct", "note": "matrix",
            "confirm": "yes", "code": f"X{n}", "name": f"矩阵{n}", "kind": "trade",
            "member_id": str(world["member_id"]), "badge": world["badge_id"], "label": "matrix"}


def _routes(app) -> list[tuple[Any, str]]:
    rules = sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIXES)), key=lambda r: r.rule)
    return [(rule, method) for rule in rules for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def unclassified(app, params: dict[str, Any]) -> list[str]:
    """Return routes the matrix cannot judge: no guard on the view, or parameters it cannot fill."""
    found = []
    for rule, method in _routes(app):
        action = getattr(app.view_functions[rule.endpoint], "liang_action", None)
        if action is None or action not in READ_ACTIONS | WRITE_ACTIONS | {"self", "public"}:
            found.append(f"{method} {rule.rule}: view {rule.endpoint} is not guarded (no liang_action)")
        unknown = set(rule.arguments) - set(params)
        if unknown:
            found.append(f"{method} {rule.rule}: cannot fill parameter(s) {sorted(unknown)}")
    return found


def _url(rule, params: dict[str, Any]) -> str:
    unknown = set(rule.arguments) - set(params)
    if unknown:
        pytest.fail(f"{rule.rule}: cannot fill parameter(s) {sorted(unknown)}; teach the policy matrix about them")
    return rule.build({k: params[k] for k in rule.arguments}, append_unknown=False)[1]


def _request(world, role: str, method: str, url: str, n: int):
    body = _body(world, n)
    if url.startswith("/api/"):
        client = world["consoles"]["anonymous"]
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer {world['tokens'][role]}"}
        if method == "GET":
            return client.get(url, headers=headers)
        return client.open(url, method=method, json=body, headers=headers)
    client = world["consoles"][role]
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data=body)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/admin/login" in response.headers.get("Location", "")


def test_policy_matrix(app, world):
    routes = _routes(app)
    assert any(r.rule.startswith("/api/v1/admin") for r, _ in routes) and len(routes) > 20
    problems = unclassified(app, world["params"])
    assert not problems, "\n".join(problems)
    counter = itertools.count()
    for rule, method in routes:
        action = app.view_functions[rule.endpoint].liang_action
        url = _url(rule, world["params"])
        tied = bool(set(rule.arguments) & TIED)
        write = method != "GET"
        is_api = rule.rule.startswith("/api/")
        for role in ROLES:
            if action == "public":
                break  # the login page: anyone may see and post it
            if write and role in ("committee", "branch-own"):
                continue  # allowed writes would change the world the other checks rely on
            if rule.endpoint == "admin.logout" and role != "anonymous":
                continue  # would end the session the rest of the matrix uses (tested in test_accounts)
            before = _snapshot(app) if write else None
            response = _request(world, role, method, url, next(counter))
            status = response.status_code
            where = f"{role:>14} {method:<4} {url} -> {status}"
            if status >= 500:
                problems.append(f"{where}: server error")
                continue
            if role == "anonymous":
                if is_api and status != 401 or not is_api and not (_is_login_redirect(response) or status == 401):
                    problems.append(f"{where}: anonymous must get 401 (API) or the login page (console)")
                continue
            if rule.endpoint in SELF_SERVICE and not (role == "auditor" and write and rule.endpoint in TOKEN_WRITES):
                continue  # an administrator's own account: allowed for every signed-in role
            if role == "auditor" and write:
                if status != 403:
                    problems.append(f"{where}: an auditor must get 403 for every write")
            elif role == "auditor":
                pass  # reads are allowed; confirmation pages of writes may be refused (safe either way)
            elif role == "branch-foreign" and tied:
                if status != 403:
                    problems.append(f"{where}: another branch's record must be 403")
            elif role == "branch-foreign" and write:
                if status < 400:
                    problems.append(f"{where}: a write for branch B01 by a B02 administrator succeeded")
            elif status in (401, 403) or status >= 500:
                problems.append(f"{where}: expected to be allowed")
            if before is not None and status >= 400 and _snapshot(app) != before:
                problems.append(f"{where}: refused, but the database changed")
    assert not problems, "\n".join(problems)


def test_matrix_notices_new_routes(app_config, world):
    """The generator itself: a new unguarded route, or one with an unknown parameter, is reported."""
    from flask import Blueprint

    from verifier.accounts.guards import console
    from verifier.app import create_app

    fresh = create_app(app_config)
    extra = Blueprint("extra_for_test", __name__)

    @extra.get("/admin/sneaky")
    def sneaky() -> str:
        return "ok"

    @extra.post("/api/v1/admin/things/<thing_id>")
    @console("badge.read")
    def thing(thing_id: str) -> str:
        return thing_id

    fresh.register_blueprint(extra)
    found = unclassified(fresh, world["params"])
    assert found == ["GET /admin/sneaky: view extra_for_test.sneaky is not guarded (no liang_action)",
                     "POST /api/v1/admin/things/<thing_id>: cannot fill parameter(s) ['thing_id']"]
    fresh.extensions["liang.db"].dispose()


def test_snapshot_sees_changes(app, world):
    """The before/after comparison would notice a change (so refusals are really checked)."""
    before = _snapshot(app)
    with app.app_context():
        context.begin_write()
        context.session().execute(text("UPDATE party_groups SET name = 'changed'"))
        context.session().commit()
    assert _snapshot(app) != before
    with app.app_context():
        assert context.session().execute(select(PartyGroup.name)).scalar_one() == "changed"
