"""Per-request access to the database, keys and services (the one place views get them)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.credentials import Issuer
from signer.keys import KeyEncryptor, Keyring
from verifier.accounts.service import AccountService
from verifier.audit.service import Actor, AuditLog
from verifier.badges.operations import BadgeOperations
from verifier.badges.service import BadgeService
from verifier.keys.service import KeyService
from verifier.organisation.service import OrgService
from verifier.storage.db import Database
from verifier.storage.publicread import PublicBadge, PublicReader
from verifier.storage.unit import UnitOfWork


def database() -> Database:
    """Return the app's database."""
    return current_app.extensions["liang.db"]  # type: ignore[no-any-return]


def reader() -> PublicReader:
    """Return the public read path (one indexed query per look-up, no ORM session)."""
    return database().reader


def public_badge(raw_id: str) -> PublicBadge:
    """Return the live public view of a badge or raise MalformedId / BadgeNotFound."""
    return database().reader.badge(raw_id)


def clock() -> Clock:
    """Return the injected clock."""
    return current_app.config["CLOCK"]  # type: ignore[no-any-return]


def issuer() -> Issuer:
    """Return the issuer profile for this deployment."""
    return current_app.extensions["liang.issuer"]  # type: ignore[no-any-return]


def encryptor() -> KeyEncryptor | None:
    """Return the key encryptor, or None on a public-only node."""
    return current_app.extensions.get("liang.encryptor")


def session() -> Session:
    """Return this request's session (closed at teardown)."""
    if "liang_session" not in g:
        g.liang_session = database().session()
    return g.liang_session  # type: ignore[no-any-return]


def begin_write() -> Session:
    """Return this request's session, started as a writer."""
    sess = session()
    database().begin_write(sess)
    return sess


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session, rolling back anything uncommitted."""
    sess = g.pop("liang_session", None)
    if sess is not None:
        sess.close()


def keyring() -> Keyring:
    """Return the keyring as stored now."""
    return key_service().keyring()


class _LazyKeyring:
    """Stands in for the keyring and loads it on first use: reading a badge's status needs no keys."""

    def __init__(self) -> None:
        self._ring: Keyring | None = None

    def __getattr__(self, name: str) -> Any:
        if self._ring is None:
            self._ring = keyring()
        return getattr(self._ring, name)


def key_service() -> KeyService:
    """Return a key service on this request's session."""
    return KeyService(session(), encryptor=encryptor(), clock=clock())


def badge_service() -> BadgeService:
    """Return a badge service on this request's session."""
    sess = session()
    return BadgeService(sess, issuer=issuer(), keyring=_LazyKeyring(), clock=clock(),  # type: ignore[arg-type]
                        audit=AuditLog(sess, clock=clock()),
                        status_ttl=int(current_app.config["STATUS_LIST_TTL"]),
                        default_days=int(current_app.config["DEFAULT_VALID_DAYS"]))


def unit_of_work() -> UnitOfWork:
    """Return the unit of work on this request's session: how services open and commit writes."""
    return UnitOfWork(database(), session())


def badge_operations() -> BadgeOperations:
    """Return the console's badge operations (one transaction each) on this request's session."""
    from verifier.badges.bulk import BulkImporter

    sess, service = session(), badge_service()

    def importer() -> BulkImporter:
        return BulkImporter(sess, issuer=issuer(), keyring=keyring(), clock=clock(),
                            audit=AuditLog(sess, clock=clock()),
                            status_ttl=int(current_app.config["STATUS_LIST_TTL"]),
                            default_days=int(current_app.config["DEFAULT_VALID_DAYS"]))

    return BadgeOperations(unit_of_work(), service=service, clock=clock(), importer=importer)


def org_service() -> OrgService:
    """Return the organisation service on this request's session; each change is its own transaction."""
    sess = session()
    return OrgService(sess, clock=clock(), audit=AuditLog(sess, clock=clock()), uow=unit_of_work())


def account_service() -> AccountService:
    """Return an account service on this request's session, hashing at the configured cost."""
    return AccountService(session(), clock=clock(), password_cost=password_cost(),
                          token_days=int(current_app.config["API_TOKEN_DAYS"]))


def password_cost() -> int:
    """Return scrypt's cost exponent for new password hashes (``LIANG_PASSWORD_HASH_COST``)."""
    return int(current_app.config["PASSWORD_HASH_COST"])


def client_address() -> str | None:
    """Return the client's address (after trusted-proxy handling)."""
    return request.remote_addr if has_request_context() else None


def public_actor() -> Actor:
    """Return the actor for an anonymous public request."""
    return Actor(name="public", role="public", client=client_address())


def config(key: str) -> Any:
    """Return a configuration value."""
    return current_app.config[key]
