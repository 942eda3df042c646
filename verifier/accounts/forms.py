"""Console form of account control: enable, disable, reset a password, revoke tokens.

Each field is checked by the service's own rule (see :mod:`verifier.console.forms`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectField, StringField
from wtforms.validators import StopValidation

from verifier.badges.rules import (
    clean_text,
)
from verifier.console.forms import (
    Checked,
    Confirm,
    choice,
)
from verifier.errorwords import input_words


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
