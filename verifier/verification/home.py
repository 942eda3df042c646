"""The public front door: the home page, look-up by badge number, the unknown-badge warning, favicon, robots."""

from __future__ import annotations

import io
import math
from functools import cache

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request
from flask_babel import gettext as _
from PIL import Image, ImageDraw

from signer.errors import MalformedId
from signer.ids import format_badge_id, parse_badge_id
from verifier.i18n import with_lang
from verifier.web.ratelimit import unlimited

bp = Blueprint("home", __name__)

ESCALATION_URL = "https://www.12315.cn/"
#: Pages of people's own links (complaint tracking, application status) and the back office stay out of indexes.
ROBOTS = "\n".join([
    "User-agent: *",
    "Disallow: /admin/",
    "Disallow: /api/",
    "Disallow: /c/",
    "Disallow: /apply/status/",
    "Allow: /",
    "",
])


def register(app: Flask) -> None:
    """Mount the home page and its small companions."""
    app.register_blueprint(bp)


def committee() -> dict[str, str | None]:
    """Return the committee's public name and contact, from the configuration."""
    config = current_app.config
    name = str(config.get("ISSUER_NAME") or "网商党委")
    if name == "网商党委":  # the default name has translations; a configured one is shown as written
        name = _("网商党委")
    return {"name": name,
            "phone": config.get("COMMITTEE_PHONE") or None,
            "email": config.get("COMMITTEE_EMAIL") or None}


def _home(*, lookup: str = "", error: str | None = None, status: int = 200) -> Response:
    html = render_template("home/index.html", committee=committee(), lookup=lookup, error=error,
                           escalation_url=ESCALATION_URL)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return response


@bp.get("/")
@unlimited
def index() -> Response:
    """Say what the badge is, and offer every way to check one."""
    return _home()


@bp.get("/lookup")
@unlimited
def lookup() -> Response:
    """Send a typed badge number to its verify page, or back to the form with a message."""
    raw = request.args.get("id", "")[:64]
    if not raw.strip():
        return _home(error=_("请输入徽章编号。"), status=400)
    try:
        badge_id = parse_badge_id(raw)
    except MalformedId:
        return _home(lookup=raw, status=400,
                     error=_("徽章编号格式不正确：编号为 12 位字母数字，如 7K3M-9QX2-HT4B。"))
    return redirect(with_lang(f"/v/{format_badge_id(badge_id)}"), code=303)  # type: ignore[return-value]


def unknown_badge_page(raw_id: str, *, status: int) -> Response:
    """Warn that no badge with this number was ever issued: the QR code that led here may be forged."""
    shown = raw_id.strip()[:40]
    try:
        shown = format_badge_id(parse_badge_id(shown))
        malformed = False
    except MalformedId:
        malformed = True
    html = render_template("verify/unknown.html", shown=shown, malformed=malformed, committee=committee(),
                           escalation_url=ESCALATION_URL)
    response = Response(html, status=status, mimetype="text/html")
    # Never cached: a badge issued a minute later must show at once.
    response.headers["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return response


@bp.get("/robots.txt")
@unlimited
def robots() -> Response:
    """Tell crawlers what not to index."""
    response = Response(ROBOTS, mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/favicon.ico")
@unlimited
def favicon() -> Response:
    """Serve the site icon: a gold star on party red."""
    response = Response(_favicon(), mimetype="image/vnd.microsoft.icon")
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response


@cache
def _favicon() -> bytes:
    size = 64
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill="#a8141c")
    centre, outer, inner = size / 2, size * 0.40, size * 0.16
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((centre + radius * math.cos(angle), centre + 2 + radius * math.sin(angle)))
    draw.polygon(points, fill="#f4c244")
    out = io.BytesIO()
    image.save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()
