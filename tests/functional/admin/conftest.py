"""Fixtures for the console and admin API: accounts, tokens, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from verifier import context

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def make_user(app: Flask, make_branch: Callable[..., str]) -> Callable[..., str]:
    """Create an administrator and return the user name."""

    def make(username: str, role: str, branch: str | None = None) -> str:
        with app.app_context():
            context.begin_write()
            context.account_service().create(
                username, PASSWORD, role=role, branch_code=branch)
            context.session().commit()
        return username

    return make


@pytest.fixture
def make_token(app: Flask) -> Callable[[str], str]:
    """Return a fresh API token for a user."""

    def make(username: str) -> str:
        with app.app_context():
            context.begin_write()
            token = context.account_service().issue_token(username)
            context.session().commit()
        return token

    return make


@pytest.fixture
def role_tokens(make_user: Callable[..., str], make_token: Callable[[str], str],
                make_branch: Callable[..., str]) -> dict[str, str]:
    """Two branches and one account per role (committee, each branch, auditor); their bearer tokens by user name."""
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")
    make_user("boss", "committee")
    make_user("sec1", "branch", "B01")
    make_user("sec2", "branch", "B02")
    make_user("eye", "auditor")
    return {name: make_token(name) for name in ("boss", "sec1", "sec2", "eye")}


def csrf_from(page: str) -> str:
    """Return the CSRF token embedded in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no csrf token in page"
    return match.group(1)


@pytest.fixture
def login(app: Flask) -> Callable[..., FlaskClient]:
    """Return a new client logged in as ``username``."""

    def do(username: str, password: str = PASSWORD, totp: str = "") -> FlaskClient:
        client = app.test_client()
        page = client.get("/admin/login").get_data(as_text=True)
        response = client.post("/admin/login", data={"username": username, "password": password, "totp": totp,
                                                     "csrf_token": csrf_from(page)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do


def post_form(client: FlaskClient, url: str, data: dict[str, Any], *, page_url: str = "/admin/") -> Any:
    """POST a console form with a CSRF token taken from ``page_url``."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})
