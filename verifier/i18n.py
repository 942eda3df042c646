"""Locale selection: ``?lang=``, then Accept-Language, default Simplified Chinese."""

from __future__ import annotations

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
    cached = getattr(g, "_liang_locale", None)
    if cached:
        return str(cached)
    chosen = _map(request.args.get("lang", "")[:20]) if request else None
    if chosen is None and request:
        for tag, _quality in request.accept_languages:
            chosen = _map(tag)
            if chosen:
                break
    g._liang_locale = chosen or DEFAULT_LOCALE
    return str(g._liang_locale)


def html_lang() -> str:
    """Return the BCP 47 tag for the page's ``lang`` attribute."""
    return HTML_LANG[select_locale()]
