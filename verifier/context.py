"""Per-request access to the database, keys and services (the one place views get them)."""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from typing import Any

from flask import current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.credentials import Issuer
from signer.keys import KeyEncryptor, Keyring
from verifier.accounts.actions import AccountActions
from verifier.accounts.logins import LoginService
from verifier.accounts.service import AccountService
from verifier.audit.consistency import check_consistency
from verifier.audit.service import Actor, AuditLog
from verifier.badges.actions import BadgeActions
from verifier.badges.bulk import BulkImporter
from verifier.badges.linkeddata import LinkedDataService
from verifier.badges.service import BadgeService
from verifier.badges.statuslists import signed_list
from verifier.complaints.actions import ComplaintActions
from verifier.complaints.service import ComplaintService
from verifier.console.dashboard import DashboardService
from verifier.keys.actions import KeyActions
from verifier.keys.service import KeyService
from verifier.organisation.actions import OrgActions
from verifier.organisation.demo import DemoLoader
from verifier.organisation.service import OrgService
from verifier.storage.db import Database
from verifier.storage.publicdoc import PublicDocument
from verifier.storage.publicread import PublicBadge, PublicReader
from verifier.storage.unit import UnitOfWork
from verifier.transparency.reads import LogReads
from verifier.verification.record import Splicer
from verifier.verification.service import VerificationService


def database() -> Database:
    """Return the app's database."""
    return current_app.extensions["liang.db"]  # type: ignore[no-any-return]


def status_list(list_id: str, *, linked_data: bool = False) -> tuple[int, str] | None:
    """Return a status list's version and signed credential (JWS or JSON-LD) as stored (no keys needed), or None."""
    return signed_list(session(), list_id, linked_data=linked_data)


def log_reads() -> LogReads:
    """Return the transparency log's public reads (checkpoint, key, tiles, a badge's proofs) on this request's session."""
    return LogReads(session())


def verification_service() -> VerificationService:
    """Return the service that verifies presented credentials, images and QR pictures for this request."""
    return VerificationService(public_badge, issuer=issuer(), keyring=keyring(), now=clock()())


def dashboard_service() -> DashboardService:
    """Return the console dashboard's service on this request's session, with the counts not yet written."""
    counter = current_app.extensions.get("liang.verify_counter")
    return DashboardService(session(), now=clock()(), timezone=current_app.config["TIMEZONE"],
                            pending=counter.pending() if counter is not None else None)


def reader() -> PublicReader:
    """Return the public read path (one indexed query per look-up, no ORM session)."""
    return database().reader


def public_badge(raw_id: str) -> PublicBadge:
    """Return the live public view of a badge or raise MalformedId / BadgeNotFound."""
    return database().reader.badge(raw_id)


def public_document(raw_id: str) -> PublicDocument:
    """Return a badge's deciding columns and precomputed public document (one row), or raise as ``public_badge``."""
    return database().reader.document(raw_id)


def splicer() -> Splicer:
    """Return the app's splicer: stored documents into JSON status bodies for this deployment's public URL."""
    found = current_app.extensions.get("liang.splicer")
    if found is None:
        found = current_app.extensions["liang.splicer"] = Splicer(issuer())
    return found  # type: ignore[no-any-return]


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
    """Return this request's session, started as a writer (for tests and maintenance; services use unit_of_work)."""
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


def transaction() -> AbstractContextManager[Session]:
    """Run a block as one write transaction on this request's session: commit, or roll back on any error.

    The unit of work's write, for services that take a ``transaction`` callable.
    """
    return unit_of_work().write()


def record_disagreements() -> list[str]:
    """Return where rows, status bits, signed lists and public documents disagree (``liang audit verify``)."""
    return check_consistency(session())


def audit_log() -> AuditLog:
    """Return the audit log on this request's session."""
    return AuditLog(session(), clock=clock())


def org_service() -> OrgService:
    """Return the organisation service on this request's session (the caller owns the transaction)."""
    return OrgService(session(), clock=clock(), audit=audit_log())


def complaint_service() -> ComplaintService:
    """Return a complaint service on this request's session."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return ComplaintService(session(), clock=clock(), audit=audit_log(),
                            client_key=hashlib.sha256(b"liang.complaint-client\n" + secret).digest(),
                            timezone=current_app.config["TIMEZONE"],
                            burst_threshold=int(current_app.config.get("COMPLAINT_BURST_THRESHOLD", 20)))


# -- the transactional entry points of views and commands (each method one unit of work) --------
def account_actions() -> AccountActions:
    """Return what the console and CLI do to accounts."""
    return AccountActions(unit_of_work(), accounts=account_service(), audit=audit_log(), clock=clock(),
                          logins=LoginService(session(), clock=clock(), audit=audit_log(),
                                              password_cost=password_cost()))


def badge_actions() -> BadgeActions:
    """Return what the console, admin API, applicants and CLI do to badges."""
    linked = LinkedDataService(session(), issuer=issuer(), keyring=_LazyKeyring(), clock=clock())  # type: ignore[arg-type]
    return BadgeActions(unit_of_work(), badges=badge_service(), issuer=issuer(), clock=clock(),
                        importer=bulk_importer, linked=linked)


def bulk_importer(*, sign_workers: int = 0) -> BulkImporter:
    """Return a bulk importer on this request's session (``sign_workers``: processes that sign; 0 in process)."""
    return BulkImporter(session(), issuer=issuer(), keyring=keyring(), clock=clock(), audit=audit_log(),
                        status_ttl=int(current_app.config["STATUS_LIST_TTL"]),
                        default_days=int(current_app.config["DEFAULT_VALID_DAYS"]), sign_workers=sign_workers)


def complaint_actions() -> ComplaintActions:
    """Return what shoppers, administrators and the CLI do to complaints."""
    return ComplaintActions(unit_of_work(), complaints=complaint_service(), badges=badge_service())


def org_actions() -> OrgActions:
    """Return the one door to the organisation: what the console, admin API, documents and CLI read and do."""
    return OrgActions(unit_of_work(), org=org_service())


def demo_loader() -> DemoLoader:
    """Return the loader of the demo organisation (``liang demo``)."""
    return DemoLoader(unit_of_work(), org=org_service(), badges=badge_service(), accounts=account_service(),
                      issuer=issuer(), clock=clock())


def key_actions() -> KeyActions:
    """Return what the CLI and the linked-data documents do with signing keys."""
    return KeyActions(unit_of_work(), keys=key_service(), badges=badge_service(), audit=audit_log(), clock=clock())


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
