"""HTML snippets shop owners paste into their storefronts (shown in the embed kit)."""

from __future__ import annotations

from html import escape

#: The link text of the widget snippet (the contract's wording; shown as is without JavaScript).
WIDGET_LINK_TEXT = "党员网商 · 点击验证"


def widget_snippet(*, badge_id: str, public_url: str) -> str:
    """Return the contract's widget snippet: a plain link plus the async widget script."""
    verify_url = f"{public_url}/v/{badge_id}"
    return (
        f'<a class="liang-badge" data-badge-id="{escape(badge_id)}" href="{escape(verify_url)}">'
        f"{WIDGET_LINK_TEXT}</a>\n"
        f'<script src="{escape(public_url)}/widget.js" async></script>'
    )


def image_link_snippet(*, verify_url: str, image_url: str, alt: str, width: int, height: int) -> str:
    """Return an image wrapped in a link, for platforms that accept only images and links."""
    return (
        f'<a href="{escape(verify_url)}" target="_blank" rel="noopener">'
        # Scales down on a phone (the shop's page, not ours: an inline style is the only way in).
        f'<img src="{escape(image_url)}" width="{int(width)}" height="{int(height)}" alt="{escape(alt)}"'
        ' style="max-width:100%;height:auto"></a>'
    )
