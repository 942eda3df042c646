"""Write-path rate limits: counted per view or shared scope, shortest window first, 429 with the limit headers."""

from __future__ import annotations

import pytest
from flask import Flask

from verifier.web.ratelimit import ReadLimits
from verifier.web.writelimits import WriteLimit, write_limit


@pytest.fixture
def probe_app():
    """A bare app with the counters and the header hook, and nothing else."""
    from verifier.web import ratelimit, writelimits

    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_KEY_PREFIX="t")
    ratelimit.init_app(app)
    writelimits.init_app(app)
    return app


def _route(app: Flask, path: str, *limits: WriteLimit, **options) -> None:
    app.add_url_rule(path, path.strip("/").replace("/", "_"), write_limit(*limits, **options)(lambda: "ok"),
                     methods=["GET", "POST"])


def test_the_limit_refuses_with_429_and_says_so_in_the_headers(probe_app):
    _route(probe_app, "/a", WriteLimit(lambda: "2 per hour"))
    client = probe_app.test_client()
    first, second, third = (client.post("/a") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
    assert second.headers["X-RateLimit-Remaining"] == "0"
    assert third.headers["X-RateLimit-Remaining"] == "0" and int(third.headers["Retry-After"]) > 0
    assert int(third.headers["X-RateLimit-Reset"]) > 0


def test_only_the_named_methods_are_counted(probe_app):
    _route(probe_app, "/a", WriteLimit(lambda: "1 per hour", methods=frozenset({"POST"})))
    client = probe_app.test_client()
    assert [client.get("/a").status_code for _ in range(3)] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in client.get("/a").headers
    assert [client.post("/a").status_code for _ in range(2)] == [200, 429]


def test_a_shared_scope_is_one_allowance_for_every_view(probe_app):
    shared = WriteLimit(lambda: "2 per hour", scope="both")
    _route(probe_app, "/a", shared)
    _route(probe_app, "/b", shared)
    _route(probe_app, "/c", WriteLimit(lambda: "2 per hour"))
    client = probe_app.test_client()
    assert [client.post(p).status_code for p in ("/a", "/b", "/a", "/c")] == [200, 200, 429, 200]


def test_each_client_has_its_own_window(probe_app):
    _route(probe_app, "/a", WriteLimit(lambda: "1 per hour"))
    client = probe_app.test_client()
    assert client.post("/a").status_code == 200
    assert client.post("/a", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    assert client.post("/a").status_code == 429


def test_the_shortest_window_is_counted_first_and_a_breach_stops_the_count(probe_app):
    _route(probe_app, "/a", WriteLimit(lambda: "10 per hour;2 per minute"))
    client = probe_app.test_client()
    assert [client.post("/a").status_code for _ in range(4)] == [200, 200, 429, 429]
    counters = probe_app.extensions["liang.read_limits"]
    hour, minute = counters.items("10 per hour;2 per minute")
    # the refused requests never reached the hourly window: it holds the two allowed ones only
    assert counters.count(hour, "127.0.0.1", "a")[1] == 10 - 3


def test_a_breach_calls_on_breach_and_carries_the_message(probe_app):
    seen = []
    _route(probe_app, "/a", WriteLimit(lambda: "1 per hour", on_breach=seen.append, message=lambda: "slow down"))

    @probe_app.errorhandler(429)
    def _describe(exc):
        return exc.description, 429

    client = probe_app.test_client()
    client.post("/a")
    refused = client.post("/a")
    assert refused.status_code == 429 and refused.get_data(as_text=True) == "slow down"
    assert [str(item) for item in seen] == ["1 per 1 hour"]


def test_skip_when_leaves_a_request_uncounted(probe_app):
    skip = [True]
    _route(probe_app, "/a", WriteLimit(lambda: "1 per hour"), skip_when=lambda: skip[0])
    client = probe_app.test_client()
    assert [client.post("/a").status_code for _ in range(3)] == [200, 200, 200]
    skip[0] = False
    assert [client.post("/a").status_code for _ in range(2)] == [200, 429]


def test_rate_limiting_off_counts_nothing():
    app = Flask(__name__)
    app.config.update(RATELIMIT_ENABLED=False, RATELIMIT_STORAGE_URI="memory://")
    from verifier.web import ratelimit

    ratelimit.init_app(app)
    _route(app, "/a", WriteLimit(lambda: "1 per hour"))
    assert [app.test_client().post("/a").status_code for _ in range(3)] == [200, 200, 200]


def test_an_unreachable_storage_lets_writes_through():
    limits = ReadLimits("redis://127.0.0.1:1/0", prefix="t")
    item = limits.items("1 per hour")[0]
    assert limits.count(item, "c", "s") is None
    assert limits.open


def test_login_is_counted_and_the_read_path_has_no_write_limit(app_config, issue_badge):
    from tests.functional.admin.conftest import csrf_from
    from verifier.app import create_app

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "20 per minute"})
    badge_id = issue_badge()
    client = limited.test_client()
    assert "X-RateLimit-Limit" not in client.get(f"/api/v1/badges/{badge_id}").headers
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    tried = client.post("/admin/login", data={"username": "nobody", "password": "wrong-password-x",
                                              "csrf_token": token})
    assert tried.status_code == 401
    assert tried.headers["X-RateLimit-Limit"] == "20" and tried.headers["X-RateLimit-Remaining"] == "19"
