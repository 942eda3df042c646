"""Console forms of the organisation: branches, virtual party groups, members and their groups.

Each field is checked by the service's own rule (see :mod:`verifier.console.forms`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from signer.errors import InvalidInput
from verifier.badges.rules import (
    clean_text,
)
from verifier.console.forms import (
    Checked,
    ConsoleForm,
    choice,
    options,
    text,
)
from verifier.organisation.service import GROUP_KINDS, MAX_CODE, MAX_CONTACT, MAX_NAME


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


def _whole(name: str, value: Any) -> None:
    raw = str(value).strip()
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidInput(f"{name} must be a member id", field=name)


class AssignForm(ConsoleForm):
    """Put a member into a group."""

    member_id = StringField(_l("党员"),
                            validators=[Checked(lambda v: _whole("member", v), required=True)])
