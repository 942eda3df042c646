"""Domain errors in words: one sentence per (field, kind), in the user's language.

A service refuses with a code and parameters (``InvalidInput`` field/kind/limit/params,
``IllegalTransition`` state/action, ``Conflict`` reason/params); its English ``message`` is for
logs. What a person reads is made here, through gettext, so that the console (beside the field),
the import preview, the admin API's ``message`` and the CLI say the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from signer.errors import BadgeError, Conflict, IllegalTransition, InvalidInput

_LABELS = {
    "holder": _l("经营者姓名"), "shop_name": _l("店铺名称"), "shop_url": _l("店铺网址"), "platform": _l("平台"),
    "branch": _l("支部"), "valid_days": _l("有效天数"), "hosts": _l("绑定域名"), "member_ref": _l("党员编号"),
    "member": _l("党员"), "note": _l("内部备注"), "reason": _l("撤销原因"), "name": _l("名称"),
    "code": _l("编号"), "contact": _l("联系方式"), "kind": _l("类型"), "groups": _l("党小组"),
    "member_name": _l("姓名"), "reply": _l("公开答复"), "status": _l("状态"), "username": _l("用户名"),
    "password": _l("密码"), "role": _l("角色"), "category": _l("投诉类型"), "description": _l("投诉内容"),
    "order_number": _l("订单号"), "badge": _l("徽章"), "reject_reason": _l("驳回理由"),
}

#: What to say when a field's value is refused for a reason other than "missing" or "too long".
_INVALID = {
    "shop_url": _l("店铺网址须为带域名的 http:// 或 https:// 网址。"),
    "hosts": _l("绑定域名须为域名（如 shop.example.com），用空格分隔。"),
    "platform": _l("请选择平台。"),
    "branch": _l("请选择支部。"),
    "valid_days": _l("有效天数须为 1 到 3650 之间的整数。"),
    "member": _l("请选择一位同名党员，或选择“这是另一个人”。"),
    "member_ref": _l("这个党员编号属于另一位党员或另一个支部，或与所选党员不符。"),
    "holder": _l("经营者姓名与所选党员的姓名不一致。"),
    "reason": _l("请选择撤销原因：原因将公开显示在核验页面上，且不能更改。"),
    "confirm": _l("请勾选确认框后再提交。"),
    "code": _l("编号只能使用字母、数字、“-”或“_”。"),
    "kind": _l("请选择类型。"),
    "groups": _l("没有这个党小组。"),
    "badge": _l("请至少选择一枚徽章（一次最多 1000 枚）。"),
    "password2": _l("两次输入的密码不一致。"),
}

_STATE_WORDS = {
    "valid": _l("有效"), "active": _l("生效中"), "expired": _l("已过期"), "suspended": _l("已暂停"),
    "revoked": _l("已撤销"), "pending": _l("待审核"), "rejected": _l("已驳回"),
}
_COMPLAINT_STATES = {"received": _l("待受理"), "in_progress": _l("处理中"), "resolved": _l("已解决"),
                     "rejected": _l("不予受理")}
_ACTION_WORDS = {"suspend": _l("暂停"), "reinstate": _l("恢复"), "renew": _l("续期"), "revoke": _l("撤销"),
                 "approve": _l("批准"), "reject": _l("驳回")}


def _kind_words() -> dict[str, Callable[[dict[str, Any]], str]]:
    return {
        "no_user": lambda p: _("用户名或密码不正确。"),
        "wrong_password": lambda p: _("密码不正确。"),
        "totp_current": lambda p: _("请输入此账户已绑定的验证器应用当前显示的动态验证码。"),
        "totp_mismatch": lambda p: _("动态验证码不匹配，请检查手机时间后重试。"),
        "password_short": lambda p: _("密码至少需要 %(n)d 个字符。", n=p.get("n", 0)),
        "password_common": lambda p: _("这个密码太常见或包含用户名，请换一个。"),
        "username": lambda p: _("用户名只能使用字母、数字、“.”、“_”或“-”（最多 64 个）。"),
        "no_branch": lambda p: _("只有支部管理员属于某个支部。"),
        "branch_needed": lambda p: _("支部管理员须指定所属支部（命令行：--branch CODE）。"),
        "unknown_member": lambda p: _("没有 id 为 %(value)s 的党员。", value=p.get("value", "")),
        "member_id": lambda p: _("党员须以其 id（一个正整数）指定。"),
        "validity_cap": lambda p: _("续期后徽章的有效期将超过自今日起 %(max)d 天；现在最多还能续 %(n)d 天。",
                                    max=p.get("max", 0), n=p.get("n", 0)),
        "reply_to_close": lambda p: _("办结或不予受理时须填写公开答复：投诉人会在跟踪页面看到它。"),
    }


_KIND_WORDS = _kind_words()


def label(field: str) -> str:
    """Return a field's name in the user's language (the field code when it has none)."""
    return str(_LABELS.get(field, field))


def input_words(field: str | None, kind: str, *, limit: int | None = None, params: dict[str, Any] | None = None) -> str:
    """Return the sentence for a refused value of ``field`` (kind and parameters as the service gave them)."""
    field = field or "form"
    params = params or {}
    name = label(field)
    if kind == "required" and field == "reason":
        return _("请选择撤销原因：原因将公开显示在核验页面上，且不能更改。")
    if kind == "required":
        return _("请填写%(label)s。", label=name)
    if kind == "too_long" and field == "hosts":
        return _("最多绑定 %(n)d 个域名。", n=limit or 0)
    if kind == "too_long" and limit:
        return _("%(label)s不能超过 %(n)d 个字符。", label=name, n=limit)
    if kind == "private_host":
        return _("“%(value)s”不是公网域名（本机名、IP 地址或单独的顶级域名）；确需绑定，请勾选下面的确认框。",
                 value=params.get("value", ""))
    if kind == "foreign_host":
        return _("绑定域名须为店铺网址的域名或其子域名；确需绑定其他域名，请勾选下面的确认框。")
    if kind == "not_host":
        return _("“%(value)s”不是有效的域名。", value=params.get("value", ""))
    if kind == "not_text":
        return _("%(label)s须为文字，且不能包含控制字符。", label=name)
    if kind == "unknown":
        return _("没有“%(value)s”这个%(label)s。", value=params.get("value", ""), label=name)
    if kind in _KIND_WORDS:
        return _KIND_WORDS[kind](params)
    if kind == "choice":
        return _("%(label)s须为以下之一：%(choices)s。", label=name, choices=params.get("choices", ""))
    message = _INVALID.get(field)
    return str(message) if message is not None else _("%(label)s不正确。", label=name)


def field_message(exc: InvalidInput) -> tuple[str, str]:
    """Return (field, message in the user's language) for a refused form value."""
    return exc.field or "form", input_words(exc.field, exc.kind, limit=exc.limit, params=exc.params)


def transition_message(exc: IllegalTransition) -> str:
    """Return "this badge is <state>: it cannot be <action>ed" in the user's language."""
    if exc.subject == "complaint":
        now, asked = (str(_COMPLAINT_STATES.get(s, s)) for s in (exc.state, exc.action))
        if exc.state == exc.action:
            return _("这件投诉已是“%(state)s”：请填写答复或备注后再保存。", state=now)
        return _("这件投诉当前为“%(state)s”，不能改为“%(target)s”。", state=now, target=asked)
    state = str(_STATE_WORDS.get(exc.state, exc.state))
    action = str(_ACTION_WORDS.get(exc.action, exc.action))
    return _("这枚徽章当前为“%(state)s”，不能%(action)s。", state=state, action=action)


def conflict_message(reason: str, params: dict[str, Any] | None = None) -> str:
    """Return what a clash with a stored record means, in the user's language."""
    params = params or {}
    if reason == "shop_has_badge":
        return _("这家店铺已有徽章，请为原徽章续期。")
    if reason == "shop_has_application":
        return _("这家店铺已有一份申请在等待支部审核，请勿重复申请。")
    if reason == "exists":
        return _("“%(value)s”已存在。", value=params.get("value", ""))
    if reason == "last_committee":
        return _("这是最后一个启用的党委账户：请先启用或新建另一个党委账户。")
    return _("这条记录刚被别人修改，您的操作没有执行。请刷新后再试。")


def describe(exc: BadgeError) -> str:
    """Return the words for a domain error (its English message when it has no words of its own)."""
    if isinstance(exc, InvalidInput):
        return field_message(exc)[1]
    if isinstance(exc, IllegalTransition):
        return transition_message(exc)
    if isinstance(exc, Conflict):
        return conflict_message(exc.reason, exc.params)
    return exc.message


def row_words(line: int, field: str | None, message: str) -> str:
    """Return one refused import row as a line: "line 3 (shop_url): <words>"."""
    if field:
        return _("第 %(line)d 行（%(field)s）：%(message)s", line=line, field=field, message=message)
    return _("第 %(line)d 行：%(message)s", line=line, message=message)


def row_message(error: Any) -> str:
    """Return why an import row (a ``bulk.RowError``) was refused, in the user's language (the console's and the API's words)."""
    params = dict(error.params)
    if error.kind == "shop_has_badge":
        return conflict_message("shop_has_badge")
    if error.kind in _ROW_WORDS:
        return _ROW_WORDS[error.kind](params)
    return input_words(error.field, error.kind, limit=error.limit, params=params)


def _row_words() -> dict[str, Callable[[dict[str, Any]], str]]:
    return {
        "empty_file": lambda p: _("文件是空的。"),
        "not_csv": lambda p: _("不是有效的 CSV 文件。"),
        "columns": lambda p: " ".join(
            ([_("缺少列：%(names)s。", names=p["missing"])] if p.get("missing") else [])
            + ([_("未知列：%(names)s。", names=p["unknown"])] if p.get("unknown") else [])
            + [_("列应为：%(names)s。", names=_COLUMNS)]),
        "too_many_rows": lambda p: _("超过 %(n)d 行，请拆分文件。", n=p["n"]),
        "field_count": lambda p: _("应有 %(expected)d 个字段，实际为 %(found)d 个。", expected=p["expected"],
                                   found=p["found"]),
        "duplicate": lambda p: _("与第 %(line)d 行的店铺网址相同。", line=p["line"]),
        "scope": lambda p: _("您只能导入到本支部（%(branch)s）。", branch=p["branch"]),
        "ref_reused": lambda p: _("这个党员编号在文件前面已用于另一位经营者或另一个支部。"),
    }


_COLUMNS = "holder,shop_name,shop_url,platform,branch,valid_days[,hosts][,member_ref]"
_ROW_WORDS = _row_words()

