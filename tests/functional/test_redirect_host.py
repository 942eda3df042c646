"""The merge-slashes and trailing-slash redirects never name a host the client chose."""

from __future__ import annotations

import pytest

from verifier.app import host_free_location


@pytest.mark.parametrize("path", ["/v//ABCD-EFGH-JKMN", "/api/v1//badges/ABCD", "/keys//x", "/.well-known//jwks.json"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", "127.0.0.1:8000@evil.example"])
def test_redirect_location_ignores_a_hostile_host(client, path, host):
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 308
    location = response.headers["Location"]
    assert "evil" not in location
    assert location.startswith("/") and not location.startswith("//")
    assert "//" not in location


def test_redirect_keeps_the_query(client):
    response = client.get("/api/v1//badges/ABCD?lang=en", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/api/v1/badges/ABCD?lang=en"


@pytest.mark.parametrize(("url", "expected"), [
    ("http://evil.example/v/X", "/v/X"),
    ("http://evil.example//evil.example/v/X", "/evil.example/v/X"),
    ("http://h/\\\\evil.example", "/evil.example"),
    ("http://h/a?b=c", "/a?b=c"),
])
def test_host_free_location(url, expected):
    assert host_free_location(url) == expected
