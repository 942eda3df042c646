"""Views parse, one service decides, storage persists: no view, API, console page or command opens a transaction.

An edge module is one that speaks HTTP or the command line: it imports Flask (or a Flask
extension) or Click, or lives in ``verifier/cli/``. Such a module may call services, built by
the factories in ``verifier/context.py``, and nothing below them: it must not begin a write,
commit, roll back, execute a statement or build SQL (import SQLAlchemy's query constructs), call
a session's ``add``, ``get``, ``flush`` (and the like), or pass a session down to a module function. The
factories themselves (``context.py``) and ``storage/`` are the two places that may.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EDGE_IMPORTS = ("flask", "flask_babel", "flask_login", "flask_wtf", "flask_limiter", "click")
#: Method calls that open, end or run a transaction's work, on whatever they are called.
TRANSACTION_CALLS = frozenset({"begin_write", "commit", "execute", "query", "scalars", "scalar", "rollback"})
#: Session methods that change or read its state (``dict.get`` and ``set.add`` are fine: only on a session).
SESSION_CALLS = frozenset({"add", "add_all", "delete", "flush", "get", "merge", "refresh", "expunge", "rollback",
                           "begin", "begin_nested", "connection"})
#: SQLAlchemy modules whose names build statements (``sqlalchemy.exc`` is fine: errors are translated at the edge).
SQL_MODULES = ("sqlalchemy", "sqlalchemy.orm", "sqlalchemy.sql", "sqlalchemy.sql.expression")
#: The factories and the storage layer: where sessions and transactions are made.
NOT_EDGE = ("verifier/context.py", "verifier/storage/")
#: Edge modules that still open transactions, each with the change that removes it.
ALLOWED: dict[str, str] = {}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Return every node except those under ``if TYPE_CHECKING:``."""
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level and node.module:
        return [node.module]
    return []


def is_edge(relative: str, nodes: list[ast.AST]) -> bool:
    """Return whether a module speaks HTTP or the command line (and is not the factories or storage)."""
    if relative.startswith(NOT_EDGE):
        return False
    if relative.startswith("verifier/cli/"):
        return True
    return any(name.split(".")[0] in EDGE_IMPORTS for node in nodes for name in _imported(node))


#: Names a database session goes by here (``session`` is Flask's cookie session where a module imports it).
SESSION_NAMES = frozenset({"session", "sess", "_session", "db_session", "liang_session"})


def is_session(node: ast.AST, *, cookie: bool = False) -> bool:
    """Return whether an expression is (by its name) a database session: ``session``, ``sess``, ``x._session``,
    ``x.session``, ``session()`` or ``context.session()``, ``g.liang_session`` (a bare ``session`` is the
    cookie session when ``cookie``)."""
    if isinstance(node, ast.Call):
        return not node.args and is_session(node.func, cookie=cookie)
    if isinstance(node, ast.Name):
        return node.id in SESSION_NAMES and not (cookie and node.id == "session")
    if isinstance(node, ast.Attribute):
        return node.attr in SESSION_NAMES
    return False


def _uses_cookie_session(nodes: list[ast.AST]) -> bool:
    """Return whether a module means Flask's cookie session by ``session`` (imports it or ``flask.sessions``)."""
    return any(isinstance(node, ast.ImportFrom) and (node.module == "flask.sessions" or (
        node.module == "flask" and any(alias.name == "session" for alias in node.names))) for node in nodes)


