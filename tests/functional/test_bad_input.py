"""Bad input everywhere: every route answers garbage with a clean 4xx, never a 500 or a traceback.

The routes come from ``app.url_map`` (see route_walker), so admin, complaint
and embed routes are covered as their features merge; admin routes are called
with a committee bearer token. CSRF is switched off here so that the garbage
reaches the views themselves (CSRF refusals are tested separately below).
"""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter

import pytest
from PIL import Image

from tests.functional.route_walker import World, fill, make_world, rules, send

MAX_BODY = 16 * 1024 * 1024
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: Path parameter values: huge, odd encodings, NUL, traversal, RTL override, confusables from other scripts.
ODD_PARAMS = {
    "huge": "A" * 10_240,
    "pct-ff": "%FF",
    "overlong-utf8": "%C0%AF%C0%AE",
    "rtl-override": "%E2%80%AE7K3M-9QX2-HT4B",
    "nul": "7K3M%009QX2",
    "nul-only": "%00",
    "traversal": "..%2F..%2Fetc%2Fpasswd",
    "cyrillic": "%D0%90%D0%92%D0%A1",  # АВС
    "fullwidth": "%EF%BC%97K3M",
    "emoji": "%F0%9F%98%80",
    "spaces": "%20%20%20",
    "sql": "1'%20OR%20'1'='1",
    "html": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
}
#: Query strings every route gets (parameters are ignored or validated, never crash).
ODD_QUERIES = [
    "page=-1", "page=abc", "page=99999999999999999999999", "status=%00", "q=%FF%FE", "branch=%E2%80%AE",
    "lang=%00", "lang=" + "x" * 5000, "size=xl", "size=%00", "q=" + "%C0%AF" * 100, "a=1&a=2&a=%00",
]
#: JSON bodies of the wrong shape or with wrong types.
BAD_JSON_BODIES = {
    "malformed": b"{",
    "malformed-trailing": b'{"credential": "x"} trailing',
    "list": b"[]",
    "string": b'"credential"',
    "number": b"42",
    "null": b"null",
    "true": b"true",
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "invalid-utf8": b'{"credential": "\xff\xfe"}',
    "utf16": '{"credential": "x"}'.encode("utf-16"),
    "lone-surrogate": b'{"credential": "\\ud800"}',
    "nul": b'{"credential": "\\u0000", "holder": "\\u0000", "reason": "\\u0000", "note": "a\\u0000b"}',
    "huge-number": b'{"valid_days": 1' + b"0" * 5000 + b"}",
    "float-days": b'{"valid_days": 1.5, "page": 1e309}',
    "nan": b'{"valid_days": NaN, "credential": Infinity}',
    "wrong-types": json.dumps({
        "credential": 1, "holder": [], "shop_name": {}, "shop_url": 5, "platform": None, "branch": ["B01"],
        "valid_days": "365", "hosts": "a.example", "reason": {"code": "misconduct"}, "note": 7,
        "status": [], "reply": {}, "category": 1, "description": None, "order_number": [1], "contact": {},
    }).encode(),
    "nested": json.dumps({"credential": {"credential": {"credential": ["x"]}}, "holder": {"a": [[[]]]}}).encode(),
    "huge-strings": json.dumps({k: "字" * 100_000 for k in ("credential", "holder", "shop_name", "note",
                                                             "description", "reason")}).encode(),
    "rtl-and-controls": json.dumps({"holder": "\u202e\u0000\u001b[31m", "shop_url": "https://\u202eexample.com",
                                    "hosts": ["\u0000", "..", "a" * 300], "credential": "\u202e.\u0000.x"}).encode(),
    "duplicate-keys": b'{"credential": "a", "credential": "b", "reason": "x", "reason": "misconduct"}',
}


