"""SQLAlchemy 2 models. Times are stored as UTC; the schema is owned by Alembic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from signer.clock import ensure_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back aware UTC, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store aware UTC (naive on SQLite)."""
        if value is None:
            return None
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return aware UTC."""
        return None if value is None else ensure_utc(value)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)
    # Every model here maps one plain table (no joins or selects), so say so to the type checker:
    # ``Model.__table__`` is then a ``Table`` for helpers such as ``db.insert_many``.
    __table__: ClassVar[Table]


member_groups = Table(
    "member_groups",
    Base.metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("party_groups.id", ondelete="CASCADE"), primary_key=True),
)


class Branch(Base):
    """A party branch (支部) under the committee."""

    __tablename__ = "branches"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartyGroup(Base):
    """A virtual party group (党小组), by trade or by area, across branches."""

    __tablename__ = "party_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # trade | area
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    members: Mapped[list[Member]] = relationship(secondary=member_groups, back_populates="groups")


class Member(Base):
    """A party member who runs one or more shops."""

    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The committee's own member number (optional; unique when set).
    member_ref: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    contact: Mapped[str | None] = mapped_column(String(200))  # private: never public
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    branch: Mapped[Branch] = relationship()
    groups: Mapped[list[PartyGroup]] = relationship(secondary=member_groups, back_populates="members")
    shops: Mapped[list[Shop]] = relationship(back_populates="member")


class Shop(Base):
    """An online shop run by a member, bound to host names."""

    __tablename__ = "shops"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    #: The URL as shops compare (verifier.badges.shops.url_key): one badge per shop.
    url_key: Mapped[str] = mapped_column(String(2000), index=True)
    hosts: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    member: Mapped[Member] = relationship(back_populates="shops")


class Badge(Base):
    """A badge for one shop. The id never changes; the credential may be re-signed."""

    __tablename__ = "badges"
    id: Mapped[str] = mapped_column(String(12), primary_key=True)  # canonical, no hyphens
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    credential: Mapped[str | None] = mapped_column(Text)
    credential_id: Mapped[str | None] = mapped_column(String(64))
    kid: Mapped[str | None] = mapped_column(String(64), index=True)
    # The same credential as JSON-LD with a Data Integrity proof (``/v/<id>/credential.json``);
    # NULL until created (bulk import and badges signed before it existed create it on first use).
    credential_ld: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(32))
    revocation_note: Mapped[str | None] = mapped_column(Text)  # private: never public
    state_note: Mapped[str | None] = mapped_column(Text)  # private
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The public JSON document minus what moves with the clock (verifier.storage.publicdoc),
    # rewritten in the same transaction as every change to the badge's public facts.
    public_doc: Mapped[str | None] = mapped_column(Text)
    #: The shop as one badge per shop compares it (verifier.badges.shops.shop_key), copied from
    #: the shop when the badge is written: the partial unique indexes below make a second live
    #: (or a second pending) badge for one shop impossible, whichever path or instance writes it.
    #: NULL only for a badge of an older database that already had a live twin (see migration 0011).
    shop_key: Mapped[str | None] = mapped_column(String(64))
    #: The transparency-log entry of the badge's latest public decision (verifier.transparency), set with it.
    log_index: Mapped[int | None] = mapped_column(BigInteger)
    shop: Mapped[Shop] = relationship()
    branch: Mapped[Branch] = relationship()


class SigningKey(Base):
    """An Ed25519 key; the private part is encrypted under the KEK."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_raw: Mapped[bytes] = mapped_column(LargeBinary(32))
    encrypted_private: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StatusList(Base):
    """A Bitstring Status List and its signed credential."""

    __tablename__ = "status_lists"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), index=True)
    size: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)
    credential: Mapped[str | None] = mapped_column(Text)  # signed JWS, served as is
    # The same list as JSON-LD with an eddsa-rdfc-2022 proof (what credential.json's entries name).
    credential_ld: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatusSlot(Base):
    """A badge's index in a status list."""

    __tablename__ = "status_slots"
    __table_args__ = (UniqueConstraint("badge_id", "purpose"),)
    list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    badge_id: Mapped[str] = mapped_column(ForeignKey("badges.id"))


