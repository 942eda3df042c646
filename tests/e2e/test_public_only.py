"""A public-key-only verification node: serves every public endpoint, holds no private key, has no admin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from signer.errors import KeyUnavailable
from tests.conftest import LiveServer, start_server
from tests.e2e.helpers import status_entry
from verifier import context
from verifier.app import create_app

pytestmark = pytest.mark.e2e


@pytest.fixture
def public_node(app: Flask, app_config: dict[str, Any], tmp_path: Path) -> Iterator[LiveServer]:
    """Start ``liang serve --public-only`` on the full node's database, in its own instance dir, with no KEK."""
    env = {
        "LIANG_INSTANCE_DIR": str(tmp_path / "public-node"),
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_PUBLIC_URL": app_config["PUBLIC_URL"],
        "LIANG_LOG_FORMAT": "text",
        "LIANG_KEY_ENCRYPTION_KEY": "",
    }
    server = start_server(env, extra=("--public-only",))
    yield server
    server.stop()


def test_public_node_serves_every_public_endpoint(public_node: LiveServer, issue_badge: Callable[..., str],
                                                  act: Callable[..., Any]) -> None:
    badge = issue_badge()
    other = issue_badge(shop_name="另一家店")
    act("revoke", other, reason="shop_closed")
    url = public_node.url
    status = requests.get(f"{url}/api/v1/badges/{badge}", timeout=10)
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "valid"
    assert requests.get(f"{url}/api/v1/badges/{other}", timeout=10).json()["status"] == "revoked"
    assert requests.get(f"{url}/v/{badge}", timeout=10).status_code == 200
    verdict = requests.post(f"{url}/api/v1/verify", json={"credential": body["credential"]}, timeout=10).json()
    assert verdict["verified"] is True
    jwks = requests.get(f"{url}/.well-known/jwks.json", timeout=10).json()
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])
    list_path, _index = status_entry(body["credential"], "revocation")
    assert requests.get(url + list_path, timeout=10).status_code == 200
    assert requests.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}


PRIVATE_ROUTES = [("GET", "/admin/"), ("GET", "/admin/login"), ("POST", "/api/v1/admin/badges"),
                  ("GET", "/api/v1/admin/badges"), ("GET", "/apply"), ("POST", "/apply")]


def test_public_node_has_no_private_routes_and_no_kek(public_node: LiveServer) -> None:
    # One server for all the checks: starting one costs seconds.
    codes = {(m, p): requests.request(m, public_node.url + p, timeout=10, json={} if m == "POST" else None).status_code
             for m, p in PRIVATE_ROUTES}
    assert codes == {route: 404 for route in PRIVATE_ROUTES}
    document = requests.get(f"{public_node.url}/openapi.json", timeout=10).json()
    assert "/api/v1/badges/{badge_id}" in document["paths"]
    assert [p for p in document["paths"] if p.startswith(("/api/v1/admin", "/admin", "/apply"))] == []
    instance = Path(public_node.env["LIANG_INSTANCE_DIR"])
    assert instance.is_dir()
    assert not (instance / "keys").exists()


def test_public_only_app_cannot_sign(app: Flask, app_config: dict[str, Any], tmp_path: Path,
                                     issue_badge: Callable[..., str]) -> None:
    issue_badge()
    config = {**app_config, "INSTANCE_DIR": str(tmp_path / "p"), "PUBLIC_ONLY": True}
    config.pop("KEY_ENCRYPTION_KEY")
    node = create_app(config)
    try:
        with node.app_context():
            assert "liang.encryptor" not in node.extensions
            with pytest.raises(KeyUnavailable, match="cannot sign") as info:
                context.keyring().signing_key()
            assert info.value.code
    finally:
        node.extensions["liang.db"].dispose()
