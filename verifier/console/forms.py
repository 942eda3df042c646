"""Console forms (Flask-WTF): each field checked by the service's own rule, its error in the user's language.

A field's validator runs the very check the service runs (``clean_text`` with the service's limit,
``validate_shop_url``, ...), so the form refuses exactly what the service refuses, with the words of
:mod:`verifier.errorwords`, and the limit is rendered as ``maxlength``. A refusal the form cannot
foresee (a namesake, a foreign host, a shop that already has a badge) comes back from the service and
is put beside its field by :func:`refuse`. The form is built from the request, so every typed value
is kept when the page is rendered again. CSRF is checked app-wide (``CSRFProtect``), not per form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

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
    clean_text,
    validate_shop_url,
)
from verifier.complaints.service import MAX_NOTE as MAX_COMPLAINT_NOTE
from verifier.complaints.service import MAX_REPLY
from verifier.errorwords import field_message, input_words
from verifier.organisation.service import GROUP_KINDS, MAX_CODE, MAX_CONTACT, MAX_NAME

#: The one limit of each console text field: the services enforce it, the forms' ``maxlength`` shows it.
LIMITS: dict[str, int] = {
    "holder": MAX_TEXT, "shop_name": MAX_TEXT, "shop_url": MAX_URL, "hosts": MAX_HOSTS,
    "note": MAX_NOTE, "member_ref": MAX_MEMBER_REF, "member_name": MAX_NAME, "contact": MAX_CONTACT,
    "code": MAX_CODE, "name": MAX_NAME,
}
#: A bound on the hosts text box (MAX_HOSTS names of at most 253 characters, spaces between).
HOSTS_CHARS = MAX_HOSTS * 254


class Checked:
    """A validator that runs a service check on the field's value; its refusal is the field's error."""

    def __init__(self, check: Callable[[Any], Any], *, maxlength: int | None = None, required: bool = False) -> None:
        self._check = check
        self.field_flags: dict[str, Any] = {}
        if maxlength:
            self.field_flags["maxlength"] = maxlength
        if required:
            self.field_flags["required"] = True

    def __call__(self, form: Any, field: Field) -> None:
        try:
            self._check(field.data if field.data is not None else "")
        except InvalidInput as exc:
            raise StopValidation(field_message(exc)[1]) from exc


def text(name: str, limit: int, *, required: bool = True) -> Checked:
    """Check text the way the service does: stripped, no NUL, required or not, at most ``limit``."""
    return Checked(lambda v: clean_text(v, name, required=required, limit=limit), maxlength=limit, required=required)


def choice(name: str, allowed: Callable[[], Iterable[str]] | Iterable[str]) -> Checked:
    """Check a value is one of ``allowed`` (a tampered select gets the service's words, not WTForms')."""

    def check(value: Any) -> None:
        options = allowed() if callable(allowed) else allowed
        if value not in set(options):
            raise InvalidInput(f"{name} is not one of the choices", field=name)

    return Checked(check, required=True)


def _days(value: Any) -> None:
    raw = str(value).strip()
    if raw and (not raw.isdigit() or not 1 <= int(raw) <= MAX_VALID_DAYS):
        raise InvalidInput(f"valid_days must be a whole number from 1 to {MAX_VALID_DAYS}", field="valid_days")


def _confirmed(value: Any) -> None:
    if value is not True:
        raise InvalidInput("confirm the action", field="confirm")


def _hosts(value: Any) -> None:
    if len(str(value).split()) > MAX_HOSTS:
        raise InvalidInput(f"hosts must be at most {MAX_HOSTS} host names", field="hosts", kind="too_long",
                           limit=MAX_HOSTS)


def _member(value: Any) -> None:
    raw = str(value).strip()
    if raw and raw != "new" and (not raw.isdigit() or len(raw) > 10):
        raise InvalidInput("member must be a member id", field="member")


def options(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """Return (value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def days_of(field: Field) -> int | None:
    """Return a (validated) days field as a number, None when left empty."""
    raw = (field.data or "").strip()
    return int(raw) if raw else None


def refuse(form: FlaskForm, exc: InvalidInput) -> None:
    """Put a service's refusal beside its field (or above the form when no field shows it)."""
    name, message = field_message(exc)
    target = form._fields.get(name)  # noqa: SLF001 - WTForms' public mapping of fields
    if target is None:
        form.form_errors.append(message)
    else:
        target.errors = [*target.errors, message]


def refuse_with(form: FlaskForm, name: str, message: str) -> None:
    """Put ``message`` beside field ``name``."""
    field = form._fields[name]  # noqa: SLF001
    field.errors = [*field.errors, message]


class ConsoleForm(FlaskForm):
    """A console form: CSRF is checked for every request by ``CSRFProtect``."""

    class Meta:
        csrf = False


class Confirm(ConsoleForm):
    """A write that needs its confirmation box ticked."""

    confirm = BooleanField(_l("我确认执行此操作"), validators=[Checked(_confirmed, required=True)])


# -- badges -------------------------------------------------------------------------------------
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


# -- organisation -------------------------------------------------------------------------------
def _code(name: str) -> Checked:
    def check(value: Any) -> None:
        code = clean_text(value, name, limit=MAX_CODE)
        if not all(c.isalnum() or c in "-_" for c in code):
            raise InvalidInput(f"{name} uses letters, digits, '-' or '_'", field=name)

    return Checked(check, maxlength=MAX_CODE, required=True)


class BranchForm(ConsoleForm):
    """Add a branch."""

    code = StringField(_l("代码"), validators=[_code("code")])
    name = StringField(_l("名称"), validators=[text("name", MAX_NAME)])


class GroupForm(BranchForm):
    """Add a virtual party group (by trade or by area)."""

    kind = SelectField(_l("类型"), choices=options([("trade", _l("按行业")), ("area", _l("按区域"))]),
                       validate_choice=False, validators=[choice("kind", GROUP_KINDS)])


class MemberForm(ConsoleForm):
    """Add a member to a branch and, optionally, to groups."""

    name = StringField(_l("姓名"), validators=[text("member_name", MAX_NAME)])
    branch = SelectField(_l("支部"), validate_choice=False)
    contact = StringField(_l("联系方式（不公开）"), validators=[text("contact", MAX_CONTACT, required=False)])
    groups = SelectMultipleField(_l("党小组"), validate_choice=False, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())

    def __init__(self, *args: Any, branches: Iterable[tuple[str, str]] = (),
                 groups: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        branches, groups = list(branches), list(groups)
        self.branch.choices = options(branches)
        self.branch.validators = [choice("branch", [code for code, _name in branches])]
        self.groups.choices = options(groups)
        self.groups.validators = [Checked(lambda v: _subset("groups", v, [c for c, _n in groups]))]


def _subset(name: str, values: Any, allowed: list[str]) -> None:
    for value in values or ():
        if value not in allowed:
            raise InvalidInput(f"no {name} {value!r}", field=name, kind="unknown", params={"value": str(value)[:40]})


class BranchEditForm(ConsoleForm):
    """Rename a branch."""

    name = StringField(_l("名称"), validators=[text("name", MAX_NAME)])


class GroupEditForm(BranchEditForm):
    """Rename a group or change its kind."""

    kind = GroupForm.kind


class MemberEditForm(ConsoleForm):
    """Correct a member's name and contact; set their groups."""

    name = MemberForm.name
    contact = MemberForm.contact
    groups = SelectMultipleField(_l("党小组"), validate_choice=False, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())

    def __init__(self, *args: Any, groups: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = list(groups)
        self.groups.choices = options(groups)
        self.groups.validators = [Checked(lambda v: _subset("groups", v, [c for c, _n in groups]))]


class AssignForm(ConsoleForm):
    """Put a member into a group."""

    member_id = StringField(_l("党员"),
                            validators=[Checked(lambda v: _whole("member", v), required=True)])


def _whole(name: str, value: Any) -> None:
    raw = str(value).strip()
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidInput(f"{name} must be a member id", field=name)


# -- complaints and accounts --------------------------------------------------------------------
class ComplaintForm(ConsoleForm):
    """Handle a complaint: a new state, a public reply, a private note."""

    status = SelectField(_l("新状态"), validate_choice=False)
    reply = TextAreaField(_l("公开答复（投诉人可在跟踪页面看到）"),
                          validators=[text("reply", MAX_REPLY, required=False)], render_kw={"rows": 4})
    note = TextAreaField(_l("内部备注（不公开）"), validators=[text("note", MAX_COMPLAINT_NOTE, required=False)],
                         render_kw={"rows": 3})
    confirm = BooleanField(_l("我确认办结这件投诉：状态和公开答复将显示给投诉人"))

    def __init__(self, *args: Any, states: list[tuple[str, str]], closing: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = options(states)
        self.status.validators = [choice("status", [code for code, _name in states])]
        self._closing = closing

    def validate_reply(self, field: Field) -> None:
        """Closing a complaint needs a public reply (the service's rule, said beside the field with the others)."""
        if self.status.data in self._closing and not (field.data or "").strip():
            raise StopValidation(input_words("reply", "reply_to_close"))

    def validate_confirm(self, field: Field) -> None:
        """Closing a complaint (resolved, rejected) asks first: the shopper is told at once."""
        if self.status.data in self._closing and field.data is not True:
            raise StopValidation(input_words("confirm", "invalid"))


def _password_pair(form: Any, field: Field) -> None:
    if form.op.data == "reset_password" and field.data != form.password.data:
        raise StopValidation(input_words("password2", "invalid"))


class UserForm(Confirm):
    """Disable, enable, reset the password of, or revoke the tokens of one account."""

    username = StringField(validators=[Checked(lambda v: clean_text(v, "username", limit=64), required=True)])
    op = SelectField(_l("操作"), validate_choice=False,
                     validators=[choice("op", ("disable", "enable", "revoke_tokens", "reset_password"))])
    password = StringField(_l("新密码（仅重设密码时填写）"))
    password2 = StringField(_l("再次输入新密码"), validators=[_password_pair])
