"""Console form of complaint handling: the new state, the public reply, the private note.

Each field is checked by the service's own rule (see :mod:`verifier.console.forms`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, SelectField, TextAreaField
from wtforms.validators import StopValidation

from verifier.complaints.service import MAX_NOTE as MAX_COMPLAINT_NOTE
from verifier.complaints.service import MAX_REPLY
from verifier.console.forms import (
    ConsoleForm,
    choice,
    options,
    text,
)
from verifier.errorwords import input_words


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
