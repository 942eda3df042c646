"""Verifications are counted by the public verification package on every node, a public-only one too."""

from __future__ import annotations

from sqlalchemy import func, select

from verifier import context
from verifier.app import create_app
from verifier.storage.models import VerificationCount


def _stored(app) -> int:
    with app.app_context():
        return int(context.session().execute(select(func.sum(VerificationCount.count))).scalar_one() or 0)


def test_a_public_only_node_counts_verifications(app_config, issue_badge, app):
    badge_id = issue_badge()
    public = create_app({**app_config, "PUBLIC_ONLY": True, "KEY_ENCRYPTION_KEY": None})
    try:
        before = _stored(app)
        visitor = public.test_client()
        assert visitor.get(f"/v/{badge_id}").status_code == 200
        assert visitor.get(f"/api/v1/badges/{badge_id}").status_code == 200
        assert visitor.get("/v/0000-0000-0000").status_code == 404  # nothing answered: not counted
        assert public.extensions["liang.verify_counter"].flush(public.extensions["liang.db"].engine) == 2
        assert _stored(app) == before + 2
    finally:
        public.extensions["liang.db"].dispose()


def test_the_console_package_does_not_own_the_counter():
    from verifier.console import views as console_views
    from verifier.verification import views as verification_views

    assert hasattr(verification_views, "install_counter")
    assert "VerificationCounter" not in vars(console_views)
