"""The WordPress plugin's own checks: php -l on every file, PHPUnit for its logic, its translations.

PHP and PHPUnit are Debian packages (php-cli, phpunit) that scripts/test.sh installs; without them
these tests skip and say so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from signer.errors import MalformedId
from signer.ids import ALPHABET, new_badge_id, normalise_badge_id

ROOT = Path(__file__).resolve().parent.parent.parent
PLUGIN = ROOT / "widget" / "wordpress"
PHPUNIT_DIR = Path(__file__).resolve().parent / "phpunit"

PHP = shutil.which("php")
PHPUNIT = shutil.which("phpunit")
needs_php = pytest.mark.skipif(PHP is None, reason="php not installed (Debian php-cli; scripts/test.sh installs it)")
needs_phpunit = pytest.mark.skipif(PHP is None or PHPUNIT is None,
                                   reason="php or phpunit not installed (Debian php-cli, phpunit; scripts/test.sh installs them)")


def _php_files() -> list[Path]:
    return sorted([*PLUGIN.rglob("*.php"), *PHPUNIT_DIR.rglob("*.php"),
                   *(Path(__file__).resolve().parent / "stand-ins").rglob("*.php")])


@needs_php
def test_every_php_file_lints() -> None:
    files = _php_files()
    assert len(files) >= 12
    for path in files:
        result = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"


def _id_vectors() -> list[tuple[str, str | None]]:
    """Return (raw input, the service's grouped answer or None) for many spellings of ids."""
    rng = random.Random(23)
    raws: list[str] = []
    for _ in range(40):
        canonical = new_badge_id()
        raws += [canonical, canonical.lower(), f"{canonical[:4]}-{canonical[4:8]}-{canonical[8:]}",
                 " ".join(canonical), canonical.replace("1", rng.choice("IiLl")).replace("0", rng.choice("Oo")),
                 canonical[:-1], canonical + rng.choice(ALPHABET)]
    raws += ["7K3M-9QX2-HT4U", "7K3M-9QX2-HT4B\u00a0", "\u20287K3M9QX2HT4B", "\x0c7K3M9QX2HT4B\n",
             "\x007K3M9QX2HT4B", "7K3M-9QX2-HT4Ｂ", "7K3M_9QX2_HT4B", "-" * 60 + "7K3M", "-" * 65, "",
             "7K3M--9QX2--HT4B", "\t7K3M\t9QX2\tHT4B\t", "ı" + "K3M9QX2HT4B"]
    vectors: list[tuple[str, str | None]] = []
    for raw in raws:
        try:
            vectors.append((raw, normalise_badge_id(raw)))
        except MalformedId:
            vectors.append((raw, None))
    return vectors


@needs_phpunit
def test_phpunit(tmp_path: Path) -> None:
    vectors = tmp_path / "ids.json"
    vectors.write_text(json.dumps(_id_vectors()), encoding="utf-8")
    env = {**os.environ, "LIANG_ID_VECTORS": str(vectors), "LIANG_PLUGIN_DIR": str(PLUGIN)}
    result = subprocess.run([PHPUNIT, "-c", str(PHPUNIT_DIR / "phpunit.xml"), "--do-not-cache-result"],
                            capture_output=True, text=True, timeout=300, env=env, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Nothing skipped: the comparison with the service's parser ran.
    assert "\nOK (" in output, output


def _wp_i18n():
    spec = importlib.util.spec_from_file_location("wp_i18n", ROOT / "scripts" / "wp_i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_plugin_string_is_translated_and_compiled() -> None:
    wp_i18n = _wp_i18n()
    template = wp_i18n.extract()
    assert len([m for m in template if m.id]) >= 50  # the extraction itself found the plugin's strings
    assert wp_i18n.problems() == []


def test_translation_check_catches_a_new_string(monkeypatch: pytest.MonkeyPatch) -> None:
    wp_i18n = _wp_i18n()
    extract = wp_i18n.extract

    def with_new() -> object:
        template = extract()
        template.add("A string nobody translated")
        return template

    monkeypatch.setattr(wp_i18n, "extract", with_new)
    found = wp_i18n.problems()
    assert any("zh_CN: not translated: 'A string nobody translated'" in line for line in found)
    assert any("zh_TW: not translated" in line for line in found)


@needs_php
@pytest.mark.skipif(not Path("/usr/share/wordpress/wp-includes/pomo/mo.php").exists(),
                    reason="Debian wordpress not installed (scripts/test.sh installs it)")
@pytest.mark.parametrize(("locale", "word"), [("zh_CN", "已撤销"), ("zh_TW", "已撤銷")])
def test_wordpress_own_reader_loads_the_mo_files(locale: str, word: str) -> None:
    """WordPress reads .mo files with its own reader (wp-includes/pomo), stricter than gettext's."""
    mo = PLUGIN / "languages" / f"liangshenfen-badge-{locale}.mo"
    script = ("define('ABSPATH', '/usr/share/wordpress/'); require ABSPATH . 'wp-includes/pomo/mo.php';"
              f"$mo = new MO(); if (!$mo->import_from_file({json.dumps(str(mo))})) {{ exit(3); }}"
              "echo count($mo->entries), ' ', $mo->translate('Revoked');")
    result = subprocess.run([PHP, "-r", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    count, translated = result.stdout.split(" ", 1)
    assert int(count) >= 50 and translated == word
