"""LIANG_PASSWORD_HASH_COST: scrypt's cost for new password hashes, cheap only in tests."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from verifier import context
from verifier.accounts.service import hash_password
from verifier.app import create_app
from verifier.config import ConfigError, load_config

PASSWORD = "correct-horse-battery-9"


def _recompute(password: str, stored: str) -> bool:
    """Check a Werkzeug scrypt hash with hashlib alone (independent of the code under test)."""
    method, salt, digest = stored.split("$")
    name, n, r, p = method.split(":")
    assert name == "scrypt"
    n_, r_, p_ = int(n), int(r), int(p)
    again = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n_, r=r_, p=p_, maxmem=132 * n_ * r_ * p_)
    return hmac.compare_digest(again.hex(), digest)


def test_default_cost_is_scrypt_n_2_15(tmp_path):
    assert load_config({"INSTANCE_DIR": str(tmp_path)}, environ={})["PASSWORD_HASH_COST"] == 15
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt:32768:8:1$")
    assert _recompute(PASSWORD, stored)


def test_hash_uses_the_cost_given():
    stored = hash_password(PASSWORD, cost=9)
    assert stored.startswith("scrypt:512:8:1$")
    assert _recompute(PASSWORD, stored)
    assert not _recompute(PASSWORD + "x", stored)


def test_low_cost_from_the_environment_is_refused_in_production(tmp_path):
    with pytest.raises(ConfigError, match="PASSWORD_HASH_COST must be at least 15 .* for tests only"):
        load_config({"INSTANCE_DIR": str(tmp_path)}, environ={"LIANG_PASSWORD_HASH_COST": "8"})


def test_app_refuses_a_low_cost_at_start_up_unless_testing(tmp_path):
    with pytest.raises(ConfigError, match="for tests only, not 10"):
        create_app({"INSTANCE_DIR": str(tmp_path), "PASSWORD_HASH_COST": 10})


def test_low_cost_is_allowed_when_testing(tmp_path):
    config = load_config({"INSTANCE_DIR": str(tmp_path), "TESTING": True, "PASSWORD_HASH_COST": "8"}, environ={})
    assert config["PASSWORD_HASH_COST"] == 8


@pytest.mark.parametrize("raw,message", [("21", "at most 20"), ("7", "at least 8 even in tests"),
                                         ("fast", "must be a whole number")])
def test_nonsense_costs_are_refused(tmp_path, raw, message):
    with pytest.raises(ConfigError, match=message):
        load_config({"INSTANCE_DIR": str(tmp_path), "TESTING": True}, environ={"LIANG_PASSWORD_HASH_COST": raw})


def test_account_service_hashes_at_the_configured_cost(app):
    with app.app_context():
        context.begin_write()
        user = context.account_service().create("cost-check", PASSWORD, role="committee")
        stored = user.password_hash
        assert context.account_service().check_password("cost-check", PASSWORD) is not None
        context.session().rollback()
    assert stored.startswith(f"scrypt:{2 ** app.config['PASSWORD_HASH_COST']}:8:1$")
    assert app.config["PASSWORD_HASH_COST"] < 15  # the fixtures' cheap cost reached the service
    assert _recompute(PASSWORD, stored)
