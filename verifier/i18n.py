"""Locale selection: ``?lang=``, then Accept-Language, default Simplified Chinese."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, g, request
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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


# -- templates -------------------------------------------------------------------------------------
def _translations(context: Context) -> Any:
    """Return the translations for this render, looked up once per render.

    Flask-Babel's template callables resolved the locale and its catalogue on every ``_()``
    call (some thirty on the verify page). One render never changes language (``force_locale``
    wraps a whole render), so the catalogue is kept on the render's evaluation context, which
    every block and derived context of that render shares. A macro module imported without
    context (``{% from "admin/_macros.html" import state_word %}``) is made once and kept by
    Jinja, evaluation context included, for every later render: the catalogue is kept with the
    locale it is for, so such a macro speaks each request's language, not the first one's.
    """
    eval_ctx = context.eval_ctx
    locale = get_locale()  # Flask-Babel keeps it on the request: no negotiation per call
    found = getattr(eval_ctx, "_liang_translations", None)
    if found is None or found[0] is not locale:
        found = eval_ctx._liang_translations = (locale, get_translations())  # type: ignore[attr-defined]
    return found[1]


@pass_context
def template_gettext(__context: Context, __string: str, **variables: Any) -> str:
    """Translate ``__string`` for a template: Jinja's newstyle gettext, with the catalogue looked up once."""
    rv: str = _translations(__context).ugettext(__string)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - our own catalogue, trusted as by Jinja's newstyle gettext
    # Newstyle gettext always formats (``%%`` becomes ``%``); without variables or a % there is nothing to do.
    return rv % variables if variables or "%" in rv else rv


@pass_context
def template_ngettext(__context: Context, __singular: str, __plural: str, __num: int, **variables: Any) -> str:
    """Translate a plural form for a template (Jinja's newstyle ngettext semantics)."""
    variables.setdefault("num", __num)
    rv: str = _translations(__context).ungettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - our own catalogue, trusted as by Jinja's newstyle gettext
    return rv % variables


def install_template_gettext(app: Flask) -> None:
    """Give templates ``_``, ``gettext`` and ``ngettext`` that look the catalogue up once per render.

    Call after ``babel.init_app(app)`` (which installs Flask-Babel's own callables, replaced here).
    """
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
