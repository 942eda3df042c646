"""Developer tool: extract messages, update catalogues, pre-fill zh_Hant, compile.

    .venv/bin/python scripts/i18n.py            # extract + update + fill zh_Hant + compile

Traditional Chinese is pre-filled from the Simplified source with OpenCC
(s2twp) when ``opencc-python-reimplemented`` is installed; a person reviews it.
English is written by hand in ``verifier/translations/en/LC_MESSAGES/messages.po``.
The test suite fails when a message lacks a translation or a catalogue is not compiled.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent

#: Where s2twp picks the wrong sense for this product (reviewed 2026-11-30), wrong → right. Applied
#: to every pre-filled zh_Hant string; tests/unit/verifier/test_i18n.py fails if a wrong form is
#: in the catalogue. 审核 is reviewing an application (審核), not auditing (稽核, kept for 审计);
#: 通过 is "approved / passed" (通過) except "by way of" (透過, kept in 通过批量导入).
S2TWP_CORRECTIONS: dict[str, str] = {
    "支部稽核": "支部審核", "稽核中": "審核中", "待稽核": "待審核", "稽核結果": "審核結果",
    "正在稽核": "正在審核", "透過後": "通過後", "已透過": "已通過", "均透過": "均通過",
    "未透過": "未通過", "許可權": "權限", "籤名": "簽名", "控制檯": "控制臺", "跟蹤": "追蹤",
    "型別": "類型", "物件": "對象", "賬戶": "帳戶", "實時": "即時",
}
#: Whole messages whose s2twp sense is wrong here: 代码 of a branch is an identifier, not source code.
S2TWP_MESSAGES: dict[str, str] = {"代码": "代碼"}


def to_traditional(converter: object, source: str) -> str:
    """Return the reviewed zh_Hant pre-fill of a Simplified source string."""
    if source in S2TWP_MESSAGES:
        return S2TWP_MESSAGES[source]
    text = converter.convert(source)  # type: ignore[attr-defined]
    for wrong, right in S2TWP_CORRECTIONS.items():
        text = text.replace(wrong, right)
    return text
TRANSLATIONS = ROOT / "verifier" / "translations"


def main() -> None:
    pot = TRANSLATIONS / "messages.pot"
    # Babel's own command line, run in this process (no shell, no subprocess): pybabel extract / update.
    pybabel = CommandLineInterface()
    pybabel.run(["pybabel", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "--no-location",
                 "--sort-output", "-o", str(pot), str(ROOT)])
    pybabel.run(["pybabel", "update", "-i", str(pot), "-d", str(TRANSLATIONS), "--no-fuzzy-matching",
                 "--ignore-obsolete"])
    try:
        import opencc  # type: ignore[import-not-found]

        converter = opencc.OpenCC("s2twp")
    except ImportError:
        converter = None
    for locale_dir in sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir()):
        po_path = locale_dir / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale_dir.name)
        if locale_dir.name == "zh_Hant" and converter is not None:
            for message in catalog:
                if message.id and not message.string:
                    message.string = to_traditional(converter, message.id)
        with po_path.open("wb") as fh:
            write_po(fh, catalog, width=0, omit_header=False)
        with (locale_dir / "LC_MESSAGES" / "messages.mo").open("wb") as fh:
            write_mo(fh, catalog)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{locale_dir.name}: {len(catalog)} messages, {len(missing)} untranslated")
        for msg in missing[:20]:
            print(f"  missing: {msg}")


if __name__ == "__main__":
    main()
