"""The administration console under ``/admin/`` (server-rendered, Simplified Chinese first).

Every view is wrapped by :func:`verifier.guards.console`, which signs the user in
and asks the policy; views tied to one branch's record ask again with its branch.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from signer.ids import format_badge_id, parse_badge_id
from signer.lifecycle import REVOCATION_REASONS, State, allowed_actions
from verifier import charts, context, guards
from verifier.auth import principal_for
from verifier.extensions import limiter
from verifier.httperrors import ApiError
from verifier.models import ApiToken, AuditEvent, Badge, Branch, Member, PartyGroup, User
from verifier.policy import branch_scope, decide
from verifier.public import PLATFORM_NAMES
from verifier.services.accounts import AccountService
from verifier.services.audit import AuditLog
from verifier.services.badges import PLATFORMS, IssueRequest, status_json
from verifier.services.dashboard import STATES, DashboardService
from verifier.services.logins import LoginRefused, LoginService, new_totp_secret, totp_uri
from verifier.services.org import GROUP_KINDS, OrgService
from verifier.services.verifycounts import VerificationCounter

PRIVATE = True
PER_PAGE = 50
_logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

ACTIONS = ("suspend", "reinstate", "renew", "revoke")


def register(app: Flask) -> None:
    """Mount the console, set the idle timeout and count verifications for the dashboard."""
    app.permanent_session_lifetime = timedelta(minutes=int(app.config.get("ADMIN_IDLE_MINUTES", 30)))
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True  # idle timeout: each request restarts the clock
    app.register_blueprint(bp)
    _install_verification_counter(app)


def _install_verification_counter(app: Flask) -> None:
    counter = VerificationCounter(timezone=app.config["TIMEZONE"],
                                  flush_seconds=float(app.config.get("VERIFY_COUNT_FLUSH_SECONDS", 10)))
    app.extensions["liang.verify_counter"] = counter
    counted = {"public.verify_page", "api.badge_status"}

    @app.after_request
    def _count(response: Response) -> Response:
        if request.endpoint in counted and response.status_code in (200, 304) and request.view_args:
            try:
                canonical = parse_badge_id(str(request.view_args.get("raw_id", "")))
            except Exception:  # noqa: BLE001 - counting must never break verification
                return response
            if counter.hit(canonical, at=context.clock()()):
                # In the background: a flush is a write transaction (an fsync), and a
                # verification must never wait for one.
                counter.flush_soon(context.database().engine)
        return response


# -- helpers ----------------------------------------------------------------------------------
def _audit() -> AuditLog:
    return AuditLog(context.session(), clock=context.clock())


def _org() -> OrgService:
    return OrgService(context.session(), clock=context.clock(), audit=_audit())


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1 or int(raw) > 100_000:
        raise ApiError(400, "invalid_request", _("页码不正确。"))
    return int(raw)


def _confirmed() -> None:
    """Refuse a write whose confirmation box was not ticked (server-side; no JavaScript needed)."""
    if request.form.get("confirm") != "yes":
        raise ApiError(400, "invalid_request", _("请勾选确认框后再提交。"))


def _branches() -> list[Branch]:
    scope = branch_scope(guards.principal())
    query = select(Branch).order_by(Branch.code)
    if scope:
        query = query.where(Branch.code == scope)
    return list(context.session().execute(query).scalars())


def _badge(action: str, raw_id: str) -> Badge:
    if not action.endswith(".read"):
        context.begin_write()
    badge = context.badge_service().get(raw_id)
    guards.allow(action, branch_code=badge.branch.code)
    return badge


def _member(action: str, member_id: int) -> Member:
    if not action.endswith(".read"):
        context.begin_write()
    member = context.session().get(Member, member_id)
    if member is None:
        raise ApiError(404, "not_found", _("没有找到这位党员。"))
    guards.allow(action, branch_code=member.branch.code)
    return member


def _me() -> Any:
    """Return the signed-in administrator for templates (also on other features' console pages)."""
    who = g.get("liang_principal")
    if who is None and current_user and current_user.is_authenticated:
        who = current_user
    return who


def _can(action: str, branch_code: str | None = None) -> bool:
    return decide(_me(), action, branch_code=branch_code).allowed


@bp.app_context_processor
def _console_globals() -> dict[str, Any]:
    # App-wide so that other features' console pages extending admin/base.html get the nav too.
    return {"platform_names": PLATFORM_NAMES, "reason_codes": REVOCATION_REASONS, "can": _can,
            "fmt_id": format_badge_id, "me": _me() if request.path.startswith("/admin") else None}


# -- accounts ---------------------------------------------------------------------------------
def _login_limit() -> str:
    return str(current_app.config.get("LOGIN_RATE_LIMIT", "20 per minute"))


def _login_breach(limit: Any) -> None:
    _logger.warning("login rate limit hit by client %s (%s)", context.client_address(), limit.limit)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=_login_breach,
               error_message="登录尝试过于频繁，请一分钟后再试。")