@pytest.fixture
def app_config(app_config):
    """Let garbage reach the views: no CSRF refusal in front of them."""
    return {**app_config, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def world(app, issue_badge) -> World:
    """Return a live badge, its status list and a committee token."""
    return make_world(app, issue_badge)


def problems_of(response, path: str) -> list[str]:
    """Return what is wrong with the answer to a bad request."""
    problems = []
    status = response.status_code
    body = response.get_data()
    if status >= 500:
        problems.append(f"status {status}")
    if b"Traceback" in body or b'File "' in body or b"sqlalchemy" in body.lower():
        problems.append("traceback or internals in the body")
    if status >= 400:
        api = path.startswith(("/api/", "/.well-known/", "/status/", "/openapi.json"))
        if api:
            data = response.get_json(silent=True)
            if not (isinstance(data, dict) and isinstance(data.get("error"), dict)
                    and {"code", "message"} <= data["error"].keys()):
                problems.append(f"API error without the JSON error shape: {body[:120]!r}")
        elif response.mimetype == "text/html":
            if b"<html" not in body.lower() and b"<!doctype" not in body.lower():
                problems.append("browser error without a page")
        elif response.mimetype != "application/json":
            problems.append(f"error with content type {response.mimetype}")
    return problems


def _methods(rule) -> list[str]:
    return sorted(m for m in rule.methods if m not in {"HEAD", "OPTIONS"})


def test_odd_path_parameters_and_queries_never_crash(app, client, world: World):
    failures, tried, statuses = [], 0, Counter()
    for rule in rules(app):
        for method in _methods(rule):
            paths = [fill(rule, world)]
            for name in rule.arguments:
                paths += [fill(rule, world, override={name: value}) for value in ODD_PARAMS.values()]
            for path in paths:
                for query in ["", *ODD_QUERIES]:
                    url = f"{path}?{query}" if query else path
                    response = send(client, method, url, world)
                    tried += 1
                    statuses[response.status_code] += 1
                    failures += [f"{method} {url[:120]}: {p}" for p in problems_of(response, path)]
    print(f"\nodd paths/queries: {tried} requests, statuses {dict(sorted(statuses.items()))}")
    assert failures == []
    assert tried > 100


def test_bad_json_bodies_never_crash(app, client, world: World):
    failures, tried, statuses = [], 0, Counter()
    for rule in rules(app):
        for method in [m for m in _methods(rule) if m in WRITE_METHODS]:
            path = fill(rule, world)
            for name, body in BAD_JSON_BODIES.items():
                for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
                    response = send(client, method, path, world, data=body, content_type=content_type)
                    tried += 1
                    statuses[response.status_code] += 1
                    failures += [f"{method} {path} {name} ({content_type}): {p}"
                                 for p in problems_of(response, path)]
    print(f"\nbad bodies: {tried} requests, statuses {dict(sorted(statuses.items()))}")
    assert failures == []
    assert tried >= len(BAD_JSON_BODIES) * 3


def test_bad_json_on_the_verify_api_is_a_400_with_the_error_shape(client):
    for name in ("malformed", "list", "string", "number", "null", "deep-nesting", "invalid-utf8", "wrong-types",
                 "nested", "nan"):
        response = client.post("/api/v1/verify", data=BAD_JSON_BODIES[name], content_type="application/json")
        assert response.status_code == 400, name
        assert response.get_json()["error"]["code"] == "invalid_request", name


def test_oversized_bodies_are_413_everywhere(app, client, world: World):
    big = b"x" * (MAX_BODY + 1)
    answered = {}
    for rule in rules(app):
        for method in [m for m in _methods(rule) if m in {"POST", "PUT", "PATCH"}]:
            path = fill(rule, world)
            for content_type in ("application/json", "multipart/form-data; boundary=x",
                                 "application/x-www-form-urlencoded", "application/octet-stream"):
                response = send(client, method, path, world, data=big, content_type=content_type)
                assert problems_of(response, path) == []
                answered[(method, path, content_type)] = response.status_code
    assert answered, "no write routes found"
    # Werkzeug raises 413 the moment a view touches a body over MAX_CONTENT_LENGTH, so any
    # other refusal (a console redirect to the login, 401/403, an unknown record's 404)
    # means the body was never read. What must never happen: a success or a server error.
    wrong = {k: v for k, v in answered.items() if v != 413 and not 300 <= v < 500}
    assert wrong == {}
    assert {v for (m, p, c), v in answered.items() if p == "/api/v1/verify"} == {413}


def test_null_bytes_in_headers_and_cookies_never_crash(app, client, world: World):
    for rule in rules(app):
        path = fill(rule, world)
        for headers in ({"Accept-Language": "\x00zh"}, {"Authorization": "Bearer \x00" + "a" * 5000},
                        {"Authorization": "Bearer liang_\x00"}, {"If-None-Match": '"\x00"'},
                        {"Cookie": "liang_session=\x00%FF" + "a" * 4000}, {"X-Forwarded-For": "\x00"}):
            response = client.get(path, headers=headers)
            assert problems_of(response, path) == [], (path, headers)


def test_csrf_protects_every_browser_form_post(app_config, issue_badge):
    from verifier.app import create_app

    protected = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = protected.test_client()
    checked = 0
    protected_world = None
    for rule in rules(protected):
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        protected_world = protected_world or make_world(protected, issue_badge)
        path = fill(rule, protected_world)
        response = client.post(path, data={"x": "y"})
        assert response.status_code == 400, path
        assert "表单已过期或来源不明" in response.get_data(as_text=True), path  # the CSRF refusal, not another 400
        checked += 1
    print(f"\nbrowser form POST routes checked for CSRF: {checked}")
    assert checked, "no browser form POST routes were found to check"


# -- uploads ----------------------------------------------------------------------------------
def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, format="PNG")
    return out.getvalue()


