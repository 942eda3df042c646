"""How much picture decoding a worker does at once, and how much of it one client may take.

Decoding a photo is the costliest thing an anonymous request can ask of a worker (a second of
CPU and tens of megabytes, after the pixel caps in :mod:`verifier.web.uploads`). Eight uploads
at once used to hold every worker thread while verifications queued behind them. So each
worker process decodes at most ``slots`` uploads at a time, and one client at most
``per_client`` of them; an upload that finds no free slot is refused at once (503 ``busy``, or
429 for a client already decoding), never queued: a waiting upload would hold a thread as
surely as a decoding one, and the threads are for verifications.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from flask_babel import gettext as _

from verifier.web.errors import ApiError

#: Seconds a refused uploader is told to wait before trying again.
RETRY_AFTER = 5


class UploadBudget:
    """Count the uploads being decoded in this process, in total and per client."""

    def __init__(self, *, slots: int, per_client: int) -> None:
        self.slots = max(1, int(slots))
        self.per_client = max(1, int(per_client))
        self._lock = threading.Lock()
        self._busy = 0
        self._clients: dict[str, int] = {}

    @contextmanager
    def take(self, client: str) -> Iterator[None]:
        """Hold one decoding slot for ``client`` while the block runs, or refuse at once."""
        with self._lock:
            if self._clients.get(client, 0) >= self.per_client:
                raise ApiError(429, "rate_limited", _("您的上一张图片仍在处理中，请稍候再提交。"),
                               retry_after=RETRY_AFTER)
            if self._busy >= self.slots:
                raise ApiError(503, "busy", _("图片上传较多，请稍后再试；不附图片的投诉可以立即提交。"),
                               retry_after=RETRY_AFTER)
            self._busy += 1
            self._clients[client] = self._clients.get(client, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                left = self._clients[client] - 1
                if left:
                    self._clients[client] = left
                else:
                    del self._clients[client]

    def in_use(self) -> int:
        """Return how many slots are taken now."""
        with self._lock:
            return self._busy


def init_app(app: Flask) -> None:
    """Give the app its budget from ``UPLOAD_DECODE_SLOTS`` and ``UPLOAD_DECODE_PER_CLIENT``."""
    app.config.setdefault("UPLOAD_DECODE_SLOTS", 1)
    app.config.setdefault("UPLOAD_DECODE_PER_CLIENT", 1)
    app.extensions["liang.upload_budget"] = UploadBudget(slots=app.config["UPLOAD_DECODE_SLOTS"],
                                                         per_client=app.config["UPLOAD_DECODE_PER_CLIENT"])


def budget() -> UploadBudget:
    """Return this app's upload budget."""
    found: UploadBudget = current_app.extensions["liang.upload_budget"]
    return found