@guards.console(guards.PUBLIC)
def login() -> Any:
    """Sign in with user name, password and (if enrolled) a TOTP code."""
    nxt = guards.safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("admin/login.html", next=nxt, error=None)
    context.begin_write()
    service = LoginService(context.session(), clock=context.clock(), audit=_audit(),
                           password_cost=context.password_cost())
    try:
        user = service.attempt(request.form.get("username", ""), request.form.get("password", ""),
                               request.form.get("totp"), client=context.client_address())
    except LoginRefused as exc:
        context.session().commit()  # the failure count must stick
        locked = exc.reason == "locked"
        message = _("登录失败次数过多，账户已临时锁定，请 15 分钟后再试。") if locked else _(
            "用户名、密码或动态验证码不正确。")
        return render_template("admin/login.html", next=nxt, error=message), 429 if locked else 401
    context.session().commit()
    session.clear()  # a fresh session at login: nothing from before survives
    login_user(principal_for(user, via="session"))
    session.permanent = True
    return redirect(nxt or url_for("admin.dashboard"))


@bp.post("/logout")
@guards.console(guards.SELF)
def logout() -> ResponseReturnValue:
    """Sign out everywhere: the session nonce changes, so every copy of the cookie stops working."""
    context.begin_write()
    LoginService(context.session(), clock=context.clock(), audit=_audit()).logout(guards.principal().user_id)
    _audit().append(guards.principal().actor(), "logout", target=guards.principal().username)
    context.session().commit()
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))


@bp.route("/totp", methods=["GET", "POST"])
@guards.console(guards.SELF)
def totp() -> Any:
    """Enrol a TOTP second factor for the signed-in account."""
    who = guards.principal()
    user = context.session().get(User, who.user_id)
    if request.method == "POST":
        context.begin_write()
        secret = session.get("totp_pending", "")
        LoginService(context.session(), clock=context.clock(), audit=_audit()).enrol_totp(
            who.user_id, secret, request.form.get("code", ""), actor=who.actor())
        context.session().commit()
        user = context.session().get(User, who.user_id)
        if user is None:  # deleted in the meantime
            raise ApiError(401, "unauthorized", _("请先登录。"))
        session.pop("totp_pending", None)
        login_user(principal_for(user, via="session"))  # the nonce changed: other sessions ended
        session.permanent = True
        flash(_("已启用动态验证码。"))
        return redirect(url_for("admin.dashboard"))
    secret = session.get("totp_pending") or new_totp_secret()
    session["totp_pending"] = secret
    uri = totp_uri(secret, username=who.username)
    from base64 import b64encode

    from signer.qr import qr_svg

    qr = "data:image/svg+xml;base64," + b64encode(qr_svg(uri)).decode("ascii")
    return render_template("admin/totp.html", secret=secret, uri=uri, qr=qr,
                           enrolled=bool(user and user.totp_secret),
                           required=guards._totp_missing(who))  # noqa: SLF001


