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
                    message.string = converter.convert(message.id)
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
