"""`liang badge export --format csv` never hands a spreadsheet a formula (issue 14, item 12)."""

from __future__ import annotations

import csv
import io

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
