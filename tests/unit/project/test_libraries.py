"""No reaching into libraries' private parts (issue 12 item 6): see "Libraries" in docs/architecture.md."""

from __future__ import annotations

import ast

import pytest

from tests.unit.project.test_structure import PACKAGES, _modules

#: Underscore names the libraries document as their API: werkzeug's ``LocalProxy._get_current_object``
#: ("should be used if you need to pass the object to something that doesn't understand the proxy.
#: It can also be useful for performance").
DOCUMENTED = frozenset({"_get_current_object"})

#: Private names of Flask-Limiter, Flask-Login, Flask and werkzeug the code once used, in any spelling.
ONCE_USED = ("_check_request_limit", "_update_remember_cookie", "_user_context_processor", "_max_content_length",
             "request_ctx", "before_request_funcs", "after_request_funcs", "template_context_processors")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in DOCUMENTED


def _external_names(tree: ast.AST) -> set[str]:
    """Return the names a module binds by importing from outside the project."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                         if alias.name.split(".")[0] not in PACKAGES)
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] not in PACKAGES:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def reaches(source: str) -> list[str]:
    """Return every private attribute of a library that ``source`` touches, as ``line: text``."""
    tree = ast.parse(source)
    external = _external_names(tree)
    found = []
    for node in ast.walk(tree):
        # a private attribute of anything imported from a library: Limiter._x, request_ctx._x, utils._x()
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = _root(node.value)
            if isinstance(root, ast.Name) and root.id in external:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        # a private attribute a subclass of a library class reads without ever setting it itself
        if isinstance(node, ast.ClassDef) and any(isinstance(_root(b), ast.Name) and _root(b).id in external
                                                  for b in node.bases):
            own = {t.attr for n in ast.walk(node) for t in getattr(n, "targets", [getattr(n, "target", None)])
                   if isinstance(t, ast.Attribute)}
            own |= {t.id for n in node.body for t in getattr(n, "targets", [getattr(n, "target", None)])
                    if isinstance(t, ast.Name)}
            own |= {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            for sub in ast.walk(node):
                if (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self"
                        and _private(sub.attr) and sub.attr not in own):
                    found.append(f"{sub.lineno}: {ast.unparse(sub)} (inherited from a library class)")
    return found


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_uses_no_private_part_of_a_library(name):
    path = _modules()[name]
    assert not reaches(path.read_text(encoding="utf-8")), f"{path}: {reaches(path.read_text(encoding='utf-8'))}"


@pytest.mark.parametrize("private", ONCE_USED)
def test_no_private_name_the_code_once_used_comes_back(private):
    users = [str(p) for p in _modules().values() if private in p.read_text(encoding="utf-8")]
    assert not users, f"{private} is back in {users}"


@pytest.mark.parametrize("source", [
    "from flask_limiter import Limiter\nLimiter._check_request_limit\n",
    "from flask.globals import request_ctx\nx = request_ctx._session\n",
    "from flask_login import utils as u\nu._user_context_processor()\n",
    "import flask_login\nflask_login.login_manager.LoginManager._update_remember_cookie\n",
    "from flask import Request\nclass R(Request):\n    def f(self):\n        return self._max_content_length\n",
])
def test_the_check_finds_a_private_part(source):
    assert reaches(source)


@pytest.mark.parametrize("source", [
    "from flask import g\ng._get_current_object()\n",  # documented werkzeug API
    "from verifier import guards\nguards._totp_missing(1)\n",  # our own private name
    "from flask import Request\nclass R(Request):\n    _own = None\n    def f(self):\n        return self._own\n",
    "class C:\n    def f(self):\n        return self._x\n",
])
def test_the_check_leaves_public_and_own_names_alone(source):
    assert not reaches(source)
