"""One exception root for the badge domain.

Callers catch :class:`BadgeError` (or a subclass) and read its attributes;
third-party exceptions are translated at the edge and never leak out.
"""

from __future__ import annotations


class BadgeError(Exception):
    """Root of every error raised by the badge domain."""

    #: Stable machine-readable code, used as the JSON ``error.code``.
    code = "badge_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedId(BadgeError):
    """A badge id that cannot be parsed."""

    code = "malformed_id"

    def __init__(self, message: str, *, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


class BadgeNotFound(BadgeError):
    """No public badge with this id."""

    code = "not_found"

    def __init__(self, message: str, *, badge_id: str = "") -> None:
        super().__init__(message)
        self.badge_id = badge_id


class IllegalTransition(BadgeError):
    """A lifecycle action not allowed from the badge's current state."""

    code = "illegal_transition"

    def __init__(self, message: str, *, state: str, action: str, subject: str = "badge") -> None:
        super().__init__(message)
        self.state = state
        self.action = action
        #: What refused to move: ``badge`` or ``complaint`` (whose action is the state asked for).
        self.subject = subject


class InvalidCredential(BadgeError):
    """A credential that does not verify (format, signature, key or claims)."""

    code = "invalid_credential"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        #: Short reason word: ``malformed``, ``bad_signature``, ``unknown_key``,
        #: ``key_withdrawn``, ``unsupported_alg``, ``claims``, ``expired`` ...
        self.reason = reason


class KeyUnavailable(BadgeError):
    """No usable private signing key (public-only node, or none created yet)."""

    code = "key_unavailable"


class KeyStoreError(BadgeError):
    """The key store cannot load, decrypt or save a key."""

    code = "key_store_error"


class InvalidImage(BadgeError):
    """An uploaded or baked image that cannot be decoded safely."""

    code = "invalid_image"

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        #: ``not_an_image``, ``truncated``, ``too_large``, ``bomb``, ``unsafe_xml`` ...
        self.reason = reason


class InvalidRenderRequest(BadgeError):
    """An image or QR code asked for with parameters the renderer does not offer."""

    code = "invalid_request"

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        #: ``bad_size``, ``bad_ecc``, ``bad_scale``, ``text_too_long`` ...
        self.reason = reason


class InvalidInput(BadgeError):
    """A request value that fails validation (field names the culprit)."""

    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None, kind: str = "invalid",
                 limit: int | None = None, params: dict[str, str | int] | None = None) -> None:
        super().__init__(message)
        self.field = field
        #: What is wrong, for a message in the user's language: ``required``, ``too_long`` (``limit``
        #: characters, or ``limit`` items for a list), ``foreign_host``, ``choice``, ``unknown``
        #: (no such branch, group, member: ``params["value"]``), ``not_host``, ``not_text`` or ``invalid``.
        self.kind = kind
        self.limit = limit
        #: The values the message names (``value``, ``choices``, ...), never translated.
        self.params: dict[str, str | int] = dict(params or {})


class Conflict(BadgeError):
    """A request that clashes with what is stored (e.g. a shop that already has a badge)."""

    code = "conflict"

    def __init__(self, message: str, *, reason: str = "conflict", params: dict[str, str | int] | None = None) -> None:
        super().__init__(message)
        #: ``shop_has_badge``, ``exists`` (``params["value"]``), ``last_committee`` or ``conflict``.
        self.reason = reason
        self.params: dict[str, str | int] = dict(params or {})
