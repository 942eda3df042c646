"""Console forms of badges: issue, act on one, renew many, reject an application.

Each field is checked by the service's own rule (see :mod:`verifier.console.forms`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import StopValidation

from signer.errors import InvalidInput
from signer.lifecycle import REVOCATION_REASONS
from verifier.badges.rules import (
    MAX_BRANCH_CODE,
    MAX_HOSTS,
    MAX_MEMBER_REF,
    MAX_NOTE,
    MAX_TEXT,
    MAX_URL,
    MAX_VALID_DAYS,
    PLATFORMS,
    clean_member_ref,
    validate_shop_url,
)
from verifier.console.forms import (
    Checked,
    Confirm,
    _confirmed,
    choice,
    options,
    text,
)
from verifier.errorwords import input_words

#: A bound on the hosts text box (MAX_HOSTS names of at most 253 characters, spaces between).
HOSTS_CHARS = MAX_HOSTS * 254


def _days(value: Any) -> None:
    raw = str(value).strip()
    if raw and (not raw.isdigit() or not 1 <= int(raw) <= MAX_VALID_DAYS):
        raise InvalidInput(f"valid_days must be a whole number from 1 to {MAX_VALID_DAYS}", field="valid_days")


def _hosts(value: Any) -> None:
    if len(str(value).split()) > MAX_HOSTS:
        raise InvalidInput(f"hosts must be at most {MAX_HOSTS} host names", field="hosts", kind="too_long",
                           limit=MAX_HOSTS)


def _member(value: Any) -> None:
    raw = str(value).strip()
    if raw and raw != "new" and (not raw.isdigit() or len(raw) > 10):
        raise InvalidInput("member must be a member id", field="member")


class IssueForm(Confirm):
    """Issue a badge (``branches`` lists the codes the administrator may issue for)."""

    holder = StringField(_l("经营者（党员姓名）"), validators=[text("holder", MAX_TEXT)])
    member_ref = StringField(_l("党员编号（可选，党委的编号；已有此编号的党员将直接使用）"),
                             validators=[Checked(clean_member_ref, maxlength=MAX_MEMBER_REF)])
    shop_name = StringField(_l("店铺名称"), validators=[text("shop_name", MAX_TEXT)])
    shop_url = StringField(_l("店铺网址"), validators=[Checked(validate_shop_url, maxlength=MAX_URL, required=True)],
                           render_kw={"type": "url", "placeholder": "https://"})
    platform = SelectField(_l("平台"), validate_choice=False,
                           validators=[choice("platform", PLATFORMS)])
    branch = SelectField(_l("支部"), validate_choice=False)
    valid_days = StringField(_l("有效天数（留空为默认）"), validators=[Checked(_days)],
                             render_kw={"type": "number", "min": 1, "max": MAX_VALID_DAYS})
    hosts = StringField(_l("绑定域名（空格分隔，留空取店铺网址的域名）"), validators=[Checked(_hosts, maxlength=HOSTS_CHARS)])
    confirm_foreign_hosts = BooleanField(_l("确认绑定不属于店铺网址的域名（将记入审计日志）"))
    member = StringField(validators=[Checked(_member)])
    confirm = BooleanField(_l("我已核实以上信息，确认签发"), validators=[Checked(_confirmed, required=True)])

    def __init__(self, *args: Any, branches: list[tuple[str, str]], platform_names: dict[str, Any],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = [code for code, _name in branches]
        self.branch.choices = options(branches)
        self.branch.validators = [choice("branch", codes), text("branch", MAX_BRANCH_CODE)]
        self.platform.choices = options((p, platform_names.get(p, p)) for p in PLATFORMS)


class ActionForm(Confirm):
    """One lifecycle action on a badge: a reason (revoke), a note, or days (renew)."""

    reason = SelectField(_l("撤销原因"), validate_choice=False)
    note = TextAreaField(_l("内部备注（不公开）"), validators=[text("note", MAX_NOTE, required=False)],
                         render_kw={"rows": 3})
    valid_days = StringField(_l("有效天数（留空为默认）"), validators=[Checked(_days)],
                             render_kw={"type": "number", "min": 1, "max": MAX_VALID_DAYS})

    def __init__(self, *args: Any, action: str, reason_names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No reason is chosen for the administrator: the one chosen is published for good.
        self.reason.choices = options([("", _l("请选择撤销原因")),
                                       *((r, reason_names.get(r, r)) for r in REVOCATION_REASONS)])
        self.reason.validators = [choice("reason", REVOCATION_REASONS)] if action == "revoke" else []


class RenewManyForm(Confirm):
    """Renew the selected badges (1 to 1000)."""

    badge = SelectMultipleField(validate_choice=False)

    def validate_badge(self, field: Field) -> None:
        """Refuse no selection or more than 1000."""
        if not field.data or len(field.data) > 1000:
            raise StopValidation(input_words("badge", "invalid"))


class RejectForm(Confirm):
    """Reject an application with a reason the applicant reads."""

    reason = StringField(_l("驳回理由（申请人可见）"), validators=[text("reject_reason", MAX_NOTE)])
