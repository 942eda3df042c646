"""Locale selection: ``?lang=``, then Accept-Language, default Simplified Chinese."""

from __future__ import annotations

import os

from flask import g, request

LOCALES = ("zh_Hans", "zh_Hant", "en")
DEFAULT_LOCALE = "zh_Hans"
HTML_LANG = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant", "en": "en"}
_HANT_REGIONS = ("tw", "hk", "mo", "hant")


def _map(tag: str) -> str | None:
    tag = tag.strip().lower().replace("_", "-")
    if not tag:
        return None
    if tag.startswith("zh"):
        parts = tag.split("-")[1:]
        return "zh_Hant" if any(p in _HANT_REGIONS for p in parts) else "zh_Hans"
    if tag.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """Return the locale for this request."""
    cached = g.get("liang_locale")
    if cached:
        return str(cached)
    chosen = _map(request.args.get("lang", "")[:20]) if request else None
    if chosen is None and request:
        for tag, _quality in request.accept_languages:
            chosen = _map(tag)
            if chosen:
                break
    g.liang_locale = chosen or DEFAULT_LOCALE
    return str(g.liang_locale)


def cli_locale() -> str:
    """Return the command line's locale from LC_ALL, LC_MESSAGES or LANG (``zh_CN.UTF-8`` → zh_Hans).

    A shell without a Chinese or English locale (``C``, ``POSIX``, unset) gets English, as the rest
    of the command line speaks.
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return _map(value.split(".")[0].split("@")[0]) or "en"
    return "en"


def html_lang() -> str:
    """Return the BCP 47 tag for the page's ``lang`` attribute."""
    return HTML_LANG[select_locale()]


def with_lang(url: str) -> str:
    """Return ``url`` carrying this request's explicit ``?lang=`` choice, so a link keeps the language.

    Only a choice made with ``?lang=`` travels: a language from Accept-Language comes back by itself.
    """
    if not request or _map(request.args.get("lang", "")[:20]) is None:
        return url
    tag = HTML_LANG[select_locale()]
    base, _hash, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}lang={tag}"
    return f"{joined}#{fragment}" if fragment else joined
