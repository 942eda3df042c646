"""PublicReader: the public columns in one query, always the latest commit, 503 when the database is gone."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from signer.errors import BadgeNotFound, MalformedId
from signer.ids import parse_badge_id
from verifier import context
from verifier.storage.models import Badge
from verifier.storage.publicread import PublicBadge, PublicReader
from verifier.verification.record import status_json


def _orm_view(app, badge_id):
    with app.app_context():
        return PublicBadge.from_badge(context.badge_service().get(badge_id))


def test_reader_view_equals_the_orm_view(app, issue_badge, act):
    badge_id = issue_badge(shop_name="义乌 <小商品> & 店")
    act("revoke", badge_id, reason="misconduct")
    with app.app_context():
        read = context.public_badge(badge_id.lower().replace("-", ""))
    assert read == _orm_view(app, badge_id)
    assert read.state == "revoked" and read.revoked_at is not None and read.revoked_at.tzinfo is not None


def test_status_json_is_the_same_from_either_view(app, issue_badge, clock):
    badge_id = issue_badge()
    with app.app_context():
        from_reader = status_json(context.public_badge(badge_id), issuer=context.issuer(), now=clock())
        from_orm = status_json(context.badge_service().get(badge_id), issuer=context.issuer(), now=clock())
    assert from_reader == from_orm
    assert from_reader["status"] == "valid"


def test_a_commit_through_another_connection_shows_on_the_next_read(app, issue_badge):
    badge_id = issue_badge()
    with app.app_context():
        reader = context.reader()
        assert reader.badge(badge_id).state == "active"  # this thread's connection is now open
        with context.database().transaction() as session:  # a different connection, as another instance
            session.execute(update(Badge).where(Badge.id == parse_badge_id(badge_id)).values(state="revoked"))
        assert reader.badge(badge_id).state == "revoked"


@pytest.mark.parametrize("state", ["pending", "rejected"])
def test_unpublished_states_are_not_found(app, issue_badge, state):
    badge_id = issue_badge()
    with app.app_context():
        with context.database().transaction() as session:
            session.execute(update(Badge).where(Badge.id == parse_badge_id(badge_id)).values(state=state))
        with pytest.raises(BadgeNotFound, match="no badge"):
            context.public_badge(badge_id)


def test_unknown_and_malformed_ids(app):
    with app.app_context():
        with pytest.raises(BadgeNotFound, match="no badge 7K3M-9QX2-HT4B"):
            context.public_badge("7K3M-9QX2-HT4B")
        with pytest.raises(MalformedId, match="12 symbols"):
            context.public_badge("7K3M")


def test_status_list_version_and_missing_list(app, issue_badge):
    issue_badge()
    with app.app_context():
        assert context.reader().status_list_version("nosuchlist") is None
        from sqlalchemy import select

        from verifier.storage.models import StatusList
        list_id, version = context.session().execute(select(StatusList.id, StatusList.version)).first()
        assert context.reader().status_list_version(list_id) == version


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_is_an_operational_error():
    reader = PublicReader(f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none?connect_timeout=2")
    with pytest.raises(OperationalError, match="Connection refused|connection failed"):
        reader.badge("7K3M-9QX2-HT4B")
    with pytest.raises(OperationalError):
        reader.ping()


def test_ping_fails_without_our_schema(tmp_path):
    reader = PublicReader(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with pytest.raises(OperationalError, match="alembic_version"):
        reader.ping()


def test_a_broken_connection_is_replaced(app, issue_badge):
    badge_id = issue_badge()
    with app.app_context():
        reader = context.reader()
        reader.badge(badge_id)
        reader._local.conn.dbapi_connection.close()  # the server dropped us  # noqa: SLF001
        assert reader.badge(badge_id).id == parse_badge_id(badge_id)

