"""Caching that never lies: ETags on public GETs, status lists cached by version, 503 without a database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import free_port
from verifier.storage.db import Database


def _status_list_url(client: FlaskClient, badge: str, purpose: str = "revocation") -> str:
    body = client.get(f"/api/v1/badges/{badge}").get_json()
    import base64
    import json

    payload = body["credential"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    credential = claims.get("vc", claims)
    entry = next(e for e in [credential["credentialStatus"], credential["revocationStatus"]]
                 if e["statusPurpose"] == purpose)
    return str(entry["statusListCredential"]).removeprefix("http://127.0.0.1:8000")


@pytest.mark.parametrize("path", ["/openapi.json", "/.well-known/jwks.json"])
def test_public_documents_answer_if_none_match(client: FlaskClient, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


@pytest.mark.parametrize("path", ["/v/{id}", "/api/v1/badges/{id}"])
def test_verify_answers_revalidate_and_change_after_revocation(client: FlaskClient, issue_badge: Callable[..., str],
                                                               act: Callable[..., Any], path: str) -> None:
    badge = issue_badge()
    url = path.format(id=badge)
    first = client.get(url)
    assert "no-cache" in first.headers["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    act("revoke", badge, reason="misconduct")
    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != first.headers["ETag"]


def test_healthz_is_never_cached(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers


def test_status_list_served_from_cache_until_version_changes(app: Flask, client: FlaskClient,
                                                             issue_badge: Callable[..., str],
                                                             act: Callable[..., Any]) -> None:
    badge = issue_badge()
    url = _status_list_url(client, badge)
    first = client.get(url)
    assert first.status_code == 200
    assert first.mimetype == "application/vc+jwt"
    list_id = url.rsplit("/", 1)[1]
    cache = app.extensions["liang.status_cache"]
    version, data, etag = cache[(list_id, False)]  # (list id, JSON-LD form?)
    assert data == first.data
    assert first.headers["ETag"] == f'"{etag}"'
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    act("revoke", badge, reason="misconduct")
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.data != first.data
    assert cache[(list_id, False)][0] == version + 1


def test_status_list_cache_never_outlives_the_row(app: Flask, client: FlaskClient,
                                                  issue_badge: Callable[..., str]) -> None:
    from sqlalchemy import update

    from verifier import context
    from verifier.storage.models import StatusList

    badge = issue_badge()
    url = _status_list_url(client, badge)
    client.get(url)
    with app.app_context():
        context.begin_write()
        context.session().execute(update(StatusList).where(StatusList.id == url.rsplit("/", 1)[1])
                                  .values(credential="x.y.z", version=StatusList.version + 1))
        context.session().commit()
    assert client.get(url).data == b"x.y.z"


@pytest.mark.parametrize("list_id", ["nosuchlist", "a" * 33, "bad-id"])
def test_unknown_status_list_is_404(client: FlaskClient, list_id: str) -> None:
    response = client.get(f"/status/{list_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.fixture
def unreachable(app: Flask, issue_badge: Callable[..., str]) -> Iterator[str]:
    """Issue a badge, then swap the app's database for a PostgreSQL on a closed loopback port."""
    badge = issue_badge()
    real = app.extensions["liang.db"]
    app.extensions["liang.db"] = Database(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
                                          "?connect_timeout=2")
    yield badge
    app.extensions["liang.db"].dispose()
    app.extensions["liang.db"] = real


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/badges/{id}"),
    ("POST", "/api/v1/verify"),
])
def test_unreachable_database_api_is_503_never_valid(client: FlaskClient, unreachable: str, method: str,
                                                    path: str) -> None:
    response = client.open(path.format(id=unreachable), method=method,
                           json={"credential": "a.b.c"} if method == "POST" else None)
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "unavailable"
    assert "status" not in body and "verified" not in body


def test_unreachable_database_verify_page_is_503(client: FlaskClient, unreachable: str) -> None:
    response = client.get(f"/v/{unreachable}")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "暂时无法核验" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_unreachable_database_healthz_is_503(client: FlaskClient, unreachable: str) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"


def test_the_page_cache_never_outlives_a_change(app, client, issue_badge, act, clock):
    badge_id = issue_badge(shop_name="可信小店")
    first = client.get(f"/v/{badge_id}").get_data(as_text=True)
    clock.advance(seconds=5)
    again = client.get(f"/v/{badge_id}").get_data(as_text=True)
    assert "有效" in first and first != again  # same record, new check time
    assert "2026-11-25 18:00:05" in again  # 10:00:05 UTC in Beijing time
    act("revoke", badge_id, reason="misconduct")
    after = client.get(f"/v/{badge_id}").get_data(as_text=True)
    assert "已撤销" in after and "违规经营" in after
    marks = app.extensions["liang.page_marks"]
    assert not any(mark.decode() in text for mark in marks for text in (first, again, after))


def test_the_page_cache_follows_expiry(client, issue_badge, clock):
    badge_id = issue_badge(valid_days=1)
    assert "有效" in client.get(f"/v/{badge_id}").get_data(as_text=True)
    clock.advance(days=1, seconds=1)
    assert "已过期" in client.get(f"/v/{badge_id}").get_data(as_text=True)


# Pages with a form are left out: their CSRF token lives in the session.
@pytest.mark.parametrize("path", ["/v/{id}", "/api/v1/badges/{id}", "/v/{id}/badge.png", "/status/{list}",
                                  "/widget.js", "/.well-known/jwks.json"])
def test_public_answers_set_no_cookie_and_do_not_vary_on_it(app, client, issue_badge, path):
    from sqlalchemy import select

    from verifier import context
    from verifier.storage.models import StatusList

    badge_id = issue_badge()
    with app.app_context():
        list_id = context.session().execute(select(StatusList.id)).scalars().first()
    response = client.get(path.format(id=badge_id, list=list_id))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "cookie" not in response.headers.get("Vary", "").lower()


def test_verify_page_varies_alike_rendered_and_from_the_page_cache(app, client, issue_badge):
    """A rendered page said ``Vary: Accept-Language, Cookie``, the cached one ``Accept-Language`` (issue 14, item 17)."""
    badge_id = issue_badge()
    rendered = client.get(f"/v/{badge_id}")
    cached = client.get(f"/v/{badge_id}")
    assert len(app.extensions["liang.page_cache"]) == 1  # the second answer came from the cache
    assert rendered.headers.get_all("Vary") == cached.headers.get_all("Vary") == ["Accept-Language"]
    assert "Set-Cookie" not in rendered.headers and "Set-Cookie" not in cached.headers


def test_verify_page_varies_alike_for_a_browser_with_a_console_cookie(app, client, issue_badge):
    badge_id = issue_badge()
    assert client.get("/admin/login").headers.get("Set-Cookie")  # the console's session cookie (CSRF)
    rendered = client.get(f"/v/{badge_id}")
    cached = client.get(f"/v/{badge_id}")
    assert rendered.headers.get_all("Vary") == cached.headers.get_all("Vary")
