"""Request size limits per endpoint: the complaint form takes what phones produce, the admin API small JSON."""

from __future__ import annotations

import io
from typing import Any

from flask import Request, request

from verifier.web.errors import ApiError

#: The largest page a JSON list answers with.
MAX_PER_PAGE = 100

#: A shopper's complaint carries up to three phone photos (5 MB each once accepted). The form
#: is read up to this size so that an oversized photo comes back as a message beside the form
#: with everything typed kept, rather than a bare 413 that loses the complaint.
COMPLAINT_FORM_MAX_BYTES = 48 * 1024 * 1024

#: The admin JSON API takes small objects (a note, a reason, one badge's fields).
ADMIN_API_MAX_BYTES = 64 * 1024
ADMIN_API_PREFIX = "/api/v1/admin/"

_LIMITS = {"complaints.complain": COMPLAINT_FORM_MAX_BYTES}


class LiangRequest(Request):
    """Flask's request with a larger body limit on the endpoints named in ``_LIMITS``, a small one on the admin API."""

    #: A limit set on this request by code (``request.max_content_length = n``): it wins over ours.
    _explicit_limit: int | None = None

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """Return the body limit of this request's endpoint (the app's limit elsewhere)."""
        if self._explicit_limit is not None:
            return self._explicit_limit
        if self.path.startswith(ADMIN_API_PREFIX):
            return ADMIN_API_MAX_BYTES
        if self.method == "POST":
            limit = _LIMITS.get(self.endpoint or "")
            if limit is not None:
                return limit
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._explicit_limit = value


def refuse_oversized_body() -> None:
    """Refuse an admin API body over its limit before a byte of it is read: 413 ``too_large``.

    Werkzeug checks the limit only when a view reads the body, so an endpoint that ignores
    its body (``…/suspend`` without a note, a complaint's ``…/suspend-badge``) took any size.
    A declared length is compared at once; a body without one (chunked) is read here up to
    the limit and refused beyond it. Other paths keep their own handling (the upload pages
    answer an oversized picture beside the form).
    """
    if not request.path.startswith(ADMIN_API_PREFIX):
        return
    environ = request.environ
    if "CONTENT_LENGTH" not in environ and "HTTP_TRANSFER_ENCODING" not in environ:
        return  # no body
    length = request.content_length
    if length is None and "wsgi.input_terminated" in environ:  # chunked (else Werkzeug reads nothing)
        # Werkzeug's limited stream cuts such a body at the limit without telling whether more
        # followed, so read one byte past it here, then give the views what was read.
        body = environ["wsgi.input"].read(ADMIN_API_MAX_BYTES + 1)
        length = len(body)
        environ["wsgi.input"] = io.BytesIO(body)
    if length is not None and length > ADMIN_API_MAX_BYTES:
        raise ApiError(413, "too_large", f"the request body is larger than {ADMIN_API_MAX_BYTES} bytes")


def json_body() -> dict[str, Any]:
    """Return the request's JSON object or raise a 400 with a clear message."""
    if not request.is_json:
        raise ApiError(415 if request.data else 400, "invalid_request",
                       "send a JSON object with Content-Type: application/json")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return data


def page_args() -> tuple[int, int]:
    """Return (page, per_page) from the query string or raise 400."""
    try:
        page = int(request.args.get("page", "1"))
        per_page = int(request.args.get("per_page", "50"))
    except ValueError as exc:
        raise ApiError(400, "invalid_request", "page and per_page must be whole numbers") from exc
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(400, "invalid_request", f"page starts at 1; per_page is 1 to {MAX_PER_PAGE}")
    return page, per_page
