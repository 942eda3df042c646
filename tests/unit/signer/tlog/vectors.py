"""Find the outside transparency-log vectors and read Go test sources for their data.

The vectors live in ``../shared/testdata/tlog/`` beside the repository (or under
``$LIANG_SHARED_TESTDATA/tlog``). A missing folder fails the test with a clear message: it never
skips, so a run without the vectors cannot pass silently.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def tlog_dir() -> Path:
    """Return the tlog vectors folder, failing the test when it is missing."""
    override = os.environ.get("LIANG_SHARED_TESTDATA")
    base = Path(override) if override else ROOT.parent / "shared" / "testdata"
    path = base / "tlog"
    if not (path / "merkle" / "testdata").is_dir():
        pytest.fail(f"transparency-log test vectors missing: {path} (set LIANG_SHARED_TESTDATA or restore "
                    "../shared/testdata/tlog)", pytrace=False)
    return path


def read(relative: str) -> str:
    """Return a vector file's text, failing the test when it is missing."""
    path = tlog_dir() / relative
    if not path.is_file():
        pytest.fail(f"transparency-log test vector missing: {path}", pytrace=False)
    return path.read_text(encoding="utf-8")


# A small reader for the Go literals the test files hold -------------------------------------------

_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\", '"': b'"', "'": b"'", "a": b"\a", "b": b"\b",
            "f": b"\f", "v": b"\v"}


def _interpreted(body: str) -> bytes:
    """Decode a Go interpreted string literal's body to bytes (``\\xff`` is one byte, as in Go)."""
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        kind = body[i + 1]
        if kind == "x":
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif kind in "uU":
            width = 4 if kind == "u" else 8
            out += chr(int(body[i + 2:i + 2 + width], 16)).encode("utf-8")
            i += 2 + width
        elif kind in _ESCAPES:
            out += _ESCAPES[kind]
            i += 2
        else:
            raise ValueError(f"unsupported Go escape \\{kind}")
    return bytes(out)


_TOKEN = re.compile(r'\s*(?:"((?:[^"\\\n]|\\.)*)"|`([^`]*)`|([A-Za-z_]\w*)(\[[^\]]*\])?|(\+))', re.S)


def go_eval(expr: str, env: dict[str, bytes]) -> bytes:
    """Evaluate a Go string expression: literals, names from ``env``, ``name[a:b]`` slices, ``+``."""
    out = b""
    pos = 0
    expect_operand = True
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read Go expression at {expr[pos:pos + 30]!r}")
        pos = m.end()
        if m.group(5):
            if expect_operand:
                raise ValueError("unexpected +")
            expect_operand = True
            continue
        if not expect_operand:
            raise ValueError(f"missing + in {expr!r}")
        expect_operand = False
        if m.group(1) is not None:
            out += _interpreted(m.group(1))
        elif m.group(2) is not None:
            out += m.group(2).encode("utf-8")
        else:
            value = env[m.group(3)]
            if m.group(4):
                lo_text, _, hi_text = m.group(4)[1:-1].partition(":")
                def bound(text: str, default: int, value: bytes = value) -> int:
                    text = text.strip()
                    if not text:
                        return default
                    text = re.sub(r"len\(\w+\)", str(len(value)), text)
                    if not re.fullmatch(r"[0-9+\- ]+", text):
                        raise ValueError(f"unsupported slice bound {text!r}")
                    return int(eval(text, {"__builtins__": {}}, {}))  # noqa: S307 - digits and +/- only

                value = value[bound(lo_text, 0):bound(hi_text, len(value))]
            out += value
    if expect_operand:
        raise ValueError(f"incomplete Go expression {expr!r}")
    return out


def go_function(source: str, name: str) -> str:
    """Return the body of Go function ``name`` (from its ``func`` line to the next top-level ``func``)."""
    m = re.search(rf"^func {re.escape(name)}\(.*?(?=^func |\Z)", source, re.S | re.M)
    if not m:
        raise ValueError(f"no func {name} in the Go source")
    return m.group(0)


def go_assignments(body: str) -> dict[str, str]:
    """Return ``name -> expression text`` for each ``name := <string expression>`` in ``body``."""
    found: dict[str, str] = {}
    for m in re.finditer(r"^\s*(\w+) := ", body, re.M):
        expr = _expression_at(body, m.end())
        if expr is not None:
            found.setdefault(m.group(1), expr)
    return found


def _expression_at(body: str, pos: int) -> str | None:
    """Return the string expression starting at ``pos`` (literals joined by ``+`` across lines)."""
    start = pos
    while True:
        m = _TOKEN.match(body, pos)
        if not m or (m.group(3) and pos == start and body[m.end():m.end() + 1] in "({"):
            return None if pos == start else body[start:pos]
        pos = m.end()
        nxt = re.compile(r"[ \t]*\+\s*").match(body, pos)
        if not nxt:
            return body[start:pos]
        pos = nxt.end()


def go_calls(body: str, func: str) -> list[str]:
    """Return the argument text of each one-argument call ``func(<string expression>)`` in ``body``."""
    return [m.group(1) for m in re.finditer(rf"\b{re.escape(func)}\(((?:\"(?:[^\"\\\n]|\\.)*\"|`[^`]*`))\)", body)]