def _png_bomb() -> bytes:
    """A tiny PNG whose header claims 30000 x 30000 pixels (900 MP)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00" * 1000, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
                  b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
                  b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
                  b'<svg xmlns="http://www.w3.org/2000/svg"><text>&d;&d;&d;&d;&d;&d;&d;&d;</text></svg>')
XXE = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>')
EXTERNAL_DTD = (b'<?xml version="1.0"?><!DOCTYPE svg SYSTEM "http://127.0.0.1:9/evil.dtd">'
                b'<svg xmlns="http://www.w3.org/2000/svg"/>')
UPLOADS = {
    "xml-billion-laughs": (BILLION_LAUGHS, {"unsafe_xml"}),
    "xml-external-entity": (XXE, {"unsafe_xml"}),
    "xml-external-dtd": (EXTERNAL_DTD, {"unsafe_xml"}),
    "png-decompression-bomb": (_png_bomb(), {"bomb"}),
    "gzip-bomb": (gzip.compress(b"\x00" * 20_000_000), {"not_an_image"}),
    "zip-magic": (b"PK\x03\x04" + b"\x00" * 100, {"not_an_image"}),
    "pdf-magic": (b"%PDF-1.7\n" + b"x" * 100, {"not_an_image"}),
    "html-as-image": (b"<html><script>alert(1)</script></html>", {"not_an_image"}),
    "exe-magic": (b"MZ\x90\x00" + b"\x00" * 100, {"not_an_image"}),
    "png-truncated": (_png(50, 50)[:40], {"truncated", "not_an_image"}),
    "png-magic-jpeg-body": (b"\x89PNG\r\n\x1a\n" + b"\xff\xd8\xff\xe0" + b"\x00" * 100,
                            {"truncated", "not_an_image", "invalid", "malformed"}),
    "jpeg-magic-garbage": (b"\xff\xd8\xff" + b"\x00" * 100, {"truncated", "not_an_image", "invalid"}),
    "gif": (b"GIF89a" + b"\x00" * 100, {"unsupported_format"}),
    "empty": (b"", {"not_an_image"}),
}


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_hostile_uploads_to_verify_are_refused(client, name):
    data, reasons = UPLOADS[name]
    response = client.post("/api/v1/verify", data={"file": (io.BytesIO(data), "badge.png")},
                           content_type="multipart/form-data")
    assert problems_of(response, "/api/v1/verify") == []
    assert response.status_code == 400, response.get_data()[:200]
    error = response.get_json()["error"]
    assert error["code"] == "invalid_image"
    assert error["reason"] in reasons
    assert b"root:" not in response.get_data()


def test_upload_without_file_field_or_with_wrong_field_is_400(client):
    response = client.post("/api/v1/verify", data={"picture": (io.BytesIO(_png(10, 10)), "x.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_upload_over_12_mb_is_413(client):
    data = _png(10, 10) + b"\x00" * (12 * 1024 * 1024)
    response = client.post("/api/v1/verify", data={"file": (io.BytesIO(data), "x.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
