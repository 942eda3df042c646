"""Verify by picture: a shopper uploads a photo, screenshot or badge image and reads the answer (no JS needed).

The page of :mod:`verifier.verification.picture` (which reads the picture against the live record).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_babel import gettext as _

from signer.errors import InvalidImage
from verifier import context
from verifier.web.errors import ApiError
from verifier.web.writelimits import WriteLimit, write_limit

bp = Blueprint("picture", __name__)


def _upload_limit() -> str:
    # Scanning a photo costs far more than a look-up, so uploads get their own, lower budget.
    return str(current_app.config.get("VERIFY_UPLOAD_RATE_LIMIT", "30 per minute"))


def _upload_error(exc: InvalidImage | ApiError) -> tuple[str, int]:
    """Return a shopper-friendly message and status for a refused upload."""
    if isinstance(exc, ApiError):
        if exc.status == 413:
            return _("图片太大：请上传不超过 12 MB 的图片。"), 413
        if exc.status == 503:
            return exc.message, 503
        return _("请选择一张图片后再提交。"), exc.status
    messages = {
        "not_an_image": _("这不是图片文件。请上传 JPG、PNG、WebP 照片或截图，或徽章的 PNG/SVG 图片。"),
        "unsupported_format": _("不支持这种图片格式。请上传 JPG、PNG、WebP 照片或截图，或徽章的 PNG/SVG 图片。"),
        "truncated": _("图片文件不完整或已损坏，请重新拍照或截图。"),
        "bomb": _("图片尺寸过大，请缩小后再上传。"),
        "too_large": _("图片太大：请上传不超过 12 MB 的图片。"),
        "unsafe_xml": _("这个 SVG 文件含有不允许的内容，无法核验。"),
        "malformed": _("这个 SVG 文件格式不正确，无法核验。"),
    }
    status = 413 if exc.reason == "too_large" else 400
    return messages.get(exc.reason, _("无法读取这张图片，请换一张再试。")), status


@bp.route("/verify", methods=["GET", "POST"])
@write_limit(WriteLimit(_upload_limit, methods=frozenset({"POST"})))
def verify_picture() -> Response:
    """Let a shopper upload a photo, screenshot or badge image and show the answer (no JS needed)."""
    result: dict[str, Any] | None = None
    error: str | None = None
    status = 200
    if request.method == "POST":
        from verifier.verification.picture import verify_upload  # start-up time: zxing and Pillow load on first use

        try:
            result = verify_upload(context.verification_service())
        except (InvalidImage, ApiError) as exc:
            error, status = _upload_error(exc)
    html = render_template("verify/upload.html", result=result, error=error,
                           official_host=current_app.config["PUBLIC_URL"].split("://", 1)[1])
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """Register the verify-by-picture page on ``app``."""
    app.register_blueprint(bp)
