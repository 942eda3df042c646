"""The app class: Flask's coroutine check remembered per function, the answer unchanged."""

from __future__ import annotations

import pytest

from verifier.app import LiangFlask


def test_ensure_sync_returns_flasks_answer_and_remembers_it(app, monkeypatch):
    assert isinstance(app, LiangFlask)

    def view() -> str:
        return "ok"

    calls = []
    original = LiangFlask.__mro__[1].ensure_sync
    monkeypatch.setattr(LiangFlask.__mro__[1], "ensure_sync", lambda self, f: calls.append(f) or original(self, f))
    assert app.ensure_sync(view) is view
    assert app.ensure_sync(view) is view
    assert calls == [view]  # asked Flask once


def test_a_coroutine_view_still_goes_through_flask(app):
    async def view() -> str:
        return "ok"

    # Flask wraps coroutine functions (and needs its async extra for that): the same answer as Flask's own.
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(view)
