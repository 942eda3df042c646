"""The OpenAPI document says what the code does (finding 6 of issue 15)."""

from __future__ import annotations

import re

import pytest

from verifier.app import ADMIN_PACKAGES, PUBLIC_PACKAGES
from verifier.web.openapi import BADGE_ID_PATTERN, build_document

DOC = build_document(public_url="http://127.0.0.1:8000", packages=PUBLIC_PACKAGES + ADMIN_PACKAGES)


def _operations():
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _request_schemas():
    for path, method, operation in _operations():
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            yield f"{method.upper()} {path} {media}", content["schema"], content


def test_every_badge_id_path_parameter_has_the_pattern():
    for path, _method, operation in _operations():
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "badge_id":
                assert parameter["schema"].get("pattern") == BADGE_ID_PATTERN, path


def test_required_strings_in_request_bodies_have_min_length():
    for where, schema, _content in _request_schemas():
        for name in schema.get("required", []):
            prop = schema["properties"][name]
            if prop.get("type") == "string" and "enum" not in prop and prop.get("format") != "binary":
                assert prop.get("minLength", 0) >= 1, f"{where}: {name}"


def test_multipart_files_name_their_image_media_types():
    seen = 0
    for where, schema, content in _request_schemas():
        binaries = [name for name, prop in schema.get("properties", {}).items()
                    if prop.get("format") == "binary" or prop.get("items", {}).get("format") == "binary"]
        for name in binaries:
            types = content.get("encoding", {}).get(name, {}).get("contentType", "")
            assert re.fullmatch(r"image/[a-z+]+(, image/[a-z+]+)*", types), f"{where}: {name}"
            seen += 1
    assert seen >= 2


def test_every_admin_operation_may_answer_503():
    for path, method, operation in _operations():
        if path.startswith("/api/v1/admin/"):
            assert "503" in operation["responses"], f"{method} {path}"


def test_verify_takes_both_credential_forms():
    schema = DOC["paths"]["/api/v1/verify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert [s["type"] for s in schema["properties"]["credential"]["oneOf"]] == ["string", "object"]


@pytest.mark.parametrize("bad", ["0000", "7K3M-9QX2-HT4U!", "x" * 20])
def test_complaint_path_pattern_matches_what_the_code_refuses(client, bad):
    assert not re.search(BADGE_ID_PATTERN, bad)
    response = client.post(f"/api/v1/badges/{bad}/complaints", json={"category": "other", "description": "x"})
    assert response.status_code in {400, 404}


def test_every_operation_with_a_body_documents_413():
    for path, method, operation in _operations():
        if "requestBody" in operation:
            assert "413" in operation["responses"], f"{method.upper()} {path}"