@bp.route("/tokens", methods=["GET", "POST"])
@guards.console("token.read")
def tokens() -> Any:
    """List the signed-in user's API tokens; create one (shown once)."""
    who = guards.principal()
    shown = None
    if request.method == "POST":
        guards.allow("token.write", branch_code=None)
        context.begin_write()
        label = (request.form.get("label") or "").strip()[:100] or None
        shown = AccountService(context.session(), clock=context.clock()).issue_token(who.username, label=label)
        _audit().append(who.actor(), "token_create", target=who.username, branch_code=who.branch_code,
                        after={"label": label})
        context.session().commit()
    rows = context.session().execute(
        select(ApiToken).where(ApiToken.user_id == who.user_id).order_by(ApiToken.id.desc())).scalars().all()
    response = Response(render_template("admin/tokens.html", tokens=rows, shown=shown))
    response.headers["Cache-Control"] = "no-store"  # the new token must not linger in caches
    return response


@bp.post("/tokens/<int:token_id>/revoke")
@guards.console("token.write")
def token_revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the signed-in user's API tokens."""
    who = guards.principal()
    context.begin_write()
    row = context.session().get(ApiToken, token_id)
    if row is None or row.user_id != who.user_id:
        raise ApiError(404, "not_found", _("没有这个令牌。"))
    AccountService(context.session(), clock=context.clock()).revoke_token(token_id, at=context.clock()())
    _audit().append(who.actor(), "token_revoke", target=f"token:{token_id}", branch_code=who.branch_code)
    context.session().commit()
    return redirect(url_for("admin.tokens"))


# -- dashboard ----------------------------------------------------------------------------------
@bp.get("/")
@guards.console("dashboard.read")
def dashboard() -> str:
    """Charts: badges by state and branch, adoption, complaints, verifications per day; renewals due."""
    scope = branch_scope(guards.principal())
    counter = current_app.extensions.get("liang.verify_counter")
    if counter is not None and counter.flush(context.database().engine):
        context.session().rollback()  # end the read snapshot taken before the flush, so the new counts show
    board = DashboardService(context.session(), now=context.clock()(),
                             timezone=current_app.config["TIMEZONE"]).build(branch=scope)
    names = dict(board.branches)
    state_bars, state_h = charts.stacked_rows([(names[c], board.by_state[c]) for c in names])
    adoption_bars, adoption_h = charts.ratio_rows([(names[c], *board.adoption[c]) for c in names])
    day_bars = charts.columns(board.per_day)
    expiring = context.badge_service().expiring(days=30, branch=scope)
    return render_template("admin/dashboard.html", board=board, state_bars=state_bars, state_h=state_h,
                           adoption_bars=adoption_bars, adoption_h=adoption_h, day_bars=day_bars,
                           colours=charts.STATE_COLOURS, states=STATES, expiring=expiring,
                           total_verifications=sum(n for _, n in board.per_day))


@bp.post("/renewals")
@guards.console("badge.renew")
def renew_many() -> ResponseReturnValue:
    """Renew every selected badge in one action (all or none)."""
    _confirmed()
    ids = request.form.getlist("badge")
    if not ids or len(ids) > 1000:
        raise ApiError(400, "invalid_request", _("请至少选择一枚徽章（一次最多 1000 枚）。"))
    context.begin_write()
    service = context.badge_service()
    badges = [service.get(raw) for raw in ids]
    for badge in badges:  # check them all first: one refusal and nothing is renewed
        guards.allow("badge.renew", branch_code=badge.branch.code)
    for badge in badges:
        service.renew(badge.id, actor=guards.principal().actor())
    context.session().commit()
    flash(_("已续期 %(n)d 枚徽章。", n=len(badges)))
    return redirect(url_for("admin.dashboard"))


# -- badges -------------------------------------------------------------------------------------
@bp.get("/badges")
@guards.console("badge.read")
def badges() -> str:
    """Badge list with search (q), filters (branch, status) and pagination."""
    page = _page()
    wanted = request.args.get("branch") or None
    if wanted:
        guards.allow("badge.read", branch_code=wanted)
    status = request.args.get("status") or None
    q = (request.args.get("q") or "").strip()[:100] or None
    rows, total = context.badge_service().search(branch=branch_scope(guards.principal()) or wanted,
                                                 status=status, q=q, page=page, per_page=PER_PAGE)
    now = context.clock()()
    items = [(b, status_json(b, issuer=context.issuer(), now=now)) for b in rows]
    return render_template("admin/badges.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           branches=_branches(), q=q or "", status=status or "", branch=wanted or "",
                           states=STATES)


