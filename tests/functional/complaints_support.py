"""Shared helpers for the complaint tests: administrators, console login, pictures."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image

from verifier import context

PASSWORD = "correct horse battery staple 42"


@dataclass
class Admin:
    """An administrator made for a test: the user row's id, nonce and an API token."""

    username: str
    user_id: int
    nonce: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_admin(app: Flask, make_branch: Callable[..., str]) -> Callable[..., Admin]:
    """Create an administrator (and their branch if needed) and return it with a token."""

    def make(username: str, *, role: str, branch: str | None = None) -> Admin:
        with app.app_context():
            if branch is not None:
                from sqlalchemy import select

                from verifier.storage.models import Branch

                if context.session().execute(select(Branch).where(Branch.code == branch)).first() is None:
                    make_branch(branch, f"{branch}支部")
            context.begin_write()
            accounts = context.account_service()
            user = accounts.create(username, PASSWORD, role=role, branch_code=branch)
            token = accounts.issue_token(username)
            admin = Admin(username, user.id, user.session_nonce, token)
            context.session().commit()
        return admin

    return make


def login(client: FlaskClient, admin: Admin) -> None:
    """Put ``admin`` in the console session as Flask-Login would after a password login."""
    from flask_login.utils import _create_identifier

    # "strong" session protection compares this identifier (address + user agent) on every request.
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{admin.user_id}:{admin.nonce}"
        sess["_fresh"] = True
        sess["_id"] = identifier


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """Return a JPEG whose EXIF carries a camera make and GPS coordinates."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (29.0, 18.0, 0.0), 3: "E", 4: (120.0, 4.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    """Return a small PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 10)).save(out, "PNG")
    return out.getvalue()


def file_json(client: FlaskClient, badge_id: str, **fields: Any) -> Any:
    """File a complaint through the JSON API and return the response."""
    body = {"category": "quality", "description": "吹风机坏了，店家拒绝退货。", **fields}
    return client.post(f"/api/v1/badges/{badge_id}/complaints", json=body)


def csrf_token(client: FlaskClient, badge_id: str) -> str:
    """Return the CSRF token from the complaint form page."""
    page = client.get(f"/v/{badge_id}/complain").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no csrf token on the form"
    return match.group(1)


def token_of(url: str) -> str:
    """Return the tracking token from a tracking URL."""
    return url.rsplit("/c/", 1)[1].split("?", 1)[0]
