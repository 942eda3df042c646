"""Embed snippets: the contract's widget snippet, and an escaped image-and-link snippet."""

from __future__ import annotations

from widget.snippets import image_link_snippet, widget_snippet


def test_widget_snippet_is_exactly_the_contracts():
    assert widget_snippet(badge_id="7K3M-9QX2-HT4B", public_url="https://liang.example.cn") == (
        '<a class="liang-badge" data-badge-id="7K3M-9QX2-HT4B" href="https://liang.example.cn/v/7K3M-9QX2-HT4B">'
        "党员网商 · 点击验证</a>\n"
        '<script src="https://liang.example.cn/widget.js" async></script>'
    )


def test_image_link_snippet_links_the_image_to_the_verify_page():
    snippet = image_link_snippet(verify_url="https://l.cn/v/7K3M-9QX2-HT4B",
                                 image_url="https://l.cn/v/7K3M-9QX2-HT4B/badge.png?size=m",
                                 alt="党员网商亮身份：小明杂货", width=480, height=300)
    assert snippet == (
        '<a href="https://l.cn/v/7K3M-9QX2-HT4B" target="_blank" rel="noopener">'
        '<img src="https://l.cn/v/7K3M-9QX2-HT4B/badge.png?size=m" width="480" height="300"'
        ' alt="党员网商亮身份：小明杂货" style="max-width:100%;height:auto"></a>'
    )


def test_image_link_snippet_escapes_the_alt_text():
    snippet = image_link_snippet(verify_url="https://l.cn/v/X", image_url="https://l.cn/i.png?a=1&b=2",
                                 alt='"><script>alert(1)</script>', width=1, height=1)
    assert "<script>" not in snippet
    assert 'alt="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in snippet
    assert 'src="https://l.cn/i.png?a=1&amp;b=2"' in snippet
