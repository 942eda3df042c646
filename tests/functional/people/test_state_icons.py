"""State icons are inline SVG, not font glyphs: with only CJK fonts a ✕ shows as an empty box (item 8)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GLYPHS = re.compile("[✓✔✕✖✗‖⌛⏳⚠]")


@pytest.fixture
def states(issue_badge, act, clock):
    made = {"valid": issue_badge(), "expired": issue_badge(valid_days=1, valid_from=clock() - timedelta(days=5)),
            "not_yet_valid": issue_badge(valid_from=clock() + timedelta(days=5)),
            "suspended": issue_badge(), "revoked": issue_badge()}
    act("suspend", made["suspended"])
    act("revoke", made["revoked"], reason="misconduct")
    return made


@pytest.mark.parametrize("state", ["valid", "expired", "not_yet_valid", "suspended", "revoked"])
@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_verify_page_draws_its_state_icon(client, states, state, lang):
    page = client.get(f"/v/{states[state]}?lang={lang}").get_data(as_text=True)
    status = re.search(r'<section class="status status-(\w+)"[^>]*>(.*?)</section>', page, re.S)
    assert status and status.group(1) == state
    assert re.search(rf'<span class="icon" aria-hidden="true"><svg [^>]*data-icon="{state}"', status.group(2))
    assert not GLYPHS.search(page), GLYPHS.findall(page)


def test_home_legend_draws_icons(client):
    page = client.get("/").get_data(as_text=True)
    legend = page.split('class="legend-states"')[1].split("</ul>")[0]
    assert legend.count("<svg ") == 4 and not GLYPHS.search(page)


@pytest.mark.parametrize("path", ["widget/static/widget.js", "verifier/static/kit.js"])
def test_scripts_draw_no_glyphs(path):
    assert not GLYPHS.search((ROOT / path).read_text(encoding="utf-8"))
