"""End-to-end fixtures: the test app and the live server share one public URL and database."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import free_port


@pytest.fixture
def live_port() -> int:
    """Return the port the live server will listen on."""
    return free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], live_port: int) -> dict[str, Any]:
    """Issue badges under the live server's own public URL."""
    return {**app_config, "PUBLIC_URL": f"http://127.0.0.1:{live_port}"}
