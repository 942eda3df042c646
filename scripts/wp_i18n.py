"""Developer tool: the WordPress plugin's translations (widget/wordpress/languages/).

    .venv/bin/python scripts/wp_i18n.py           # extract, update zh_CN and zh_TW, compile .mo
    .venv/bin/python scripts/wp_i18n.py --check   # exit 1 if a string is untranslated or a file is stale

The plugin follows WordPress's convention: English msgids in the PHP source (so a site in any other
language falls back to English, and the strings fit WordPress's own tooling), with Simplified and
Traditional Chinese catalogues written by hand in the .po files; this script only merges and compiles
(Python Babel, the same as the service's catalogues). Reproducible: fixed creation dates, sorted entries.
"""

from __future__ import annotations

import io
import json
import re
import struct
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "widget" / "wordpress"
LANGUAGES = PLUGIN / "languages"
DOMAIN = "liangshenfen-badge"
LOCALES = ("zh_CN", "zh_TW")
_FIXED_DATE = datetime(2026, 12, 1, tzinfo=UTC)
VERSION = re.search(r"^ \* Version:\s*(\S+)$", (PLUGIN / "liangshenfen-badge.php").read_text(encoding="utf-8"),
                    re.MULTILINE).group(1)  # type: ignore[union-attr]

_CALL = re.compile(
    r"\b(?:__|_e|esc_html__|esc_html_e|esc_attr__|esc_attr_e)\(\s*'((?:[^'\\]|\\.)*)'\s*,\s*'" + DOMAIN + r"'\s*\)")
_HEADER = re.compile(r"^\s*\*\s*(Plugin Name|Description):\s*(.+)$", re.MULTILINE)
#: block.json keys WordPress translates, with the context it uses (WP_Block_Type i18n schema).
_BLOCK_CONTEXTS = {"title": "block title", "description": "block description", "keywords": "block keyword"}


def _unescape(text: str) -> str:
    return text.replace("\\'", "'").replace("\\\\", "\\")


def extract() -> Catalog:
    """Return a template catalogue of every translatable string in the plugin."""
    template = Catalog(project="Liangshenfen Badge", version=VERSION, msgid_bugs_address="", domain=DOMAIN,
                       creation_date=_FIXED_DATE,
                       revision_date=_FIXED_DATE, charset="utf-8", fuzzy=False)
    for path in sorted(PLUGIN.rglob("*.php")):
        rel = path.relative_to(PLUGIN).as_posix()
        source = path.read_text(encoding="utf-8")
        for match in _CALL.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            template.add(_unescape(match.group(1)), locations=[(rel, line)])
        if rel == "liangshenfen-badge.php":
            for match in _HEADER.finditer(source):
                template.add(match.group(2).strip(), locations=[(rel, source.count("\n", 0, match.start()) + 1)])
    block = json.loads((PLUGIN / "block" / "block.json").read_text(encoding="utf-8"))
    for key, context in _BLOCK_CONTEXTS.items():
        values = block[key] if isinstance(block[key], list) else [block[key]]
        for value in values:
            template.add(value, locations=[("block/block.json", 1)], context=context)
    return template


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=0, sort_output=True, ignore_obsolete=True)
    return out.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    data = bytearray(out.getvalue())
    # Babel writes no hash table and puts its offset at 0. WordPress's MO reader sizes the
    # translations table as (hash table offset - translations offset), so it refuses such a file:
    # point the (empty, size 0) hash table just past the translations table, as msgfmt would.
    count, _originals, translations = struct.unpack_from("<III", data, 8)
    struct.pack_into("<II", data, 20, 0, translations + 8 * count)
    return bytes(data)


def build() -> dict[Path, bytes]:
    """Return the bytes every language file should have, from the source and the .po files."""
    template = extract()
    files = {LANGUAGES / f"{DOMAIN}.pot": _po_bytes(template)}
    for locale in LOCALES:
        po_path = LANGUAGES / f"{DOMAIN}-{locale}.po"
        if po_path.exists():
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=locale, domain=DOMAIN)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN, project="Liangshenfen Badge")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = catalog.revision_date = _FIXED_DATE
        catalog.project, catalog.version, catalog.msgid_bugs_address = "Liangshenfen Badge", VERSION, ""
        catalog.fuzzy = False
        files[po_path] = _po_bytes(catalog)
        files[LANGUAGES / f"{DOMAIN}-{locale}.mo"] = _mo_bytes(catalog)
    return files


def problems() -> list[str]:
    """Return what is wrong: untranslated or fuzzy strings, stale files."""
    found: list[str] = []
    template = extract()
    for locale in LOCALES:
        po_path = LANGUAGES / f"{DOMAIN}-{locale}.po"
        if not po_path.exists():
            found.append(f"{po_path.name} is missing")
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=DOMAIN)
        for message in template:
            if not message.id:
                continue
            have = catalog.get(message.id, context=message.context)
            if have is None or not have.string or have.fuzzy:
                found.append(f"{locale}: not translated: {message.id!r}")
    for path, data in build().items():
        if not path.exists() or path.read_bytes() != data:
            found.append(f"{path.relative_to(ROOT)} is not up to date: run scripts/wp_i18n.py")
    return found


def main(argv: list[str]) -> int:
    """Update the language files, or with --check only report what is wrong."""
    if "--check" in argv:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    LANGUAGES.mkdir(parents=True, exist_ok=True)
    for path, data in build().items():
        path.write_bytes(data)
    untranslated = [p for p in problems() if "not translated" in p]
    for line in untranslated:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
