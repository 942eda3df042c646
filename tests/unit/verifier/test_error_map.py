"""The one domain-error → HTTP map is complete: every error class is listed, faults are 5xx."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import Blueprint

import signer
import verifier
from signer.errors import BadgeError, InvalidRenderRequest, KeyStoreError, KeyUnavailable
from verifier.accounts.logins import LoginRefused
from verifier.accounts.service import AuthError
from verifier.errors import DOMAIN_STATUS, status_for


def _import_everything() -> None:
    for package in (signer, verifier):
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if ".migrations" not in info.name and not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def _all_subclasses(root: type) -> set[type]:
    found: set[type] = set()
    todo = [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_domain_error_class_is_mapped_itself():
    _import_everything()
    classes = _all_subclasses(BadgeError) | {BadgeError}
    project = {c for c in classes if c.__module__.split(".")[0] in {"signer", "verifier"}}
    unmapped = sorted(f"{c.__module__}.{c.__qualname__}" for c in project if c not in DOMAIN_STATUS)
    assert not unmapped, f"domain errors without an HTTP status in verifier.web.errors.DOMAIN_STATUS: {unmapped}"


def test_a_new_unmapped_subclass_is_caught_by_the_walk():
    class Unlisted(KeyStoreError):
        pass

    assert Unlisted in _all_subclasses(BadgeError)
    assert Unlisted not in DOMAIN_STATUS
    assert status_for(Unlisted("x")) == 500  # falls back to its nearest mapped base, never to 400


@pytest.mark.parametrize(("error", "status"), [
    (KeyStoreError("cannot decrypt the signing key"), 500),
    (KeyUnavailable("cannot sign on a public-only node"), 503),
    (InvalidRenderRequest("no such size", reason="bad_size"), 400),
    (LoginRefused("wrong password", reason="bad_credentials"), 401),
    (AuthError("bad token"), 401),
    (BadgeError("bare root"), 500),
])
def test_status_for(error, status):
    assert status_for(error) == status


@pytest.mark.parametrize(("error", "status", "code"), [
    (KeyStoreError("cannot decrypt key 7f3a with KEK /srv/instance/keys/kek"), 500, "key_store_error"),
    (InvalidRenderRequest("size must be s, m or l", reason="bad_size"), 400, "invalid_request"),
    (AuthError("bad token"), 401, "unauthorized"),
])
@pytest.mark.fresh_app
def test_raised_in_a_view_answers_with_the_mapped_status(app, error, status, code):
    bp = Blueprint("raiser", __name__)

    @bp.get("/api/v1/raise")
    def raiser():
        raise error

    app.register_blueprint(bp)
    response = app.test_client().get("/api/v1/raise")
    assert response.status_code == status
    body = response.get_json()
    assert body["error"]["code"] == code
    if status >= 500:
        assert "/srv/instance" not in response.get_data(as_text=True)  # a fault's details stay in the log
