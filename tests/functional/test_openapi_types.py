"""The server refuses what the OpenAPI document refuses: a JSON field of another type, ``null`` included.

Schemathesis (coverage phase) found the admin API taking ``{"note": null}`` for a string ``note``
and ``{"valid_days": null}`` for an integer (issue 24 F). Every documented JSON body field
whose schema does not admit ``null`` is sent as ``null`` here; each must be a 400 naming the field.
"""

from __future__ import annotations

import pytest

from tests.functional.route_walker import World, make_world
from verifier.app import ADMIN_PACKAGES, PUBLIC_PACKAGES
from verifier.web.openapi import body_fields, build_document

DOCUMENT = build_document(public_url="http://127.0.0.1:8000", packages=PUBLIC_PACKAGES + ADMIN_PACKAGES)
FIELDS = body_fields(DOCUMENT)
CASES = sorted((path, method, name) for (path, method), fields in FIELDS.items()
               for name, types in fields.items() if "null" not in types)


@pytest.fixture
def world(app, issue_badge) -> World:
    return make_world(app, issue_badge)


def test_the_document_has_typed_fields():
    assert ("/api/v1/admin/badges/{}/revoke", "POST") in FIELDS
    assert any(name == "note" for path, _m, name in CASES if path.endswith("/revoke"))
    assert len(CASES) > 15


@pytest.mark.parametrize(("path", "method", "name"), CASES, ids=[f"{m} {p} {n}=null" for p, m, n in CASES])
def test_null_for_a_field_that_is_not_nullable_is_a_400(client, world, path, method, name):
    fill = world.badge_id if "/badges/" in path else "TS-20261125-AAAAA"
    concrete = path.replace("{}", fill)
    response = client.open(concrete, method=method, headers=world.auth, json={name: None})
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request" and error.get("field") == name
