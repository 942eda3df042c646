"""Display names of the shop platforms, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Lazy: each page shows the names in its own language (English and Traditional included).
PLATFORM_NAMES = {
    "taobao": _l("淘宝"), "tmall": _l("天猫"), "1688": "1688", "jd": _l("京东"), "pinduoduo": _l("拼多多"),
    "douyin": _l("抖音"), "wechat": _l("微信"), "independent": _l("独立站"), "other": _l("其他平台"),
}


def platform_name(code: str) -> str:
    """Return the display name of platform ``code`` in the current language (the code itself if unknown)."""
    name = PLATFORM_NAMES.get(code)
    return str(name) if name is not None else code
