"""Fetching a log's public resources over HTTP for the monitor and the verify client."""

from __future__ import annotations

from collections.abc import Callable

import requests

from signer.tlog import LogError

_TIMEOUT = 10
#: A full hash tile is 8 kB and a full bundle at most 256 * 64 kB; checkpoints are small.
_MAX_BODY = 17 * 1024 * 1024


class LogUnreachable(LogError):
    """The log could not be read (network, 5xx); the message is the one line to print."""

    code = "log_unreachable"


def http_fetcher(prefix: str, session: requests.Session | None = None) -> Callable[[str], bytes | None]:
    """Return ``fetch(path)`` for resources under ``prefix`` (``…/log/``): bytes, or None on a 404."""
    http = session or requests.Session()

    def fetch(path: str) -> bytes | None:
        url = prefix + path
        try:
            response = http.get(url, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            raise LogUnreachable(f"cannot reach {url}: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise LogUnreachable(f"{url} answered {response.status_code}")
        if len(response.content) > _MAX_BODY:
            raise LogUnreachable(f"{url} is too large")
        return response.content

    return fetch
