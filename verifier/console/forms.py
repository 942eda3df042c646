"""Console form errors: a domain refusal shown beside its field, in the user's language.

The services raise ``InvalidInput`` with a field name and a kind (required, too long, ...) in
English for the API and the CLI; a console form turns it into one message per field here, through
gettext, and renders the same form again with every typed value kept.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from signer.errors import IllegalTransition, InvalidInput
from verifier.badges.rules import MAX_HOSTS, MAX_MEMBER_REF, MAX_NOTE, MAX_TEXT, MAX_URL
from verifier.organisation.service import MAX_CODE, MAX_CONTACT, MAX_NAME

#: The one limit of each console text field: the services enforce it, the forms' ``maxlength`` shows it.
LIMITS: dict[str, int] = {
    "holder": MAX_TEXT, "shop_name": MAX_TEXT, "shop_url": MAX_URL, "hosts": MAX_HOSTS,
    "note": MAX_NOTE, "member_ref": MAX_MEMBER_REF, "member_name": MAX_NAME, "contact": MAX_CONTACT,
    "code": MAX_CODE, "name": MAX_NAME,
}

_LABELS = {
    "holder": _l("经营者姓名"), "shop_name": _l("店铺名称"), "shop_url": _l("店铺网址"), "platform": _l("平台"),
    "branch": _l("支部"), "valid_days": _l("有效天数"), "hosts": _l("绑定域名"), "member_ref": _l("党员编号"),
    "member": _l("党员"), "note": _l("内部备注"), "reason": _l("撤销原因"), "name": _l("名称"),
    "code": _l("编号"), "contact": _l("联系方式"), "kind": _l("类型"), "groups": _l("党小组"),
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
    "reason": _l("请选择撤销原因。"),
    "confirm": _l("请勾选确认框后再提交。"),
    "code": _l("编号只能使用字母、数字、“-”或“_”。"),
    "kind": _l("请选择类型。"),
    "groups": _l("没有这个党小组。"),
}

_STATE_WORDS = {
    "valid": _l("有效"), "active": _l("生效中"), "expired": _l("已过期"), "suspended": _l("已暂停"),
    "revoked": _l("已撤销"), "pending": _l("待审核"), "rejected": _l("已驳回"),
}
_ACTION_WORDS = {"suspend": _l("暂停"), "reinstate": _l("恢复"), "renew": _l("续期"), "revoke": _l("撤销"),
                 "approve": _l("批准"), "reject": _l("驳回")}


def field_message(exc: InvalidInput) -> tuple[str, str]:
    """Return (field, message in the user's language) for a refused form value."""
    field = exc.field or "form"
    label = str(_LABELS.get(field, field))
    if exc.kind == "required":
        return field, _("请填写%(label)s。", label=label)
    if exc.kind == "too_long" and field == "hosts":
        return field, _("最多绑定 %(n)d 个域名。", n=exc.limit or MAX_HOSTS)
    if exc.kind == "too_long" and exc.limit:
        return field, _("%(label)s不能超过 %(n)d 个字符。", label=label, n=exc.limit)
    if exc.kind == "foreign_host":
        return field, _("绑定域名须为店铺网址的域名或其子域名；确需绑定其他域名，请勾选下面的确认框。")
    message = _INVALID.get(field)
    return field, str(message) if message is not None else _("%(label)s不正确。", label=label)


def transition_message(exc: IllegalTransition) -> str:
    """Return "this badge is <state>: it cannot be <action>ed" in the user's language."""
    state = str(_STATE_WORDS.get(exc.state, exc.state))
    action = str(_ACTION_WORDS.get(exc.action, exc.action))
    return _("这枚徽章当前为“%(state)s”，不能%(action)s。", state=state, action=action)


def kept(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    """Return the typed values of ``names`` to fill the form again."""
    return {name: form.get(name, "") for name in names}
