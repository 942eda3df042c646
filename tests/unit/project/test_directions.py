"""Imports run one way: ``web/`` and ``storage/`` import no domain; no domain imports another's view modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
#: The domain packages of verifier/ and the modules that know every domain.
DOMAINS = ("accounts", "audit", "badges", "complaints", "console", "embedding", "keys", "organisation",
           "verification")
ABOVE_DOMAINS = ("verifier.context", "verifier.errors", "verifier.errorwords", "verifier.app", "verifier.cli")
#: Plumbing: may import each other, signer/ and libraries, never a domain.
PLUMBING = ("verifier/web/", "verifier/storage/")


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, node.module)]
    return found


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "verifier" and parts[1] in DOMAINS else None


def _is_view_module(path: Path) -> bool:
    """Return whether a module defines routes (``@bp.get``, ``.route(``, ``add_url_rule``)."""
    text = path.read_text(encoding="utf-8")
    return any(mark in text for mark in ("@bp.get(", "@bp.post(", "@bp.route(", ".add_url_rule("))


def plumbing_offences(source: str, relative: str) -> list[str]:
    """Return the domain imports of a plumbing module."""
    if not relative.startswith(PLUMBING) or "/migrations/" in relative:
        return []
    found = []
    for line, name in _imports(ast.parse(source)):
        if _domain_of(name) or name.startswith(ABOVE_DOMAINS):
            found.append(f"{relative}:{line}: imports {name}")
    return found


def view_offences(source: str, relative: str, views: set[str]) -> list[str]:
    """Return names a domain module takes from another domain's view modules (``views``: their module names).

    Importing a view module whole (``from verifier.badges import views``) is how the console mounts a
    domain's pages; taking a helper out of one (``from verifier.badges.api import page_args``) is not.
    """
    own = _domain_of(relative.removesuffix(".py").replace("/", "."))
    if own is None:
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level and node.module in views:
            target = _domain_of(node.module)
            if target and target != own:
                names = ", ".join(alias.name for alias in node.names)
                found.append(f"{relative}:{node.lineno}: takes {names} from {node.module} (another domain's views)")
    return found


def _modules() -> dict[str, Path]:
    return {p.relative_to(ROOT).as_posix(): p for p in sorted((ROOT / "verifier").rglob("*.py"))
            if "migrations" not in p.parts}


#: Imports of another domain's views still to move, each with its issue; empty when done.
ALLOWED_VIEW_IMPORTS: dict[str, str] = {}


def test_plumbing_imports_no_domain() -> None:
    found = [o for rel, path in _modules().items() for o in plumbing_offences(path.read_text(encoding="utf-8"), rel)]
    assert not found, "web/ and storage/ are plumbing:\n" + "\n".join(found)


def test_no_domain_imports_another_domains_views() -> None:
    modules = _modules()
    views = {rel.removesuffix(".py").replace("/", ".") for rel, path in modules.items() if _is_view_module(path)}
    found = [o for rel, path in modules.items() if rel not in ALLOWED_VIEW_IMPORTS
             for o in view_offences(path.read_text(encoding="utf-8"), rel, views)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("source", ["from verifier.badges.shops import display_url\n",
                                    "def f():\n    from verifier.errorwords import describe\n",
                                    "import verifier.verification.home\n"])
def test_a_plumbing_import_of_a_domain_is_caught(source: str) -> None:
    assert len(plumbing_offences(source, "verifier/web/example.py")) == 1


def test_a_view_import_across_domains_is_caught_and_own_views_are_fine() -> None:
    views = {"verifier.verification.views", "verifier.badges.api"}
    assert view_offences("from verifier.verification.views import PLATFORM_NAMES\n", "verifier/badges/views.py", views)
    assert view_offences("def f():\n    from verifier.badges.api import page_args\n", "verifier/organisation/api.py",
                         views)
    assert not view_offences("from verifier.badges import views\n", "verifier/console/views.py", views)
    assert not view_offences("from verifier.verification.views import X\n", "verifier/verification/api.py", views)
    assert not view_offences("from verifier.badges.platforms import X\n", "verifier/console/blueprint.py", views)
