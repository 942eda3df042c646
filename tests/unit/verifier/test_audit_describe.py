"""Every action code the service writes reads as a sentence, not as its raw code."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask_babel import Babel

from signer.lifecycle import Action
from verifier.audit.describe import ACTION_NAMES, describe

ROOT = Path(__file__).resolve().parents[3]
# The audit log's appenders: `self._audit.append(`, `audit_log().append(`, `AuditLog(...).append(`; the
# action is the first string literal of the call; users_admin picks it as `event, message = "code", ...`.
_APPEND = re.compile(r"(?:_audit|audit_log\(\)|AuditLog\([^()]*\(\)[^()]*\([^()]*\)\))\.append\(")
_POSITIONAL_LITERAL = re.compile(r',\s*"([a-z_]+)"')
_EXTRA = re.compile(r'\bevent, message = "([a-z_]+)"|"([a-z_]+)" if replaced else "([a-z_]+)"')


def _call_arguments(text: str, start: int) -> str:
    depth = 1
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end]
    return text[start:]


def _codes_in_source() -> set[str]:
    found: set[str] = {a.value for a in Action}
    for path in (ROOT / "verifier").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in _APPEND.finditer(text):
            literal = _POSITIONAL_LITERAL.search(_call_arguments(text, call.end()))
            if literal:
                found.add(literal.group(1))
        for match in _EXTRA.finditer(text):
            found.update(code for code in match.groups() if code)
    return found


def test_source_scan_finds_the_known_codes():
    codes = _codes_in_source()
    assert {"issue", "revoke", "login", "logout", "key_rotate", "complaint_status", "password_reset",
            "group_assign", "totp_enrol", "token_revoke"} <= codes


@pytest.mark.parametrize("code", sorted(_codes_in_source()))
def test_every_written_code_has_a_sentence(code):
    assert code in ACTION_NAMES
    app = Flask(__name__)
    Babel(app)
    event = SimpleNamespace(actor="王书记", role="branch", branch_code="B01", action=code, target="T-1",
                            before={}, after={})
    with app.test_request_context():
        sentence = describe(event)
    assert code not in sentence and sentence.startswith("王书记（支部管理员，B01）")


def test_non_dict_payload_does_not_break():
    app = Flask(__name__)
    Babel(app)
    event = SimpleNamespace(actor="x", role="weird", branch_code=None, action="revoke", target=None,
                            before=[1], after="text")
    with app.test_request_context():
        assert describe(event) == "x（weird）撤销了徽章 "
