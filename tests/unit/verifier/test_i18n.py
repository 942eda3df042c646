"""Every user-facing message has a Traditional Chinese and an English translation, compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[3] / "verifier" / "translations"


@pytest.mark.parametrize("locale", ["zh_Hant", "en"])
def test_catalogue_complete_and_compiled(locale):
    base = TRANSLATIONS / locale / "LC_MESSAGES"
    with (base / "messages.po").open("rb") as fh:
        po = read_po(fh, locale=locale)
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        pot = read_po(fh)
    missing = [m.id for m in pot if m.id and (po.get(m.id) is None or not po.get(m.id).string)]
    assert missing == [], f"untranslated in {locale}: {missing[:10]}"
    with (base / "messages.mo").open("rb") as fh:
        mo = read_mo(fh)
    stale = [m.id for m in po if m.id and (mo.get(m.id) is None or mo.get(m.id).string != m.string)]
    assert stale == [], f"{locale} .mo is out of date: run scripts/i18n.py ({stale[:5]})"


def test_source_strings_are_extracted():
    """A template string missing from the .pot means scripts/i18n.py was not run."""
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        ids = {m.id for m in read_po(fh)}
    assert "投诉这家店" in ids and "已撤销" in ids


def _reviewed_corrections() -> tuple[dict[str, str], dict[str, str]]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("i18n_tool", TRANSLATIONS.parents[1] / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.S2TWP_CORRECTIONS, module.S2TWP_MESSAGES


def test_traditional_chinese_has_none_of_the_reviewed_s2twp_mistakes():
    corrections, whole = _reviewed_corrections()
    with (TRANSLATIONS / "zh_Hant" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        po = read_po(fh, locale="zh_Hant")
    wrong = [(m.id, m.string, form) for m in po if m.id and isinstance(m.string, str)
             for form in corrections if form in m.string]
    wrong += [(m.id, m.string, whole[m.id]) for m in po if m.id in whole and m.string != whole[m.id]]
    assert wrong == [], f"zh_Hant keeps s2twp's wrong sense: {wrong[:5]}"


def test_approval_reads_as_approved_not_by_way_of():
    with (TRANSLATIONS / "zh_Hant" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        po = read_po(fh, locale="zh_Hant")
    assert po.get("已通过，徽章已签发。").string == "已通過，徽章已簽發。"
    assert po.get("通过批量导入签发了徽章 %(target)s").string.startswith("透過")
