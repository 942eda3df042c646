"""The tree keeps its shape: no import cycles among the project's modules, no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("signer", "verifier", "widget")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Return every module name ``tree`` imports, at any depth, except under ``if TYPE_CHECKING:``."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def import_graph() -> dict[str, set[str]]:
    """Return module → the project modules it imports (a name that is not a module counts as its module)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {t for t in _imports(tree, name, path.name == "__init__.py") if t in modules}
        # "from verifier import context" names the module verifier.context, not the package.
        graph[name] = {t for t in targets if not any(o != t and o.startswith(t + ".") and o in targets
                                                     for o in targets) or t not in PACKAGES} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles among project modules:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_cycle_detection_finds_a_cycle_and_ignores_type_checking_imports():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from verifier import db\n"
                     "def f():\n    from verifier.storage import models\n")
    assert _imports(tree, "verifier.x", False) >= {"verifier.storage.models"}
    assert "verifier.db" not in _imports(tree, "verifier.x", False)


def test_graph_sees_the_real_edges():
    graph = import_graph()
    assert "verifier.context" in graph["verifier.app"]
    assert "signer.errors" in graph["verifier.errors"]


@pytest.mark.parametrize("name", sorted(n for n, p in _modules().items() if "migrations" not in p.parts))
def test_module_is_at_most_400_lines(name):
    path = _modules()[name]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it by concern"


def _unexplained_function_imports(root: Path) -> list[str]:
    """Return each import inside a function with no comment saying why (on it, or above its group)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if not isinstance(sub, (ast.Import, ast.ImportFrom)) or "#" in lines[sub.lineno - 1]:
                    continue
                above = sub.lineno - 2  # walk up through the import group to a comment that explains it
                while above >= 0 and "#" not in lines[above] and (
                        lines[above].strip().startswith(("from ", "import ", ")")) or lines[above].rstrip().endswith(",")):
                    above -= 1
                if above < 0 or "#" not in lines[above]:
                    found.append(f"{path}:{sub.lineno}: {lines[sub.lineno - 1].strip()}")
    return found


def test_function_level_imports_say_why():
    """Issue 25: an import inside a function only where a cycle or start-up time needs it, with the reason."""
    root = Path(__file__).resolve().parents[3]
    found = [f for package in ("signer", "verifier", "widget") for f in _unexplained_function_imports(root / package)]
    assert not found, "hoist these to the top of their module, or say why they wait:\n" + "\n".join(found)


def test_an_unexplained_function_import_is_caught(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    import json\n    return json\n\n\ndef g():\n"
                                   "    # start-up time\n    import csv\n    return csv\n", encoding="utf-8")
    assert [line.split(": ", 1)[1] for line in _unexplained_function_imports(tmp_path)] == ["import json"]


def test_the_version_is_the_changelogs_newest_release():
    """Issue 25: releases with version numbers; the package, `liang --version` and CHANGELOG.md agree."""
    import re
    import tomllib

    from click.testing import CliRunner

    from verifier.cli.main import cli

    root = Path(__file__).resolve().parents[3]
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (root / "CHANGELOG.md").read_text(encoding="utf-8"),
                          flags=re.MULTILINE)
    assert releases and releases[0] == version, (releases[:3], version)
    assert releases == sorted(releases, key=lambda v: tuple(map(int, v.split("."))), reverse=True)
    assert CliRunner().invoke(cli, ["--version"]).output.strip() == f"liang {version}"


#: Names in docs/architecture.md that look like paths but are not ours to have: the layer-first tree
#: it argues against, and a function named by its module path.
_NOT_PATHS = {"services/", "web/admin/", "signer/lifecycle.transition"}


def test_every_path_the_architecture_doc_names_exists():
    """Issue 25: docs that match the code: each path docs/architecture.md names is in the tree."""
    import re

    root = Path(__file__).resolve().parents[3]
    doc = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z0-9_./-]+/[A-Za-z0-9_./-]*)`", doc))
    named |= set(re.findall(r"(?<![\w/.])((?:verifier|signer|widget|tests|bench|docs|scripts|templates)/"
                            r"[A-Za-z0-9_./-]*[A-Za-z0-9_/])", doc))
    assert len(named) > 20  # the pattern finds the doc's paths at all
    stale = sorted(name for name in named - _NOT_PATHS
                   if not any((root / base / name.rstrip("/")).exists()
                              or (root / base / (name.rstrip("/") + ".py")).exists()
                              for base in ("", "verifier", "signer", "tests")))
    assert not stale, f"docs/architecture.md names paths that do not exist: {stale}"
