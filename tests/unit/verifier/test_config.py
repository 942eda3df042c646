"""Configuration: LIANG_IMPORT_SIGN_WORKERS (how many processes `liang badge import` signs in)."""

from __future__ import annotations

import pytest

from verifier.config import ConfigError, load_config


def test_import_sign_workers_default_to_automatic(tmp_path):
    assert load_config({"INSTANCE_DIR": str(tmp_path)}, environ={})["IMPORT_SIGN_WORKERS"] is None


@pytest.mark.parametrize("raw,workers", [("0", 0), ("3", 3)])
def test_import_sign_workers_from_the_environment(tmp_path, raw, workers):
    config = load_config({"INSTANCE_DIR": str(tmp_path)}, environ={"LIANG_IMPORT_SIGN_WORKERS": raw})
    assert config["IMPORT_SIGN_WORKERS"] == workers


@pytest.mark.parametrize("raw,message", [("-1", "must not be negative"), ("two", "must be a whole number")])
def test_import_sign_workers_refuse_nonsense(tmp_path, raw, message):
    with pytest.raises(ConfigError, match=message):
        load_config({"INSTANCE_DIR": str(tmp_path)}, environ={"LIANG_IMPORT_SIGN_WORKERS": raw})
