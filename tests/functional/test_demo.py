"""`liang demo`: the organisation and badges in every state, reported as they really are."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from verifier import context
from verifier.cli.demo import BADGES, BRANCHES, load_demo
from verifier.storage.models import Badge, Branch, PartyGroup


def test_demo_reports_each_badge_in_its_real_state(app, clock):
    start = clock.now
    ticks = iter(range(10_000))
    # a clock that moves on every call, as the real one does while the demo issues badges
    app.config["CLOCK"] = lambda: start + timedelta(seconds=next(ticks))
    with app.app_context():
        context.begin_write()
        report = load_demo(public_url=app.config["PUBLIC_URL"])
        context.session().commit()
        assert context.session().execute(select(func.count()).select_from(Branch)).scalar_one() == len(BRANCHES) == 8
        assert context.session().execute(select(func.count()).select_from(PartyGroup)).scalar_one() >= 2
        pending = context.session().execute(select(func.count()).select_from(Badge)
                                            .where(Badge.state == "pending")).scalar_one()
    expected = Counter(state for *_, state in BADGES if state != "pending")
    assert Counter(state for state, _url in report["badges"]) == expected
    assert pending == 1
    assert report["username"] == "admin" and len(report["password"]) >= 12


def test_demo_is_idempotent_and_resets_the_password(app, run_cli):
    first = run_cli("demo", "--no-serve")
    second = run_cli("demo", "--no-serve")
    assert first.exit_code == 0 and second.exit_code == 0, second.stderr
    pw1 = next(line for line in first.stdout.splitlines() if "password:" in line)
    pw2 = next(line for line in second.stdout.splitlines() if "password:" in line)
    assert pw1 != pw2
    with app.app_context():
        assert context.session().execute(select(func.count()).select_from(Branch)).scalar_one() == 8


def test_demo_writes_its_report_for_the_owner_only(app, run_cli, app_config):
    import stat
    from pathlib import Path

    result = run_cli("demo", "--no-serve")
    assert result.exit_code == 0, result.stderr
    saved = Path(app_config["INSTANCE_DIR"]) / "demo.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    text = saved.read_text(encoding="utf-8")
    password = next(line for line in result.stdout.splitlines() if "password:" in line).split()[-1]
    assert f"password:      {password}" in text and "/admin/" in text and "revoked" in text
    saved.chmod(0o644)
    run_cli("demo", "--no-serve")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


def test_demo_says_the_password_again_when_the_server_stops(app, run_cli, monkeypatch):
    from verifier.cli import main as cli

    def serve_until_stopped(*args: object, **kwargs: object) -> None:
        print("GET /v/7K3M-9QX2-HT4B 200\n" * 500)  # the access log scrolls the password away

    monkeypatch.setattr(cli, "_serve", serve_until_stopped)
    result = run_cli("demo", "--port", "8123")
    assert result.exit_code == 0, result.stderr
    password = next(line for line in result.stdout.splitlines() if "password:" in line).split()[-1]
    tail = result.stdout.rsplit("GET /v/7K3M-9QX2-HT4B 200", 1)[1]
    assert f"password:      {password}" in tail and "/admin/" in tail


def test_demo_on_another_port_prints_links_to_that_port(app, run_cli, monkeypatch):
    monkeypatch.delenv("LIANG_PUBLIC_URL")
    result = run_cli("demo", "--no-serve", "--port", "8123")
    assert result.exit_code == 0, result.stderr
    assert "http://127.0.0.1:8123/admin/" in result.stdout
    assert "http://127.0.0.1:8123/v/" in result.stdout and ":8000/" not in result.stdout