@bp.route("/badges/new", methods=["GET", "POST"])
@guards.console("badge.issue")
def badge_new() -> Any:
    """Issue a badge (form with a required confirmation)."""
    if request.method == "GET":
        return render_template("admin/badge_new.html", branches=_branches(), platforms=PLATFORMS)
    form = request.form
    guards.allow("badge.issue", branch_code=form.get("branch", ""))
    _confirmed()
    days = form.get("valid_days", "").strip()
    if days and not days.isdigit():
        raise ApiError(400, "invalid_request", _("有效天数须为整数。"))
    hosts = tuple(form.get("hosts", "").split()) or None
    context.begin_write()
    badge = context.badge_service().issue(
        IssueRequest(form.get("holder", ""), form.get("shop_name", ""), form.get("shop_url", ""),
                     form.get("platform", ""), form.get("branch", ""), int(days) if days else None, hosts),
        actor=guards.principal().actor())
    context.session().commit()
    flash(_("徽章已签发。"))
    return redirect(url_for("admin.badge", badge_id=format_badge_id(badge.id)))


@bp.get("/badges/<badge_id>")
@guards.console("badge.read")
def badge(badge_id: str) -> str:
    """A badge with its history (audit events) and the actions its state allows."""
    row = _badge("badge.read", badge_id)
    shown = format_badge_id(row.id)
    history = context.session().execute(
        select(AuditEvent).where(AuditEvent.target == shown).order_by(AuditEvent.seq.desc()).limit(200)
    ).scalars().all()
    allowed = [a.value for a in allowed_actions(row.state) if a.value in ACTIONS]
    return render_template("admin/badge.html", badge=row, body=status_json(row, issuer=context.issuer(),
                                                                           now=context.clock()()),
                           history=history, actions=allowed)


@bp.route("/badges/<badge_id>/act/<action>", methods=["GET", "POST"])
@guards.console("badge.read")
def badge_action(badge_id: str, action: str) -> Any:
    """Confirm (GET) and take (POST) one lifecycle action on a badge."""
    if action not in ACTIONS:
        raise ApiError(404, "not_found", _("没有这个操作。"))
    policy_action = f"badge.{action}"
    row = _badge(policy_action, badge_id)
    if request.method == "GET":
        return render_template("admin/confirm.html", badge=row, action=action)
    _confirmed()
    service, actor, form = context.badge_service(), guards.principal().actor(), request.form
    note = form.get("note") or None
    if action == "suspend":
        service.suspend(row.id, actor=actor, note=note)
    elif action == "reinstate":
        service.reinstate(row.id, actor=actor, note=note)
    elif action == "renew":
        days = form.get("valid_days", "").strip()
        if days and not days.isdigit():
            raise ApiError(400, "invalid_request", _("有效天数须为整数。"))
        service.renew(row.id, actor=actor, valid_days=int(days) if days else None)
    else:
        service.revoke(row.id, actor=actor, reason=form.get("reason", ""), note=note)
    context.session().commit()
    flash(_("操作已完成。"))
    return redirect(url_for("admin.badge", badge_id=format_badge_id(row.id)))


# -- applications -------------------------------------------------------------------------------
@bp.get("/applications")
@guards.console("application.read")
def applications() -> str:
    """Pending applications in the user's branch (the committee sees every branch)."""
    rows, total = context.badge_service().search(branch=branch_scope(guards.principal()),
                                                 status=State.PENDING.value, page=_page(), per_page=PER_PAGE)
    return render_template("admin/applications.html", rows=rows, total=total)


@bp.post("/applications/<badge_id>/<decision>")
@guards.console("application.decide")
def application_decide(badge_id: str, decision: str) -> ResponseReturnValue:
    """Approve (the badge is signed) or reject (with a reason) an application."""
    if decision not in {"approve", "reject"}:
        raise ApiError(404, "not_found", _("没有这个操作。"))
    row = _badge("application.decide", badge_id)
    _confirmed()
    actor = guards.principal().actor()
    if decision == "approve":
        context.badge_service().approve(row.id, actor=actor)
    else:
        context.badge_service().reject(row.id, actor=actor, note=request.form.get("reason", ""))
    context.session().commit()
    flash(_("已批准，徽章已签发。") if decision == "approve" else _("已驳回。"))
    return redirect(url_for("admin.applications"))