def offences(source: str, relative: str) -> list[str]:
    """Return what an edge module does that belongs to a service (empty for other modules)."""
    nodes = _nodes(ast.parse(source, filename=relative))
    if not is_edge(relative, nodes):
        return []
    found = []
    cookie = _uses_cookie_session(nodes)
    for node in nodes:
        if not isinstance(node, ast.Call):
            pass
        elif isinstance(node.func, ast.Attribute) and node.func.attr in TRANSACTION_CALLS:
            found.append(f"{relative}:{node.lineno}: calls .{node.func.attr}()")
        elif (isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_CALLS
              and is_session(node.func.value, cookie=cookie)):
            found.append(f"{relative}:{node.lineno}: calls the session's .{node.func.attr}()")
        elif any(is_session(arg, cookie=cookie) for arg in [*node.args, *(k.value for k in node.keywords)]):
            found.append(f"{relative}:{node.lineno}: passes a session down (call a service built in context.py)")
        for name in _imported(node):
            if name in SQL_MODULES:
                found.append(f"{relative}:{node.lineno}: imports {name} (builds SQL)")
    return found


def _modules() -> list[Path]:
    return [p for p in sorted((ROOT / "verifier").rglob("*.py")) if "migrations" not in p.parts]


def test_no_edge_module_opens_a_transaction_or_builds_sql() -> None:
    found = []
    for path in _modules():
        relative = path.relative_to(ROOT).as_posix()
        if relative not in ALLOWED:
            found += offences(path.read_text(encoding="utf-8"), relative)
    assert not found, "move these into a service (see docs/architecture.md):\n" + "\n".join(found)


def test_the_allow_list_names_only_modules_that_need_it() -> None:
    stale = [name for name in sorted(ALLOWED)
             if not (ROOT / name).exists() or not offences((ROOT / name).read_text(encoding="utf-8"), name)]
    assert not stale, f"no longer needed in ALLOWED: {stale}"


@pytest.mark.parametrize(("source", "what"), [
    ("from flask import request\n\ndef v():\n    context.begin_write()\n", ".begin_write()"),
    ("from flask import request\n\ndef v():\n    context.session().commit()\n", ".commit()"),
    ("import click\n\ndef c():\n    session.execute(stmt)\n", ".execute()"),
    ("from flask import request\nfrom sqlalchemy import select\n", "imports sqlalchemy"),
    ("from flask_babel import gettext\nfrom sqlalchemy.orm import selectinload\n", "imports sqlalchemy.orm"),
    ("from flask import request\n\ndef v():\n    context.session().rollback()\n", ".rollback()"),
    ("from flask import request\n\ndef v():\n    context.session().flush()\n", "session's .flush()"),
    ("import click\n\ndef c(session):\n    session.add(row)\n", "session's .add()"),
    ("from flask import g\n\ndef v():\n    g.liang_session.get(Badge, 1)\n", "session's .get()"),
    ("from flask import request\n\ndef v():\n    members.search(context.session(), q='x')\n", "passes a session"),
    ("from flask import request\n\ndef v(sess):\n    previews.take(session=sess)\n", "passes a session"),
])
def test_an_edge_module_that_opens_a_transaction_is_caught(source: str, what: str) -> None:
    found = offences(source, "verifier/example/views.py")
    assert len(found) == 1 and what in found[0]


@pytest.mark.parametrize(("source", "relative"), [
    ("from sqlalchemy import select\n\ndef s(session):\n    session.commit()\n", "verifier/example/service.py"),
    ("from flask import g\n\ndef begin_write():\n    database().begin_write(g.s)\n", "verifier/context.py"),
    ("from flask import request\nfrom sqlalchemy.exc import OperationalError\n", "verifier/example/views.py"),
    ("from flask import request\nif TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n",
     "verifier/example/views.py"),
    ("from flask import request\n\ndef v():\n    request.args.get('q')\n    seen.add(1)\n", "verifier/example/views.py"),
    ("from flask import g\n\ndef v():\n    g.get('liang_session')\n", "verifier/example/views.py"),
    ("from flask import session\n\ndef v():\n    session.get('totp')\n    keep(session)\n", "verifier/example/views.py"),
    ("from flask import Flask\n\ndef f(app):\n    app.teardown_appcontext(context.close_session)\n",
     "verifier/example/views.py"),
])
def test_services_storage_and_the_factories_may(source: str, relative: str) -> None:
    assert offences(source, relative) == []
