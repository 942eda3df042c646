"""The audit log's filters, read from a query string: badge id, actor, action, local date range."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from signer.errors import MalformedId
from signer.ids import format_badge_id, parse_badge_id
from verifier.audit.service import AuditQuery

FILTER_KEYS = ("badge", "actor", "action", "from", "to")
_ACTION = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_ACTOR = 200


class BadFilter(ValueError):
    """A filter value that cannot be used; the message is for the person who typed it."""


def _local_date(raw: str, label: str) -> date:
    if not _DATE.fullmatch(raw):
        raise BadFilter(_("%(label)s不是有效日期，请按 年-月-日 填写，例如 2026-11-30。", label=label))
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadFilter(_("%(label)s不是有效日期，请按 年-月-日 填写，例如 2026-11-30。", label=label)) from None


def parse_filters(args: Mapping[str, str], tz: ZoneInfo) -> tuple[AuditQuery, dict[str, str]]:
    """Return the query and the filter values as typed (badge id canonical); raise BadFilter."""
    shown = {key: (args.get(key) or "").strip() for key in FILTER_KEYS}
    target = actor = action = None
    since = until = None
    if shown["badge"]:
        try:
            target = format_badge_id(parse_badge_id(shown["badge"]))
        except MalformedId:
            raise BadFilter(_("徽章编号格式不正确：应为 12 位字母数字，例如 7K3M-9QX2-HT4B。")) from None
        shown["badge"] = target
    if shown["actor"]:
        if len(shown["actor"]) > _MAX_ACTOR or "\x00" in shown["actor"]:
            raise BadFilter(_("操作人名称过长或含有无效字符。"))
        actor = shown["actor"]
    if shown["action"]:
        if not _ACTION.fullmatch(shown["action"]):
            raise BadFilter(_("操作类型不正确。"))
        action = shown["action"]
    first = _local_date(shown["from"], _("起始日期")) if shown["from"] else None
    last = _local_date(shown["to"], _("截止日期")) if shown["to"] else None
    if first and last and first > last:
        raise BadFilter(_("起始日期晚于截止日期。"))
    if first:
        since = datetime.combine(first, time.min, tzinfo=tz)
    if last:
        until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz) if last < date.max else None
    return AuditQuery(target=target, actor=actor, action=action, since=since, until=until), shown