# -- organisation -------------------------------------------------------------------------------
@bp.route("/branches", methods=["GET", "POST"])
@guards.console("branch.read")
def branches() -> Any:
    """Branches with member and badge counts; the committee adds branches."""
    if request.method == "POST":
        guards.allow("branch.write", branch_code=None)
        context.begin_write()
        _org().add_branch(request.form.get("code", ""), request.form.get("name", ""),
                          actor=guards.principal().actor())
        context.session().commit()
        flash(_("支部已添加。"))
        return redirect(url_for("admin.branches"))
    rows = _branches()
    members = dict(context.session().execute(select(Member.branch_id, func.count()).group_by(Member.branch_id)).all())
    badges_n = dict(context.session().execute(select(Badge.branch_id, func.count()).group_by(Badge.branch_id)).all())
    return render_template("admin/branches.html", rows=rows, members=members, badges_n=badges_n)


@bp.route("/groups", methods=["GET", "POST"])
@guards.console("group.read")
def groups() -> Any:
    """Virtual party groups (by trade or area); the committee adds groups."""
    if request.method == "POST":
        guards.allow("group.write", branch_code=None)
        context.begin_write()
        _org().add_group(request.form.get("code", ""), request.form.get("name", ""), request.form.get("kind", ""),
                         actor=guards.principal().actor())
        context.session().commit()
        flash(_("党小组已添加。"))
        return redirect(url_for("admin.groups"))
    scope = branch_scope(guards.principal())
    rows = context.session().execute(
        select(PartyGroup).options(selectinload(PartyGroup.members).selectinload(Member.branch))
        .order_by(PartyGroup.code)).scalars().all()
    visible = {g_.id: [m for m in g_.members if scope is None or m.branch.code == scope] for g_ in rows}
    members_q = select(Member).order_by(Member.name).limit(1000)
    if scope:
        members_q = members_q.join(Member.branch).where(Branch.code == scope)
    return render_template("admin/groups.html", rows=rows, visible=visible, kinds=GROUP_KINDS,
                           members=context.session().execute(members_q).scalars().all())


@bp.post("/groups/<int:group_id>/members")
@guards.console("member.write")
def group_assign(group_id: int) -> ResponseReturnValue:
    """Put a member into a group (branch administrators: their own members)."""
    context.begin_write()
    group = context.session().get(PartyGroup, group_id)
    if group is None:
        raise ApiError(404, "not_found", _("没有这个党小组。"))
    raw = request.form.get("member_id", "")
    if not raw.isdigit():
        raise ApiError(400, "invalid_request", _("请选择党员。"))
    member = _member("member.write", int(raw))
    if group not in member.groups:
        member.groups.append(group)
        _audit().append(guards.principal().actor(), "group_assign", target=f"member:{member.id}",
                        branch_code=member.branch.code, after={"group": group.code})
    context.session().commit()
    flash(_("已加入党小组。"))
    return redirect(url_for("admin.groups"))


