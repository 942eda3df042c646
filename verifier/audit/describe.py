"""Audit events in words: "王书记（支部管理员，B01）撤销了徽章 7K3M-9QX2-HT4B（原因：违规经营）".

Every action code the service writes has a sentence here; an unknown code falls back to
the raw code (never an error). The result is plain text: templates escape it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ROLE_NAMES = {
    "committee": _l("委员会管理员"), "branch": _l("支部管理员"), "auditor": _l("审计员"),
    "system": _l("系统"), "public": _l("公众"), "applicant": _l("申请人"),
}

#: Action code → short name (the filter's choices, in this order).
ACTION_NAMES = {
    "issue": _l("签发徽章"), "apply": _l("申请徽章"), "approve": _l("批准申请"), "reject": _l("驳回申请"),
    "suspend": _l("暂停徽章"), "reinstate": _l("恢复徽章"), "renew": _l("续期徽章"), "revoke": _l("撤销徽章"),
    "resign": _l("重新签名"), "complaint_file": _l("提交投诉"), "complaint_status": _l("处理投诉"),
    "complaint_suspend_badge": _l("因投诉暂停徽章"), "complaint_purge": _l("清除投诉个人信息"),
    "member_add": _l("登记成员"), "branch_add": _l("新建支部"), "group_add": _l("新建党小组"),
    "member_edit": _l("修改成员"), "branch_edit": _l("修改支部"), "group_edit": _l("修改党小组"),
    "group_assign": _l("加入党小组"), "user_create": _l("创建账户"), "user_disable": _l("停用账户"),
    "user_enable": _l("启用账户"), "password_reset": _l("重设密码"), "tokens_revoke": _l("吊销全部令牌"),
    "token_create": _l("签发 API 令牌"), "token_revoke": _l("吊销 API 令牌"), "login": _l("登录"),
    "logout": _l("退出"), "account_lock": _l("锁定账户"), "totp_enrol": _l("设置两步验证"),
    "totp_replace": _l("更换两步验证"), "key_create": _l("生成签名密钥"), "key_rotate": _l("轮换签名密钥"),
    "key_retire": _l("停用泄露的密钥"), "log_key_create": _l("生成公开日志密钥"),
}


def _reason(code: str | None) -> str:
    words = {"membership_ended": _("党员身份终止"), "misconduct": _("违规经营"), "shop_closed": _("店铺已关闭"),
             "holder_request": _("本人申请撤销"), "issued_in_error": _("误发"), "key_compromise": _("签名密钥泄露"),
             "superseded": _("已被新徽章取代")}
    return words.get(code or "", code or "")


def _complaint_state(code: Any) -> str:
    words = {"received": _("待受理"), "in_progress": _("处理中"), "resolved": _("已解决"), "rejected": _("不予受理")}
    return words.get(str(code), str(code))


def actor_words(event: Any) -> str:
    """Return "王书记（支部管理员，B01）": the actor's name, role and (for branch roles) branch."""
    role = str(ROLE_NAMES.get(event.role, event.role))
    if event.role == "branch" and event.branch_code:
        return _("%(name)s（%(role)s，%(branch)s）", name=event.actor, role=role, branch=event.branch_code)
    return _("%(name)s（%(role)s）", name=event.actor, role=role)


def action_name(code: str) -> str:
    """Return the short name of an action code (the raw code when unknown)."""
    return str(ACTION_NAMES.get(code, code))


