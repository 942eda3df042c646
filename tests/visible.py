"""What a person reads on a page, and the blemishes that must never be in it.

Used by the functional tests (HTML from the test client) and the browser tests (Chromium's
``innerText``): a Python ``bytes`` literal, a raw Jinja tag, ``None``, or text left in the
wrong language fails a test wherever it shows.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

#: Elements whose text is never shown.
_INVISIBLE = {"script", "style", "template", "noscript", "head"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
#: Attributes a person reads (or a screen reader speaks), or that carry a shown value.
_READ_ATTRS = ("alt", "aria-label", "title", "placeholder", "datetime")

_BYTES_LITERAL = re.compile(r"""\bb(?:'[^']*'|"[^"]*")""")
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_NONE = re.compile(r"\b(?:None|undefined|NaN|null)\b")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: Two English words in a row on a Chinese page: an untranslated message ("holder is required").
_ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:\s+[a-z]{2,}){1,}\b")
_URL = re.compile(r"https?://\S+|\b[\w.-]+\.(?:com|cn|net|org|example|test)\b\S*")


class _Reader(HTMLParser):
    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = page_lang
        self.text: list[str] = []
        self.attrs: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, hides its subtree)

    def _hidden(self) -> bool:
        return any(hides for _tag, hides in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html" and values.get("lang"):
            self.page_lang = str(values["lang"])
        lang = values.get("lang")
        hides = (tag in _INVISIBLE or "hidden" in values
                 # A subtree in another language on purpose (the language switcher, the parcel card).
                 or (lang is not None and tag != "html" and lang != self.page_lang))
        if not self._hidden() and not hides:
            self.attrs.extend(str(values[a]) for a in _READ_ATTRS if values.get(a))
            if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
                self.text.append(str(values["value"]))
        if tag not in _VOID:
            self._stack.append((tag, hides))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.text.append(data.strip())


def visible_text(html: str, *, lang: str = "zh-Hans") -> tuple[str, str]:
    """Return (the text shown, the text of read-aloud attributes) of ``html``."""
    reader = _Reader(lang)
    reader.feed(html)
    reader.close()
    return "\n".join(reader.text), "\n".join(reader.attrs)


@cache
def _to_traditional() -> object:
    import opencc  # type: ignore[import-untyped]  # opencc-python-reimplemented: an outside authority

    return opencc.OpenCC("s2t")


def simplified_only(text: str) -> list[str]:
    """Return the characters of ``text`` that Traditional Chinese writes differently."""
    converter = _to_traditional()
    return sorted({c for c in set(_HAN.findall(text)) if converter.convert(c) != c})  # type: ignore[attr-defined]


def blemishes(text: str, *, lang: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Return what is wrong with ``text`` shown on a page in ``lang`` (empty: nothing).

    ``allowed`` are strings the page may show whatever its language: data people typed
    (a shop name, a holder), codes and URLs.
    """
    found: list[str] = []
    found += [f"bytes literal {m!r}" for m in _BYTES_LITERAL.findall(text)]
    found += [f"template syntax {m!r}" for m in _TEMPLATE_SYNTAX.findall(text)]
    found += [f"placeholder word {m!r}" for m in _NONE.findall(text)]
    rest = text
    for item in sorted(allowed, key=len, reverse=True):
        rest = rest.replace(item, " ")
    rest = _URL.sub(" ", rest)
    if lang == "en":
        han = _HAN.findall(rest)
        if han:
            lines = [line for line in rest.splitlines() if _HAN.search(line)]
            found.append(f"Chinese on the English page: {lines[:3]}")
    else:
        runs = [m for m in _ENGLISH_RUN.findall(rest) if not _known_english(m)]
        found += [f"English on the Chinese page: {m!r}" for m in runs]
    if lang == "zh-Hant":
        chars = simplified_only(rest)
        if chars:
            lines = [line for line in rest.splitlines() if any(c in line for c in chars)]
            found.append(f"Simplified characters {''.join(chars)} on the Traditional page: {lines[:3]}")
    return found


#: English that is a name in every language (standards, formats, product names).
_NAMES = ("Open Badges", "Verifiable Credential", "Content Security Policy")


def _known_english(run: str) -> bool:
    return any(run in name or name in run for name in _NAMES)
