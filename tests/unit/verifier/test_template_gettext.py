"""Templates' ``_``: Jinja's newstyle gettext semantics, the catalogue looked up once per render."""

from __future__ import annotations

import pytest
from flask import render_template_string
from flask_babel import force_locale, get_translations
from jinja2 import Environment

SNIPPETS = [
    '{{ _("有效") }}',
    '{{ _("有效") }} {{ _("已撤销") }} {{ _("不在目录里的句子") }}',
    '{{ _("100%% 真") }}',
    '{{ _("共 %(n)s 个 <b>", n="<i>") }}',
    '{{ _("<b>不转义？</b>") }}',
]


def _jinja_reference(source: str) -> str:
    """Render ``source`` with Jinja's own newstyle callables over Flask-Babel's translations."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: get_translations().ugettext(s), lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True)
    return env.from_string(source).render()


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
@pytest.mark.parametrize("source", SNIPPETS)
def test_gettext_renders_as_jinja_newstyle_does(app, lang, source):
    with app.test_request_context(f"/?lang={lang}"):
        assert render_template_string(source) == _jinja_reference(source)


def test_plural_renders_as_jinja_newstyle_does(app):
    source = '{{ ngettext("%(num)s 个", "%(num)s 个们", 2) }} {{ ngettext("一个", "%(num)s 个", 1, extra="x") }}'
    with app.test_request_context("/?lang=en"):
        assert render_template_string(source) == _jinja_reference(source)


def test_each_render_takes_the_locale_in_force_when_it_starts(app):
    with app.test_request_context("/?lang=en"):
        english = render_template_string('{{ _("已撤销") }}')
        with force_locale("zh_Hant"):
            traditional = render_template_string('{{ _("已撤销") }}')
        again = render_template_string('{{ _("已撤销") }}')
    assert english == again == "Revoked"
    assert traditional == "已撤銷"
