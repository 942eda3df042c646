"""The shared third-party vectors: a run without them fails with a clear message, it never skips into green."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests import testdata

ROOT = Path(__file__).resolve().parents[3]
#: Words that tie a skip to the shared test data (its folder, or the names tests give it).
_TESTDATA = re.compile(r"testdata|shared|wycheproof|OB3|ob3|vectors", re.IGNORECASE)


def test_missing_testdata_fails_the_test_and_says_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.setenv("LIANG_SHARED_TESTDATA", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="shared test data missing: .*ob3/x.json.*LIANG_SHARED_TESTDATA"):
        testdata.shared_testdata("ob3/x.json")


def test_testdata_is_found_beside_the_clone_or_where_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.delenv("LIANG_SHARED_TESTDATA", raising=False)
    assert testdata.testdata_root() == ROOT.parent / "shared" / "testdata"
    (tmp_path / "ob3").mkdir()
    monkeypatch.setenv("LIANG_SHARED_TESTDATA", str(tmp_path))
    assert testdata.shared_testdata("ob3") == tmp_path / "ob3"


def _skips(path: Path) -> list[str]:
    """Return the source of every pytest skip (call, skipif mark, importorskip) in ``path``."""
    source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {
                "skip", "skipif", "importorskip"}:
            found.append(ast.get_source_segment(source, node) or "")
    return found


def test_no_test_skips_when_the_shared_testdata_is_missing():
    offending = [f"{path.relative_to(ROOT)}: {skip.splitlines()[0]}"
                 for path in sorted((ROOT / "tests").rglob("*.py")) if "node_modules" not in path.parts
                 for skip in _skips(path) if _TESTDATA.search(skip)]
    assert not offending, "use tests.testdata.shared_testdata (fails, never skips):\n" + "\n".join(offending)