class AuditEvent(Base):
    """One entry of the hash-chained audit log."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    client: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200), index=True)
    branch_code: Mapped[str | None] = mapped_column(String(32), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row that serialises appends to the audit chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class User(Base):
    """An administrator account."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # committee | branch | auditor
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a TOTP code is accepted once
    session_nonce: Mapped[str] = mapped_column(String(64))  # changes at logout: ends sessions
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    branch: Mapped[Branch | None] = relationship()


class ApiToken(Base):
    """An API token: shown once, stored as a SHA-256 hash."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user: Mapped[User] = relationship()


Index("ix_badges_branch_state", Badge.branch_id, Badge.state)
#: States in which a badge holds its shop: at most one live badge per shop, at most one pending application.
LIVE_STATES = ("active", "suspended")
Index("uq_badges_live_shop", Badge.shop_key, unique=True,
      sqlite_where=Badge.state.in_(LIVE_STATES), postgresql_where=Badge.state.in_(LIVE_STATES))
Index("uq_badges_pending_shop", Badge.shop_key, unique=True,
      sqlite_where=Badge.state == "pending", postgresql_where=Badge.state == "pending")


# --- FEATURE --- shopper complaints (issue 5)
class Complaint(Base):
    """A shopper's complaint about a badge holder's shop, routed to the issuing branch."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(24), unique=True)  # TS-YYYYMMDD-XXXXX, random
    badge_id: Mapped[str] = mapped_column(ForeignKey("badges.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)  # issuing branch at filing
    category: Mapped[str] = mapped_column(String(32))
    order_number: Mapped[str | None] = mapped_column(String(100))  # personal data: purged
    description: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(200))  # personal data: handling branch + committee only
    state: Mapped[str] = mapped_column(String(16), index=True)
    public_reply: Mapped[str | None] = mapped_column(Text)
    private_note: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)  # normalised description, for merging
    client_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash of the client address, never the IP
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # resolved/rejected: retention runs from here
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    badge: Mapped[Badge] = relationship()
    branch: Mapped[Branch] = relationship()
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan")
    evidence: Mapped[list[ComplaintEvidence]] = relationship(
        back_populates="complaint", order_by="ComplaintEvidence.id", cascade="all, delete-orphan")


class ComplaintEvent(Base):
    """One entry of a complaint's timeline (public ones are shown on the tracking page)."""

    __tablename__ = "complaint_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(24))  # filed | state | reply | badge_suspended | purged
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    public_reply: Mapped[str | None] = mapped_column(Text)
    public: Mapped[int] = mapped_column(Integer, default=1)
    actor: Mapped[str | None] = mapped_column(String(200))  # console only
    complaint: Mapped[Complaint] = relationship(back_populates="events")


class ComplaintEvidence(Base):
    """An evidence photo, re-encoded as a metadata-free JPEG (personal data: purged)."""

    __tablename__ = "complaint_evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    complaint: Mapped[Complaint] = relationship(back_populates="evidence")


Index("ix_complaints_branch_state", Complaint.branch_id, Complaint.state)


# --- FEATURE: administration (verification counts for the dashboard) ---
class VerificationCount(Base):
    """How many times badges of a branch were verified on one (local) day."""

    __tablename__ = "verification_counts"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# --- FEATURE: badge images (issue 16: images by composition) ---
class BadgeImageLayer(Base):
    """A badge's static image layer (texts and QR, no state), drawn once and shared by every worker and instance.

    Keyed by a hash of everything it shows and of the credential it goes out with, so a renamed
    shop or a re-signed credential looks up a new key; the older layers of the same badge and
    kind are deleted when a new one is kept.
    """

    __tablename__ = "badge_image_layers"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    badge_id: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # svg | png-s | png-m | png-l
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- FEATURE: console import previews (issue 14, item 16) ---
class ImportPreview(Base):
    """A previewed CSV import waiting for its administrator's commit, on any instance, for a short while."""

    __tablename__ = "import_previews"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, shown in the preview form
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    csv_text: Mapped[str] = mapped_column(Text)