def _badge_sentence(action: str, target: str, after: dict[str, Any]) -> str | None:
    sentences = {
        "apply": _("提交了徽章申请 %(target)s", target=target),
        "approve": _("批准了徽章申请 %(target)s", target=target),
        "reject": _("驳回了徽章申请 %(target)s", target=target),
        "suspend": _("暂停了徽章 %(target)s", target=target),
        "reinstate": _("恢复了徽章 %(target)s", target=target),
        "resign": _("重新签名了徽章 %(target)s", target=target),
        "complaint_suspend_badge": _("因投诉 %(complaint)s 暂停了徽章 %(target)s", target=target,
                                     complaint=after.get("complaint") or ""),
    }
    if action == "issue":
        if after.get("via") == "import":
            return _("通过批量导入签发了徽章 %(target)s", target=target)
        return _("签发了徽章 %(target)s", target=target)
    if action == "revoke":
        reason = after.get("revocation_reason")
        if reason:
            return _("撤销了徽章 %(target)s（原因：%(reason)s）", target=target, reason=_reason(reason))
        return _("撤销了徽章 %(target)s", target=target)
    if action == "renew":
        until = str(after.get("valid_until") or "")[:10]
        return _("续期了徽章 %(target)s（有效期至 %(until)s）", target=target, until=until)
    return sentences.get(action)


def _other_sentence(action: str, target: str, before: dict[str, Any], after: dict[str, Any]) -> str | None:
    if action == "complaint_status":
        return _("将投诉 %(target)s 的状态由“%(old)s”改为“%(new)s”", target=target,
                 old=_complaint_state(before.get("state")), new=_complaint_state(after.get("state")))
    if action == "complaint_purge":
        return _("清除了 %(count)s 件过期投诉的个人信息", count=after.get("complaints", 0))
    if action == "member_add":
        return _("登记了成员 %(name)s", name=after.get("name") or target)
    if action == "group_assign":
        return _("将成员 %(target)s 加入了党小组 %(group)s", target=target, group=after.get("group") or "")
    sentences = {
        "complaint_file": _("提交了投诉 %(target)s", target=target),
        "branch_add": _("新建了支部 %(target)s（%(name)s）", target=target, name=after.get("name") or ""),
        "group_add": _("新建了党小组 %(target)s（%(name)s）", target=target, name=after.get("name") or ""),
        "branch_edit": _("将支部 %(target)s 改名为 %(name)s", target=target, name=after.get("name") or ""),
        "group_edit": _("修改了党小组 %(target)s（%(name)s）", target=target, name=after.get("name") or ""),
        "member_edit": _("修改了成员 %(name)s 的信息", name=after.get("name") or target),
        "user_create": _("创建了管理员账户 %(target)s", target=target),
        "user_disable": _("停用了账户 %(target)s", target=target),
        "user_enable": _("启用了账户 %(target)s", target=target),
        "password_reset": _("重设了账户 %(target)s 的密码", target=target),
        "tokens_revoke": _("吊销了账户 %(target)s 的全部 API 令牌", target=target),
        "token_create": _("为账户 %(target)s 签发了 API 令牌", target=target),
        "token_revoke": _("吊销了 API 令牌 %(target)s", target=target),
        "login": _("登录了控制台"),
        "logout": _("退出了控制台"),
        "account_lock": _("因多次登录失败锁定了账户 %(target)s", target=target),
        "totp_enrol": _("设置了两步验证"),
        "totp_replace": _("更换了两步验证"),
        "key_create": _("生成了签名密钥 %(target)s", target=target),
        "key_rotate": _("轮换了签名密钥，新密钥为 %(target)s", target=target),
        "key_retire": _("停用了已泄露的签名密钥 %(target)s", target=target),
        "log_key_create": _("生成了公开日志 %(target)s 的签名密钥", target=target),
    }
    return sentences.get(action)


def what(event: Any) -> str:
    """Return what the actor did, in words (the raw code for an unknown action)."""
    target = event.target or ""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    sentence = _badge_sentence(event.action, target, after) or _other_sentence(event.action, target, before, after)
    if sentence is not None:
        return sentence
    if target:
        return _("执行了操作 %(action)s（对象：%(target)s）", action=event.action, target=target)
    return _("执行了操作 %(action)s", action=event.action)


def describe(event: Any) -> str:
    """Return the whole sentence: who, then what."""
    return _("%(who)s%(what)s", who=actor_words(event), what=what(event))
