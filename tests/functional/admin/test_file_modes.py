"""Console import previews are written private, 0600 in a 0700 directory (issue 14, item 15)."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from tests.functional.admin.conftest import csrf_from


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_import_preview_is_private(app, login, make_user, make_branch) -> None:
    old = os.umask(0o022)
    try:
        make_branch("B01", "第一支部")
        make_user("boss", "committee")
        console = login("boss")
        rows = "holder,shop_name,shop_url,platform,branch,valid_days,hosts\n王一,店一,https://s1.taobao.com,taobao,B01,365,\n"
        page = console.get("/admin/import").get_data(as_text=True)
        preview = console.post("/admin/import", data={"file": (io.BytesIO(rows.encode()), "a.csv"),
                                                      "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
        assert preview.status_code == 200
    finally:
        os.umask(old)
    previews = Path(app.instance_path) / "imports"
    files = list(previews.glob("*.csv"))
    assert files and all(_mode(f) == 0o600 for f in files)
    assert _mode(previews) == 0o700