@bp.get("/members")
@guards.console("member.read")
def members() -> str:
    """Members, limited to the user's branch; filter by branch and name."""
    page = _page()
    wanted = request.args.get("branch") or None
    if wanted:
        guards.allow("member.read", branch_code=wanted)
    code = branch_scope(guards.principal()) or wanted
    q = (request.args.get("q") or "").strip()[:100]
    query = select(Member).join(Member.branch)
    if code:
        query = query.where(Branch.code == code)
    if q:
        query = query.where(Member.name.like(f"%{q}%"))
    total = context.session().execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = context.session().execute(
        query.options(selectinload(Member.shops), selectinload(Member.groups)).order_by(Member.id.desc())
        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).scalars().all()
    return render_template("admin/members.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           branches=_branches(), branch=wanted or "", q=q)


@bp.route("/members/new", methods=["GET", "POST"])
@guards.console("member.write")
def member_new() -> Any:
    """Add a member to a branch (and groups)."""
    if request.method == "GET":
        all_groups = context.session().execute(select(PartyGroup).order_by(PartyGroup.code)).scalars().all()
        return render_template("admin/member_new.html", branches=_branches(), groups=all_groups)
    guards.allow("member.write", branch_code=request.form.get("branch", ""))
    context.begin_write()
    member = _org().add_member(request.form.get("name", ""), request.form.get("branch", ""),
                               actor=guards.principal().actor(), contact=request.form.get("contact"),
                               groups=tuple(request.form.getlist("groups")))
    context.session().commit()
    return redirect(url_for("admin.member", member_id=member.id))


@bp.get("/members/<int:member_id>")
@guards.console("member.read")
def member(member_id: int) -> str:
    """A member with shops and badges; the private contact only for the own branch and the committee."""
    row = _member("member.read", member_id)
    who = guards.principal()
    show_contact = who.role == "committee" or (who.role == "branch" and who.branch_code == row.branch.code)
    badges_ = context.session().execute(
        select(Badge).where(Badge.shop_id.in_([s.id for s in row.shops] or [-1])).order_by(Badge.updated_at.desc())
    ).scalars().all()
    return render_template("admin/member.html", member=row, show_contact=show_contact, badges=badges_)


# -- audit log ----------------------------------------------------------------------------------
@bp.get("/audit")
@guards.console("audit.read")
def audit() -> str:
    """The audit log, newest first (branch administrators see their branch's events)."""
    page = _page()
    events = _audit().recent(page=page, per_page=PER_PAGE, branch_code=branch_scope(guards.principal()))
    return render_template("admin/audit.html", events=events, page=page, per_page=PER_PAGE)


# -- bulk import --------------------------------------------------------------------------------
def _import_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _importer() -> Any:
    from verifier.services.bulk import BulkImporter

    return BulkImporter(context.session(), issuer=context.issuer(), keyring=context.keyring(),
                        clock=context.clock(), audit=_audit(),
                        status_ttl=int(current_app.config["STATUS_LIST_TTL"]),
                        default_days=int(current_app.config["DEFAULT_VALID_DAYS"]))


@bp.route("/import", methods=["GET", "POST"])
@guards.console("import.read")
def import_page() -> Any:
    """Upload a CSV and preview it: every rejected row with its line number and reason."""
    from verifier.services.bulk import parse_csv

    if request.method == "GET":
        return render_template("admin/import.html", report=None, token=None)
    guards.allow("import.run", branch_code=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "invalid_request", _("请选择一个 CSV 文件。"))
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_request", _("文件必须是 UTF-8 编码的 CSV。")) from exc
    rows, parse_errors = parse_csv(text)
    report = _importer().run(rows, actor=guards.principal().actor(), dry_run=True,
                             branch_scope=branch_scope(guards.principal()), parse_errors=parse_errors)
    token = None
    if report.ok and rows:
        token = secrets.token_urlsafe(16)
        (_import_dir() / f"{token}.csv").write_text(text, encoding="utf-8")
        session["import_token"] = token
    return render_template("admin/import.html", report=report, token=token)


@bp.post("/import/commit")
@guards.console("import.run")
def import_commit() -> ResponseReturnValue:
    """Import the previewed file: all rows or none, in one transaction."""
    from verifier.services.bulk import parse_csv

    _confirmed()
    token = request.form.get("token", "")
    if not token or token != session.get("import_token") or not token.replace("-", "").replace("_", "").isalnum():
        raise ApiError(400, "invalid_request", _("预览已失效，请重新上传文件。"))
    path = _import_dir() / f"{token}.csv"
    if not path.exists():
        raise ApiError(400, "invalid_request", _("预览已失效，请重新上传文件。"))
    rows, parse_errors = parse_csv(path.read_text(encoding="utf-8"))
    context.begin_write()
    report = _importer().run(rows, actor=guards.principal().actor(), branch_scope=branch_scope(guards.principal()),
                             parse_errors=parse_errors)
    if not report.ok:
        context.session().rollback()
        return Response(render_template("admin/import.html", report=report, token=None), status=400)
    context.session().commit()
    path.unlink(missing_ok=True)
    session.pop("import_token", None)
    flash(_("已导入 %(n)d 枚徽章。", n=len(report.issued)))
    return redirect(url_for("admin.badges"))
