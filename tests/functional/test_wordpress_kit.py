"""The WordPress plugin zip of the embed kit, the status list ttl header, and the kit's WordPress section."""

from __future__ import annotations

import io
import re
import stat
import tomllib
import zipfile
from pathlib import Path

from tests.functional.test_embed import _pending_badge
from widget.wordpress_zip import SOURCE, build_wordpress_zip

ROOT = Path(__file__).resolve().parent.parent.parent


def _zip(client, badge_id: str):
    response = client.get(f"/v/{badge_id}/kit/wordpress.zip")
    assert response.status_code == 200, response.data[:300]
    return response, zipfile.ZipFile(io.BytesIO(response.data))


def test_zip_has_one_folder_with_the_plugin_and_this_badge(client, issue_badge, app_config):
    badge_id = issue_badge()
    response, archive = _zip(client, badge_id)
    assert response.mimetype == "application/zip"
    assert 'filename="liangshenfen-badge.zip"' in response.headers["Content-Disposition"]
    names = archive.namelist()
    assert {n.split("/")[0] for n in names} == {"liangshenfen-badge"}
    for required in ("liangshenfen-badge/liangshenfen-badge.php", "liangshenfen-badge/readme.txt",
                     "liangshenfen-badge/uninstall.php", "liangshenfen-badge/block/block.json",
                     "liangshenfen-badge/languages/liangshenfen-badge-zh_CN.mo",
                     "liangshenfen-badge/languages/liangshenfen-badge-zh_TW.mo"):
        assert required in names
    main = archive.read("liangshenfen-badge/liangshenfen-badge.php").decode()
    assert "Requires at least: 6.1" in main and "Requires PHP:      8.1" in main
    config = archive.read("liangshenfen-badge/config.php").decode()
    assert f"'badge_id'    => '{badge_id}'" in config
    assert f"'service_url' => '{app_config['PUBLIC_URL']}'" in config
    # The source's own config.php carries no badge; the zip's is generated.
    assert "'badge_id'    => ''" in (SOURCE / "config.php").read_text()


def test_zip_is_reproducible_sorted_with_fixed_times_and_modes(client, issue_badge):
    badge_id = issue_badge()
    first, archive = _zip(client, badge_id)
    # The same badge gives the same bytes, also when built afresh (not only from the render cache).
    assert build_wordpress_zip(badge_id=badge_id, public_url="http://127.0.0.1:8000") == first.data
    names = archive.namelist()
    assert names == sorted(names)
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        mode = info.external_attr >> 16
        assert stat.S_IMODE(mode) == (0o755 if info.is_dir() else 0o644), info.filename
    other = issue_badge()
    assert client.get(f"/v/{other}/kit/wordpress.zip").data != first.data


def test_zip_id_is_read_like_every_route_and_unknown_or_pending_is_404(client, issue_badge, app):
    badge_id = issue_badge()
    loose = badge_id.lower().replace("-", "").replace("1", "l").replace("0", "o")
    _, archive = _zip(client, loose)
    assert f"'{badge_id}'" in archive.read("liangshenfen-badge/config.php").decode()
    assert client.get("/v/ZZZZ-ZZZZ-ZZZZ/kit/wordpress.zip").status_code == 404
    assert client.get(f"/v/{_pending_badge(app)}/kit/wordpress.zip").status_code == 404
    assert client.get("/v/not-an-id!/kit/wordpress.zip").status_code in (400, 404)


def test_config_php_escapes_the_service_url():
    data = build_wordpress_zip(badge_id="7K3M-9QX2-HT4B", public_url="https://x.example/a'b\\")
    config = zipfile.ZipFile(io.BytesIO(data)).read("liangshenfen-badge/config.php").decode()
    assert r"'service_url' => 'https://x.example/a\'b\\'," in config


def test_status_answer_advertises_the_status_list_ttl(client, issue_badge, app):
    badge_id = issue_badge()
    response = client.get(f"/api/v1/badges/{badge_id}")
    assert response.headers["Liang-Status-List-Ttl"] == str(app.config["STATUS_LIST_TTL"])


def test_kit_offers_the_wordpress_plugin_with_three_steps(client, issue_badge):
    badge_id = issue_badge()
    for lang, words in (("zh-Hans", "下载 WordPress 插件"), ("zh-Hant", "下載 WordPress 外掛"),
                        ("en", "Download the WordPress plugin")):
        html = client.get(f"/v/{badge_id}/kit?lang={lang}").get_data(as_text=True)
        assert words in html, lang
        assert f"/v/{badge_id}/kit/wordpress.zip" in html
        section = html.split('id="kit-wordpress"', 1)[1].split("</section>", 1)[0]
        assert len(re.findall(r"<li>", section)) == 3


def test_every_plugin_file_ships_in_the_python_package():
    """pip install . must carry widget/wordpress/: every suffix there is in the package data."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    for path in SOURCE.rglob("*"):
        if path.is_file():
            assert any(path.match(p) for p in patterns), f"{path.relative_to(ROOT)} is not package data"


def test_revoked_badge_zip_still_downloads(client, issue_badge, act):
    badge_id = issue_badge()
    act("revoke", badge_id, reason="shop_closed")
    assert client.get(f"/v/{badge_id}/kit/wordpress.zip").status_code == 200
