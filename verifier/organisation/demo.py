"""A demo organisation: the committee's 8 branches, groups, members and badges in every state.

Loaded by ``liang demo`` in one unit of work (all of it or nothing); the command prints the report.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from signer.clock import Clock
from signer.credentials import Issuer
from signer.ids import format_badge_id
from signer.lifecycle import State
from verifier.accounts.service import AccountService
from verifier.audit.service import Actor
from verifier.badges.rules import IssueRequest
from verifier.badges.service import BadgeService
from verifier.organisation.service import OrgService
from verifier.storage.models import Badge, Branch, PartyGroup
from verifier.storage.unit import UnitOfWork
from verifier.verification.record import status_json

DEMO_ACTOR = Actor(name="demo", role="system", client="cli")

BRANCHES = [
    ("YW01", "电商园区第一支部"), ("YW02", "国际商贸城支部"), ("YW03", "青岩刘村网商支部"),
    ("YW04", "直播电商支部"), ("YW05", "跨境电商支部"), ("YW06", "物流快递支部"),
    ("YW07", "北苑街道网商支部"), ("YW08", "稠城街道网商支部"),
]
GROUPS = [
    ("T-JEWEL", "饰品行业党小组", "trade"), ("T-DAILY", "日用百货党小组", "trade"),
    ("T-TOYS", "玩具行业党小组", "trade"), ("A-QYL", "青岩刘片区党小组", "area"),
    ("A-MALL", "商贸城片区党小组", "area"),
]
# (holder, shop, url, platform, branch, groups, state)
BADGES = [
    ("王建国", "建国饰品旗舰店", "https://jianguo.taobao.com", "taobao", "YW01", ("T-JEWEL",), "valid"),
    ("李秀英", "秀英家居日用", "https://xiuying.tmall.com", "tmall", "YW02", ("T-DAILY", "A-MALL"), "valid"),
    ("张伟", "伟哥玩具批发", "https://zhangwei-toys.1688.com", "1688", "YW03", ("T-TOYS", "A-QYL"), "suspended"),
    ("刘洋", "洋洋直播好物", "https://liuyang.taobao.com", "taobao", "YW04", (), "revoked"),
    ("陈静", "静心小百货", "https://chenjing.pinduoduo.com", "pinduoduo", "YW01", ("T-DAILY",), "expired"),
    ("杨帆", "扬帆跨境", "https://yangfan-export.example.com", "independent", "YW05", (), "not_yet_valid"),
    ("赵磊", "磊磊快递包装", "https://zhaolei.jd.com", "jd", "YW06", (), "valid"),
    ("黄敏", "敏敏发饰", "https://huangmin.taobao.com", "taobao", "YW07", ("T-JEWEL", "A-QYL"), "pending"),
]



class DemoLoader:
    """Create the demo data once (idempotent) and (re)set the demo administrator's password."""

    def __init__(self, uow: UnitOfWork, *, org: OrgService, badges: BadgeService, accounts: AccountService,
                 issuer: Issuer, clock: Clock) -> None:
        self._uow = uow
        self._session = uow.session
        self._org = org
        self._badges = badges
        self._accounts = accounts
        self._issuer = issuer
        self._clock = clock

    def load(self, *, public_url: str) -> dict[str, Any]:
        """Load the organisation and badges if missing, set a fresh admin password; return the report."""
        with self._uow.write():
            if self._session.execute(select(Branch).where(Branch.code == "YW01")).scalar_one_or_none() is None:
                self._organisation()
            password = self._admin_password()
            rows = self._session.execute(select(Badge).where(Badge.state != "pending")).scalars()
            listed = []
            checked = self._clock()  # after issuing: "now" from the start would predate the new badges
            for row in rows:
                body = status_json(row, issuer=self._issuer, now=checked)
                listed.append((body["status"], body["verify_url"]))
        listed.sort()
        return {"username": "admin", "password": password, "admin_url": f"{public_url}/admin/",
                "badges": listed, "first_id": format_badge_id(listed[0][1].rsplit("/", 1)[1]) if listed else None}

    def _organisation(self) -> None:
        org, badges = self._org, self._badges
        now = self._clock()
        for code, name in BRANCHES:
            org.add_branch(code, name, actor=DEMO_ACTOR)
        for code, name, kind in GROUPS:
            org.add_group(code, name, kind, actor=DEMO_ACTOR)
        for holder, shop, url, platform, branch, groups, state in BADGES:
            contact = "138" + "".join(secrets.choice("0123456789") for _ in range(8))
            if state == "pending":
                # An application proposes its own new member (seen by the branch until approved).
                pending = badges.issue(IssueRequest(holder, shop, url, platform, branch), actor=DEMO_ACTOR,
                                       state=State.PENDING, contact=contact)
                pending.shop.member.groups.extend(self._session.execute(
                    select(PartyGroup).where(PartyGroup.code.in_(groups))).scalars())
                continue
            member = org.add_member(holder, branch, actor=DEMO_ACTOR, groups=groups, contact=contact)
            # The badge goes to that person: a request naming no member would make a second one.
            req = IssueRequest(holder, shop, url, platform, branch, member=member.id)
            valid_from = {"expired": now - timedelta(days=400), "not_yet_valid": now + timedelta(days=7)}.get(state)
            badge = badges.issue(req, actor=DEMO_ACTOR, valid_from=valid_from)
            if state == "suspended":
                badges.suspend(badge.id, actor=DEMO_ACTOR, note="演示：投诉处理中")
            elif state == "revoked":
                badges.revoke(badge.id, actor=DEMO_ACTOR, reason="misconduct", note="演示：私密备注，不公开")

    def _admin_password(self) -> str:
        password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        user = self._accounts.by_username("admin")
        if user is None:
            self._accounts.create("admin", password, role="committee")
        else:
            self._accounts.set_password(user, password)
        return password
