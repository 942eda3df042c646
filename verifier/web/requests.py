"""Request size limits per endpoint: the complaint form takes what phones produce."""

from __future__ import annotations

from flask import Request

#: A shopper's complaint carries up to three phone photos (5 MB each once accepted). The form
#: is read up to this size so that an oversized photo comes back as a message beside the form
#: with everything typed kept, rather than a bare 413 that loses the complaint.
COMPLAINT_FORM_MAX_BYTES = 48 * 1024 * 1024

_LIMITS = {"complaints.complain": COMPLAINT_FORM_MAX_BYTES}


class LiangRequest(Request):
    """Flask's request with a larger body limit on the endpoints named in ``_LIMITS``."""

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """Return the body limit of this request's endpoint (the app's limit elsewhere)."""
        if self._max_content_length is None and self.method == "POST":
            limit = _LIMITS.get(self.endpoint or "")
            if limit is not None:
                return limit
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value
