"""`liang badge export --format csv` never hands a spreadsheet a formula (issue 14, item 12)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from verifier.badges.csvsafe import neutralise

PAYLOADS = ['=HYPERLINK("https://evil.example","点此查看")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "＝1+1"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


@pytest.fixture
def branch(run_cli):
    assert run_cli("branch", "add", "B01", "第一支部").exit_code == 0
    return "B01"


def test_formula_cells_are_neutralised_in_the_export(run_cli, branch):
    issued = []
    for n, payload in enumerate(PAYLOADS):
        result = run_cli("badge", "issue", "--holder", payload, "--shop-name", payload, "--shop-url",
                         f"https://shop{n}.taobao.com", "--platform", "taobao", "--branch", "B01", "--json")
        if result.exit_code == 0:
            issued.append(payload)
    assert len(issued) >= 5  # names the issuing path accepts (it may refuse control characters)
    rows = list(csv.reader(io.StringIO(run_cli("badge", "export", "--format", "csv").stdout)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(TRIGGERS)]
    holders = {row[2] for row in rows[1:]}
    for payload in issued:  # the text survives, behind an apostrophe, readable as typed
        assert any(h == "'" + payload.strip() or h == "'" + payload for h in holders), payload


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "＝1"])
def test_triggers_get_an_apostrophe(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["王小明", "https://xm.taobao.com", "2026-11-25T10:00:00Z", "", "a=b", None])
def test_plain_cells_are_unchanged(value):
    assert neutralise(value) == ("" if value is None else value)


# -- every piece an importer can cut a cell into starts harmless (issue 24 F) -------------------
#: What attackers type, as a table: the lead and the separator forms Excel / LibreOffice split on.
SPLIT_PAYLOADS = [";=1+1", "a;=1+1", "shop;+cmd|' /C calc'!A0", "a,=1+1", "a|=1+1", "a\t=1+1", "a; =1+1",
                  "a;\u3000=1+1", " =1+1", "\u3000=1+1", "\u00a0@SUM(1)", "a；=1+1", "a，=1+1", "a｜-1",
                  "=1;=2;@3", ";;;=1", "a;\r=1", "a;\n=1"]


def _pieces(line: str) -> list[str]:
    """Return every cell any importer could make of ``line``: each separator, quotes honoured or not."""
    pieces = []
    for row_line in re.split(r"[\r\n]", line):  # an importer that ignores quoting breaks rows here
        for separator in (",", ";", "\t", "|", "，", "；", "｜"):
            pieces += row_line.split(separator)
    for separator in (",", ";", "\t", "|", "，", "；", "｜"):
        if len(separator) == 1 and separator.isascii():
            for row in csv.reader(io.StringIO(line, newline=""), delimiter=separator):
                pieces += row
    return pieces


def _starts_a_formula(piece: str) -> bool:
    # Importers trim blanks and strip the quote character before looking at the first character.
    return piece.strip(" \u00a0\u3000\"").startswith(TRIGGERS)


@pytest.mark.parametrize("payload", SPLIT_PAYLOADS + PAYLOADS)
def test_no_piece_of_a_written_cell_starts_a_formula(payload):
    from verifier.badges.csvsafe import SafeWriter

    out = io.StringIO()
    SafeWriter(out).writerow(["plain", payload, "2026-11-25T10:00:00Z"])
    line = out.getvalue().rstrip("\r\n")
    bad = [piece for piece in _pieces(line) if _starts_a_formula(piece)]
    assert not bad, (payload, line, bad)
    # An importer that honours the quotes gets one cell back, readable as typed behind apostrophes.
    [row] = list(csv.reader(io.StringIO(out.getvalue())))
    assert row[1].replace("'", "") == payload.replace("'", "")


@pytest.mark.parametrize(("value", "expected"), [
    (";=1+1", ";'=1+1"),
    ("a;=1+1", "a;'=1+1"),
    ("a, -1", "a, '-1"),
    (" =1", "' =1"),
    ("=1;=2", "'=1;'=2"),
    ("a;b", "a;b"),
    ("a-b;c", "a-b;c"),
    ("https://xm.taobao.com/shop;id=1", "https://xm.taobao.com/shop;id=1"),
])
def test_neutralise_table(value, expected):
    assert neutralise(value) == expected


def test_export_quotes_every_cell(run_cli, branch):
    assert run_cli("badge", "issue", "--holder", "王小明", "--shop-name", "店;=1+1", "--shop-url",
                   "https://q1.taobao.com", "--platform", "taobao", "--branch", "B01").exit_code == 0
    text = run_cli("badge", "export", "--format", "csv").stdout
    assert all(line.startswith('"') for line in text.splitlines() if line)
    assert "店;'=1+1" in text and ";=1" not in text
