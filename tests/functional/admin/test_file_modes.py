"""Console import previews never reach the instance directory, and old ones left there are removed (issue 14, items 15-16)."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from tests.functional.admin.conftest import csrf_from
from verifier import context
from verifier.app import create_app
from verifier.storage.models import ImportPreview


def test_import_preview_is_kept_in_the_database_not_on_disk(app, login, make_user, make_branch) -> None:
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    console = login("boss")
    marker = "预览标记甲乙丙"
    rows = f"holder,shop_name,shop_url,platform,branch,valid_days,hosts\n{marker},店一,https://s1.taobao.com,taobao,B01,365,\n"
    page = console.get("/admin/import").get_data(as_text=True)
    preview = console.post("/admin/import", data={"file": (io.BytesIO(rows.encode()), "a.csv"),
                                                  "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    assert preview.status_code == 200
    with app.app_context():
        kept = context.session().execute(select(ImportPreview.csv_text)).scalars().all()
    assert [marker in text for text in kept] == [True]
    on_disk = [p for p in Path(app.instance_path).rglob("*") if p.is_file() and marker.encode() in p.read_bytes()]
    assert on_disk == []


def test_previews_an_older_release_left_are_removed_at_start(app_config, tmp_path) -> None:
    instance = tmp_path / "instance"
    (instance / "imports").mkdir(parents=True)
    old = instance / "imports" / "abc.csv"
    old.write_text("holder,shop_name\n王一,店一\n", encoding="utf-8")
    started = create_app({**app_config, "INSTANCE_DIR": str(instance)})
    try:
        assert not old.exists() and not (instance / "imports").exists()
    finally:
        started.extensions["liang.db"].dispose()
