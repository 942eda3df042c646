"""``liang badge import``: all rows or none, every rejected row named, and the export round trip."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from verifier import context
from verifier.storage.models import Badge, Member, StatusList, StatusSlot

HEADER = "holder,shop_name,shop_url,platform,branch,valid_days,hosts\n"


def _write(tmp_path, rows, name="in.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return str(path)


def _row(i, *, url=None, branch="B01", hosts=""):
    return f"店主{i % 700},店铺{i},{url or f'https://s{i}.taobao.com/'},taobao,B01,365,{hosts}\n".replace(
        ",B01,", f",{branch},")


def _count(app, model=Badge):
    with app.app_context():
        return context.session().execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def branches(make_branch):
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")


def test_one_bad_row_among_20000_imports_nothing(app, branches, run_cli, tmp_path):
    rows = [_row(i) for i in range(20_000)]
    rows[12_344] = _row(12_344, url="ftp://nope.example")  # file line 12346 (the header is line 1)
    result = run_cli("badge", "import", _write(tmp_path, rows))
    assert result.exit_code == 1
    assert "line 12346 (shop_url)" in result.stderr
    assert "1 row(s) rejected; nothing was imported" in result.stderr
    assert _count(app) == 0 and _count(app, Member) == 0


def test_good_20000_rows_import_in_full(app, branches, run_cli, tmp_path):
    result = run_cli("badge", "import", _write(tmp_path, [_row(i) for i in range(20_000)]))
    assert result.exit_code == 0, result.stderr
    assert "imported 20000 badge(s)" in result.stdout
    assert _count(app) == 20_000
    assert _count(app, StatusSlot) == 40_000
    assert _count(app, Member) == 20_000  # without member_ref, every row is a new person (never merged by name)
    with app.app_context():
        used = dict(context.session().execute(select(StatusList.purpose, func.sum(StatusList.used))
                                              .group_by(StatusList.purpose)).all())
    assert used == {"revocation": 20_000, "suspension": 20_000}
    assert run_cli("audit", "verify").exit_code == 0


def test_imported_badges_verify_and_keep_their_hosts(app, branches, run_cli, tmp_path, client, clock):
    run_cli("badge", "import", _write(tmp_path, [_row(1, hosts="a.s1.taobao.com m.s1.taobao.com"), _row(2)]))
    lines = run_cli("badge", "export", "--format", "jsonl").stdout.splitlines()
    bodies = {json.loads(line)["shop"]["name"]: json.loads(line) for line in lines}
    assert bodies["店铺1"]["shop"]["hosts"] == ["a.s1.taobao.com", "m.s1.taobao.com"]
    assert bodies["店铺2"]["shop"]["hosts"] == ["s2.taobao.com"]
    clock.advance(days=1)  # the CLI signs with the wall clock; the app's clock is frozen earlier
    verified = client.post("/api/v1/verify", json={"credential": bodies["店铺1"]["credential"]}).get_json()
    assert verified["verified"] is True, verified


@pytest.mark.parametrize(("rows", "message"), [
    ([_row(1), _row(2, url="https://s1.taobao.com/")], "line 3 (shop_url): Same shop URL as line 2."),
    ([_row(1, branch="NOPE")], 'line 2 (branch): Branch "NOPE" does not exist.'),
    (["甲,店,https://x.example,ebay,B01,365,\n"], "line 2 (platform)"),
    (["甲,店,https://x.example,taobao,B01,forever,\n"], "line 2 (valid_days)"),
    (["甲,店,https://x.example,taobao,B01,0,\n"], "line 2 (valid_days)"),
    (["甲,店,https://x.example,taobao\n"], "line 2: Expected 7 fields, found 4."),
    (["甲,店,https://x.example,taobao,B01,365,bad_host!\n"], "line 2 (hosts)"),
])
def test_each_rejected_row_is_named(app, branches, run_cli, tmp_path, rows, message):
    result = run_cli("badge", "import", _write(tmp_path, rows))
    assert result.exit_code == 1
    assert message in result.stderr
    assert _count(app) == 0


def test_missing_column_is_refused(app, branches, run_cli, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("holder,shop_name\n甲,店\n", encoding="utf-8")
    result = run_cli("badge", "import", str(path))
    assert result.exit_code == 1
    assert "line 1: Missing columns: shop_url, platform, branch, valid_days." in result.stderr


def test_shop_with_live_badge_is_refused(app, branches, run_cli, tmp_path, issue_badge):
    issue_badge(branch="B01", shop_url="https://s5.taobao.com/")
    result = run_cli("badge", "import", _write(tmp_path, [_row(4), _row(5)]))
    assert result.exit_code == 1
    assert "line 3 (shop_url): This shop already has a badge; renew that badge instead." in result.stderr
    assert _count(app) == 1


def test_dry_run_imports_nothing(app, branches, run_cli, tmp_path):
    result = run_cli("badge", "import", "--dry-run", _write(tmp_path, [_row(1), _row(2)]))
    assert result.exit_code == 0
    assert "2 row(s) checked" in result.stdout
    assert _count(app) == 0


def test_export_round_trip(app, branches, run_cli, tmp_path):
    rows = [_row(i, branch="B01" if i % 2 else "B02") for i in range(50)]
    assert run_cli("badge", "import", _write(tmp_path, rows)).exit_code == 0
    exported = list(csv.DictReader(io.StringIO(run_cli("badge", "export", "--format", "csv").stdout)))
    back = [f"{r['holder']},{r['shop_name']},{r['shop_url']},{r['platform']},{r['branch']},365,{r['hosts']}\n"
            for r in exported]
    assert len(exported) == 50
    assert {r.replace(",365,", ",").rsplit(",", 1)[0] for r in back} == {
        r.replace(",365,", ",").rsplit(",", 1)[0] for r in rows}
    jsonl = [json.loads(line) for line in run_cli("badge", "export", "--format", "jsonl").stdout.splitlines()]
    assert sorted(b["id"] for b in jsonl) == sorted(r["id"] for r in exported)
    # The exported rows import again into a fresh branch-free copy only as duplicates: nothing twice.
    again = run_cli("badge", "import", _write(tmp_path, back, "again.csv"))
    assert again.exit_code == 1 and again.stderr.count("This shop already has a badge") == 50


@pytest.mark.parametrize("workers,how", [("1", "in worker processes"), ("0", "in process")])
def test_liang_import_sign_workers_choose_where_a_large_import_signs(app, branches, run_cli, tmp_path, monkeypatch,
                                                                     caplog, workers, how):
    import logging

    from signer.batch import MIN_PARALLEL
    from signer.credentials import verify_credential

    caplog.set_level(logging.INFO, logger="verifier.badges.bulk")
    monkeypatch.setenv("LIANG_IMPORT_SIGN_WORKERS", workers)
    result = run_cli("badge", "import", _write(tmp_path, [_row(i) for i in range(MIN_PARALLEL)]))
    assert result.exit_code == 0, result.stderr
    assert f"imported {MIN_PARALLEL} badges (signed {how})" in caplog.text
    with app.app_context():
        keyring = context.keyring()
        for token in context.session().execute(select(Badge.credential).limit(50)).scalars():
            assert verify_credential(token, issuer=context.issuer(), resolve_key=keyring.public_key).kid


def test_every_problem_of_a_row_is_named_not_the_first(app, branches, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = run_cli("badge", "import", _write(tmp_path, [_row(1), ",店,ftp://x,ebay,NOPE,forever,\n"]))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "liang: in.csv: 第 3 行（holder）：请填写经营者姓名。" in lines
    assert "liang: in.csv: 第 3 行（shop_url）：店铺网址须为带域名的 http:// 或 https:// 网址。" in lines
    assert any(line.startswith("liang: in.csv: 第 3 行（platform）：平台须为以下之一：taobao") for line in lines)
    assert "liang: in.csv: 第 3 行（valid_days）：有效天数须为 1 到 3650 之间的整数。" in lines
    assert "liang: in.csv: 第 3 行（branch）：没有“NOPE”这个支部。" in lines
    assert lines[-1] == "liang: 1 row(s) rejected; nothing was imported"
    assert _count(app) == 0
