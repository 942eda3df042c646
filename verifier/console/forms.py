"""The console's form toolkit (Flask-WTF): each field checked by the service's own rule, its error in the user's language.

Each domain keeps its own forms beside its views (``badges/forms.py``, ``organisation/forms.py``,
``complaints/forms.py``, ``accounts/forms.py``); this module holds what they share: :class:`Checked`,
the base forms, the one limit of each text field (``LIMITS``) and putting a refusal beside its field.


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
from wtforms import BooleanField, Field, SelectChoice
from wtforms.validators import StopValidation

from signer.errors import InvalidInput
from verifier.badges.rules import (
    MAX_HOSTS,
    MAX_MEMBER_REF,
    MAX_NOTE,
    MAX_TEXT,
    MAX_URL,
    clean_text,
)
from verifier.errorwords import field_message
from verifier.organisation.service import MAX_CODE, MAX_CONTACT, MAX_NAME

#: The one limit of each console text field: the services enforce it, the forms' ``maxlength`` shows it.
LIMITS: dict[str, int] = {
    "holder": MAX_TEXT, "shop_name": MAX_TEXT, "shop_url": MAX_URL, "hosts": MAX_HOSTS,
    "note": MAX_NOTE, "member_ref": MAX_MEMBER_REF, "member_name": MAX_NAME, "contact": MAX_CONTACT,
    "code": MAX_CODE, "name": MAX_NAME,
}


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


def _confirmed(value: Any) -> None:
    if value is not True:
        raise InvalidInput("confirm the action", field="confirm")


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


# -- organisation -------------------------------------------------------------------------------


# -- complaints and accounts --------------------------------------------------------------------


