"""Security headers on every response of every route, errors included.

The walk covers every rule of ``app.url_map`` with every method, so routes
added by later features are checked without editing this file (a parameter
the walker cannot fill makes the walk fail).
"""

from __future__ import annotations

import re

import pytest

from tests.functional.route_walker import UnfillableRule, World, fill, make_world, requests_for, rules, send

#: Where open CORS is allowed: the public GET API, keys, status lists, the widget, and the linked-data
#: documents a verifier running in a browser dereferences (credential.json, keys, /ns/v1, issuer, ...).
CORS_PATHS = re.compile(r"^(/api/v1/badges/[^/]+(/log)?|/log/.+|/\.well-known/jwks\.json|/status/[^/]+|/widget\.js"
                        r"|/v/[^/]+/credential\.(json|jws)|/keys/[^/]+(/multikey)?|/ns/v1|/issuer"
                        r"|/achievements/[^/]+|/branches/[^/]+)$")
CORS_METHODS = {"GET", "HEAD", "OPTIONS"}


@pytest.fixture
def world(app, issue_badge) -> World:
    """Return a live badge, its status list and a committee token."""
    return make_world(app, issue_badge)


def csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def check(response, *, method: str, path: str, https: bool) -> list[str]:
    """Return the header problems of one response."""
    problems = []
    headers = response.headers
    csp = headers.get("Content-Security-Policy")
    if not csp:
        problems.append("no Content-Security-Policy")
    else:
        directives = csp_directives(csp)
        script = directives.get("script-src", directives.get("default-src"))
        if script is None:
            problems.append("CSP has neither script-src nor default-src")
        elif any(word.strip("'") in {"unsafe-inline", "unsafe-eval", "*", "data:"} for word in script):
            problems.append(f"CSP script-src allows inline or foreign script: {script}")
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append(f"CSP frame-ancestors is {directives.get('frame-ancestors')}")
        if "object-src" in directives and directives["object-src"] != ["'none'"]:
            problems.append("CSP object-src is not 'none'")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    elif headers["Referrer-Policy"] in {"unsafe-url", "no-referrer-when-downgrade"}:
        problems.append(f"weak Referrer-Policy {headers['Referrer-Policy']}")
    hsts = headers.get("Strict-Transport-Security")
    if https and not (hsts and "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 15_552_000):
        problems.append(f"HSTS missing or short over https: {hsts}")
    if not https and hsts:
        problems.append("HSTS sent over plain http")
    acao = headers.get("Access-Control-Allow-Origin")
    if acao is not None and not (method in CORS_METHODS and CORS_PATHS.match(path)):
        problems.append(f"CORS {acao} on {method} {path}")
    if headers.get("Access-Control-Allow-Credentials"):
        problems.append("CORS allows credentials")
    if response.status_code >= 500 and response.status_code != 503:
        problems.append(f"status {response.status_code}")
    return problems


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_every_route_and_method_carries_the_security_headers(app, client, world: World, https):
    base_url = "https://127.0.0.1:8000" if https else "http://127.0.0.1:8000"
    failures, seen, statuses = [], 0, set()
    for rule, method, path in requests_for(app, world):
        response = send(client, method, path, world, base_url=base_url)
        seen += 1
        statuses.add(response.status_code)
        for problem in check(response, method=method, path=path, https=https):
            failures.append(f"{method} {path} ({rule.rule}) -> {response.status_code}: {problem}")
    print(f"\nheaders checked on {seen} responses over {'https' if https else 'http'}; statuses {sorted(statuses)}")
    assert failures == []
    assert seen >= len(rules(app)) * 5
    assert {200, 405} <= statuses


def test_walker_refuses_a_route_it_cannot_fill(app, world: World):
    from werkzeug.routing import Map, Rule

    rule = Rule("/new/<mystery>")
    Map([rule])  # binding parses the rule's arguments
    with pytest.raises(UnfillableRule, match="cannot fill"):
        fill(rule, world)


@pytest.mark.parametrize("path_template", ["/v/{id}", "/api/v1/badges/{id}", "/openapi.json"])
def test_verify_page_and_api_cannot_be_framed(client, world: World, path_template):
    response = client.get(path_template.format(id=world.badge_id))
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path_of", [
    lambda w: f"/api/v1/badges/{w.badge_id}",
    lambda w: "/.well-known/jwks.json",
    lambda w: f"/status/{w.list_id}",
    lambda w: f"/v/{w.badge_id}/credential.jws",
    lambda w: f"/v/{w.badge_id}/credential.json",
])
def test_public_get_api_has_open_cors(client, world: World, path_of):
    response = client.get(path_of(world))
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in response.headers["Access-Control-Allow-Methods"]


def test_widget_has_open_cors(client):
    response = client.get("/widget.js")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path_of", [
    lambda w: f"/v/{w.badge_id}",
    lambda w: "/openapi.json",
    lambda w: "/healthz",
])
def test_pages_and_writes_have_no_cors(client, world: World, path_of):
    assert "Access-Control-Allow-Origin" not in client.get(path_of(world)).headers
    post = client.post("/api/v1/verify", json={"credential": "x"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in post.headers


def _error_cases(app, client, world):
    yield "404", client.get("/no/such/page"), "/no/such/page"
    yield "404-api", client.get("/api/v1/badges/7K3M-9QX2-HT4B"), "/api/v1/badges/7K3M-9QX2-HT4B"
    yield "405", client.delete("/healthz"), "/healthz"
    yield "400", client.get("/api/v1/badges/XX"), "/api/v1/badges/XX"
    big = b"{" + b" " * (16 * 1024 * 1024 + 10) + b"}"
    yield "413", client.post("/api/v1/verify", data=big, content_type="application/json"), "/api/v1/verify"


def test_error_responses_carry_the_headers(app, client, world: World):
    seen = {}
    for name, response, path in _error_cases(app, client, world):
        seen[name] = response.status_code
        method = "DELETE" if name == "405" else ("POST" if name == "413" else "GET")
        assert check(response, method=method, path=path, https=False) == [], name
        assert response.headers["Cache-Control"] == "no-store"
    assert seen == {"404": 404, "404-api": 404, "405": 405, "400": 400, "413": 413}


def test_rate_limited_response_carries_the_headers(app_config, issue_badge):
    from verifier.app import create_app

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "2 per minute"})
    client = limited.test_client()
    answers = [client.get("/api/v1/badges/7K3M-9QX2-HT4B") for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert check(answers[-1], method="GET", path="/api/v1/badges/7K3M-9QX2-HT4B", https=False) == []
    assert answers[-1].get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in answers[-1].headers


def test_internal_error_response_carries_the_headers_and_no_traceback(app_config):
    from verifier.app import create_app
    from verifier.config import DEFAULT_PASSWORD_HASH_COST

    # A production app: exceptions become 500s, and the password-hash cost is production's too.
    broken = create_app({**app_config, "TESTING": False, "PASSWORD_HASH_COST": DEFAULT_PASSWORD_HASH_COST})
    broken.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError("SECRET-INTERNAL-DETAIL")

    broken.add_url_rule("/api/v1/__boom", "boom", boom)
    broken.add_url_rule("/__boom", "boom_page", boom)
    client = broken.test_client()
    for path in ("/api/v1/__boom", "/__boom"):
        response = client.get(path)
        assert response.status_code == 500
        assert check(response, method="GET", path=path, https=False) == ["status 500"]
        body = response.get_data(as_text=True)
        assert "SECRET-INTERNAL-DETAIL" not in body and "Traceback" not in body
    assert client.get("/api/v1/__boom").get_json()["error"]["code"] == "internal_error"
