"""The liang CLI: contract verbs, exit statuses, one-line errors."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture
def branch(run_cli):
    result = run_cli("branch", "add", "B01", "第一支部")
    assert result.exit_code == 0, result.stderr
    return "B01"


def _issue(run_cli, *extra):
    result = run_cli("badge", "issue", "--holder", "王小明", "--shop-name", "小明杂货", "--shop-url",
                     "https://xm.taobao.com", "--platform", "taobao", "--branch", "B01", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_issue_show_json_matches_api(run_cli, client, branch):
    body = _issue(run_cli)
    shown = json.loads(run_cli("badge", "show", body["id"].lower(), "--json").stdout)
    api = client.get(f"/api/v1/badges/{body['id']}").get_json()
    assert shown["id"] == body["id"] == api["id"]
    assert set(shown) == set(api)
    assert shown["status"] == api["status"] == "valid"


def test_lifecycle_verbs(run_cli, client, branch):
    badge_id = _issue(run_cli)["id"]
    assert run_cli("badge", "suspend", badge_id, "--note", "investigating").exit_code == 0
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "suspended"
    assert run_cli("badge", "reinstate", badge_id).exit_code == 0
    assert run_cli("badge", "renew", badge_id, "--valid-days", "30").exit_code == 0
    assert run_cli("badge", "revoke", badge_id, "--reason", "shop_closed", "--note", "n").exit_code == 0
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["revocation"]["reason"] == "shop_closed"


@pytest.mark.parametrize(("lang", "line"), [
    ("C.UTF-8", 'liang: This badge is now "Revoked": it cannot be changed by "Reinstate".'),
    ("en_US.UTF-8", 'liang: This badge is now "Revoked": it cannot be changed by "Reinstate".'),
    ("zh_CN.UTF-8", "liang: 这枚徽章当前为“已撤销”，不能恢复。"),
    ("zh_TW.UTF-8", "liang: 這枚徽章當前為“已撤銷”，不能恢復。"),
])
def test_illegal_transition_exits_1_with_one_line(run_cli, branch, monkeypatch, lang, line):
    badge_id = _issue(run_cli)["id"]
    run_cli("badge", "revoke", badge_id, "--reason", "misconduct")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    result = run_cli("badge", "reinstate", badge_id)
    assert result.exit_code == 1
    assert result.stderr == line + "\n"  # the console's and the API's words, one line
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_holder_is_one_line_in_the_shells_language(run_cli, branch, monkeypatch):
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    result = run_cli("badge", "issue", "--holder", " ", "--shop-name", "店", "--shop-url", "https://x.taobao.com",
                     "--platform", "taobao", "--branch", "B01")
    assert result.exit_code == 1
    assert result.stderr == "liang: 请填写经营者姓名。\n"


@pytest.mark.parametrize("args,code,needle", [
    (("badge", "show", "nope"), 1, "12 symbols"),
    (("badge", "show", "7K3M-9QX2-HT4B"), 1, "no badge 7K3M-9QX2-HT4B"),
    (("badge", "revoke", "7K3M-9QX2-HT4B", "--reason", "bored"), 2, "Invalid value for '--reason'"),
    (("badge", "issue", "--holder", "x"), 2, "Missing option"),
    (("branch", "add", "B01", "重复"), 1, "already exists"),
    (("keys", "retire", "nokey"), 1, "no key with id"),
    # A thumbprint may start with "-": it is a key id, not an unknown option.
    (("keys", "retire", "-Xb9kZ2dLq"), 1, "no key with id"),
    (("frobnicate",), 2, "No such command"),
    (("badge", "renew", "{badge}", "--valid-days", "3650"), 1, "3650"),
])
def test_errors_are_one_line(run_cli, branch, issue_badge, args, code, needle):
    if "{badge}" in args:
        args = tuple(issue_badge() if a == "{badge}" else a for a in args)  # a fresh 365-day badge
    result = run_cli(*args)
    assert result.exit_code == code
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_admin_create_and_token(run_cli, branch):
    weak = run_cli("admin", "create", "alice", "--role", "committee", input="password1234\n")
    assert weak.exit_code == 1 and "too common" in weak.stderr
    short = run_cli("admin", "create", "alice", "--role", "committee", input="short\n")
    assert short.exit_code == 1 and "at least 12" in short.stderr
    ok = run_cli("admin", "create", "alice", "--role", "committee", input="correct horse battery staple\n")
    assert ok.exit_code == 0, ok.stderr
    branch_admin = run_cli("admin", "create", "bob", "--role", "branch", input="another long passphrase\n")
    assert branch_admin.exit_code == 1 and "--branch" in branch_admin.stderr
    token = run_cli("admin", "token", "alice")
    assert token.exit_code == 0 and token.stdout.strip().startswith("liang_")


def test_export_jsonl_and_csv(run_cli, branch):
    a = _issue(run_cli)["id"]
    lines = [json.loads(line) for line in run_cli("badge", "export").stdout.splitlines()]
    assert [x["id"] for x in lines] == [a]
    rows = list(csv.reader(io.StringIO(run_cli("badge", "export", "--format", "csv").stdout)))
    assert rows[0][:3] == ["id", "status", "holder"] and rows[1][0] == a


def test_expiring(run_cli, branch):
    soon = _issue(run_cli, "--valid-days", "5")["id"]
    result = run_cli("badge", "expiring", "--days", "30", "--json")
    assert [b["id"] for b in json.loads(result.stdout)] == [soon]


def test_keys_list_rotate(run_cli, client, branch):
    old = _issue(run_cli)
    before = run_cli("keys", "list").stdout.splitlines()
    assert len(before) == 1 and "\tactive\t" in before[0]
    assert run_cli("keys", "rotate").exit_code == 0
    after = run_cli("keys", "list").stdout.splitlines()
    assert len(after) == 2
    assert "\tretired\t" in after[0] and "published" in after[0]  # still used by a live badge
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"] if "/" not in k["kid"]]
    assert len(kids) == 2
    # the old credential still verifies; new ones use the new key
    assert client.post("/api/v1/verify", json={"credential": old["credential"]}).get_json()["verified"] is True
    run_cli("badge", "revoke", old["id"], "--reason", "superseded")
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"] if "/" not in k["kid"]]
    assert len(kids) == 1  # nothing live uses the rotated-out key any more


def test_init_is_idempotent(run_cli):
    assert run_cli("init").exit_code == 0
    result = run_cli("init")
    assert result.exit_code == 0 and "signing key: present" in result.stdout
