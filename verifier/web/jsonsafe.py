"""A JSON provider that turns hostile request bodies into a clean 400, never a 500."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, except that a nesting bomb is a parse error like any other.

    ``json.loads`` raises RecursionError on deeply nested arrays or objects
    (``[[[[...]]]]``); Flask only treats ValueError as "not JSON", so without
    this the request would end in a 500.
    """

    sort_keys = False
    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; raise ValueError for anything that is not usable JSON."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
