"""C2SP signed-note: Ed25519 note keys, signing, and strict opening of signed notes.

A note is UTF-8 text (no control characters but newline) ending in a newline, a blank line, and
signature lines ``— <key name> base64(key id || signature)``. A verifier key is
``<name>+<hex key id>+base64(type || public key)``; the key id is
``SHA-256(name || "\\n" || type || public key)[:4]``. Type ``0x01`` is a plain Ed25519 note
signature (the log's checkpoint signature); type ``0x04`` is a timestamped Ed25519 cosignature
(:mod:`signer.tlog.cosignature`).

Opening follows golang.org/x/mod/sumdb/note: signatures from unknown keys are kept aside,
repeated identical signatures are dropped, a known key whose signature fails refuses the whole
note, and a note with no verified signature is refused (:class:`UnverifiedNote`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signer.tlog.errors import (
    AmbiguousKey,
    InvalidNoteSignature,
    KeyFormatError,
    LogError,
    MalformedNote,
    UnknownKey,
    UnverifiedNote,
)

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIG_PREFIX = "\u2014 "  # em dash, space
#: Refuse notes with more signature lines than this (Go's limit; C2SP asks for at least 16).
MAX_SIGNATURES = 100
#: Refuse notes larger than this before parsing (a checkpoint with 100 cosignatures is ~12 kB).
MAX_NOTE_SIZE = 1 << 20



def b64decode(text: str) -> bytes:
    """Decode standard, padded base64 strictly (RFC 4648 §4); raise :class:`MalformedNote`."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) or len(text) % 4:
        raise MalformedNote("malformed base64")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedNote("malformed base64") from exc
    if base64.b64encode(data).decode() != text:  # one spelling per value (no stray low bits)
        raise MalformedNote("non-canonical base64")
    return data


def b64encode(data: bytes) -> str:
    """Encode bytes as standard, padded base64."""
    return base64.b64encode(data).decode("ascii")


def is_valid_name(name: str) -> bool:
    """Tell whether ``name`` may be a key name: non-empty, no Unicode space, no ``+``."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name) and _valid_text(name, newline=False)


def _valid_text(text: str, *, newline: bool = True) -> bool:
    for ch in text:
        if ch < " " and not (newline and ch == "\n"):
            return False
        if "\ud800" <= ch <= "\udfff":
            return False
    return True


def key_id(name: str, key: bytes) -> int:
    """Return the note key id: ``SHA-256(name || 0x0A || type || public key)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()
    return int(struct.unpack(">I", digest[:4])[0])


class NoteVerifier(Protocol):
    """A public key that checks note signatures of one name and key id."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Tell whether ``sig`` (without the 4-byte key id) signs ``msg`` (the note text)."""
        ...


class NoteSigner(Protocol):
    """A private key that signs note texts under one name and key id."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, msg: bytes) -> bytes:
        """Return the signature bytes (without the key id) over ``msg``."""
        ...


@dataclass(frozen=True)
class Ed25519Verifier:
    """Verifies plain Ed25519 note signatures (type 0x01): a log's checkpoint key."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)
    alg: ClassVar[int] = ALG_ED25519

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        if len(self.public_key) != 32:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "key_id", key_id(self.name, bytes([self.alg]) + self.public_key))

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Tell whether ``sig`` is an Ed25519 signature of ``msg``."""
        if len(sig) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(sig, msg)
        except (InvalidSignature, ValueError):
            return False
        return True

    def vkey(self) -> str:
        """Return the verifier key string ``<name>+<key id>+<base64(type || public key)>``."""
        return f"{self.name}+{self.key_id:08x}+{b64encode(bytes([self.alg]) + self.public_key)}"


class Ed25519Signer:
    """Signs note texts with an Ed25519 key (type 0x01)."""

    alg = ALG_ED25519

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        public = private_key.public_key().public_bytes_raw()
        self.verifier = self._verifier(name, public)
        self.name = name
        self.key_id: int = self.verifier.key_id
        self._key = private_key

    @staticmethod
    def _verifier(name: str, public: bytes) -> Ed25519Verifier:
        return Ed25519Verifier(name, public)

    @property
    def public_key(self) -> bytes:
        """Return the raw 32-byte public key."""
        return self._key.public_key().public_bytes_raw()

    def sign(self, msg: bytes) -> bytes:
        """Return the Ed25519 signature of ``msg``."""
        return self._key.sign(msg)

    def skey(self) -> str:
        """Return the private key string ``PRIVATE+KEY+<name>+<key id>+<base64(type || seed)>`` (keep secret)."""
        seed = self._key.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{b64encode(bytes([self.alg]) + seed)}"


@dataclass(frozen=True)
class Signature:
    """One signature line: the key name, the key id and the base64 of ``key id || signature``."""

    name: str
    key_id: int
    base64: str

    def line(self) -> str:
        """Return the signature line, with its newline."""
        return f"{SIG_PREFIX}{self.name} {self.base64}\n"

    def raw(self) -> bytes:
        """Return the signature bytes after the 4-byte key id."""
        return b64decode(self.base64)[4:]


@dataclass(frozen=True)
class Note:
    """An opened note: its text (with the final newline), verified and unverified signatures."""

    text: str
    sigs: tuple[Signature, ...] = ()
    unverified_sigs: tuple[Signature, ...] = ()


class Verifiers:
    """A set of trusted note keys, looked up by (name, key id)."""

    def __init__(self, verifiers: Iterable[NoteVerifier] = ()) -> None:
        self._by_key: dict[tuple[str, int], list[NoteVerifier]] = {}
        for v in verifiers:
            self._by_key.setdefault((v.name, v.key_id), []).append(v)

    def lookup(self, name: str, key_id: int) -> NoteVerifier:
        """Return the one verifier for ``(name, key_id)``; raise :class:`UnknownKey` or :class:`AmbiguousKey`."""
        found = self._by_key.get((name, key_id), [])
        if not found:
            raise UnknownKey(f"unknown key {name}+{key_id:08x}", name=name, key_id=key_id)
        if len(found) > 1:  # the same key configured twice is ambiguous too (Go's VerifierList)
            raise AmbiguousKey(f"ambiguous key {name}+{key_id:08x}", name=name, key_id=key_id)
        return found[0]


def _parse_sig_line(line: str) -> Signature:
    if not line.startswith(SIG_PREFIX):
        raise MalformedNote("malformed note")
    name, sep, b64 = line[len(SIG_PREFIX):].partition(" ")
    if not sep or not is_valid_name(name) or not b64:
        raise MalformedNote("malformed note")
    sig = b64decode(b64)
    if len(sig) < 5:
        raise MalformedNote("malformed note")
    return Signature(name, int(struct.unpack(">I", sig[:4])[0]), b64)


def _split_note(msg: bytes) -> tuple[str, list[str]]:
    if not isinstance(msg, bytes | bytearray) or len(msg) > MAX_NOTE_SIZE:
        raise MalformedNote("malformed note")
    try:
        text_all = bytes(msg).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNote("malformed note") from exc
    if not _valid_text(text_all):
        raise MalformedNote("malformed note")
    split = text_all.rfind("\n\n")
    if split < 0:
        raise MalformedNote("malformed note")
    text, sigs = text_all[:split + 1], text_all[split + 2:]
    if not sigs or not sigs.endswith("\n"):
        raise MalformedNote("malformed note")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote("malformed note")
    return text, lines


def parse_note(msg: bytes) -> Note:
    """Split a signed note into text and signatures without verifying any (all in ``unverified_sigs``)."""
    text, lines = _split_note(msg)
    seen: list[Signature] = []
    for line in lines:
        sig = _parse_sig_line(line)
        if sig not in seen:
            seen.append(sig)
    return Note(text, (), tuple(seen))


def open_note(msg: bytes, verifiers: Verifiers | Iterable[NoteVerifier]) -> Note:
    """Parse a signed note and verify its signatures from known keys (Go's ``note.Open``).

    Raises :class:`MalformedNote` (syntax, more than 100 signatures), :class:`InvalidNoteSignature`
    (a known key's signature fails), :class:`AmbiguousKey`, or :class:`UnverifiedNote` (no signature
    from a known key). Signatures from unknown keys are returned in ``unverified_sigs``.
    """
    known = verifiers if isinstance(verifiers, Verifiers) else Verifiers(verifiers)
    text, lines = _split_note(msg)
    text_bytes = text.encode("utf-8")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    for line in lines:
        sig = _parse_sig_line(line)
        try:
            verifier = known.lookup(sig.name, sig.key_id)
        except UnknownKey:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if verifier.name != sig.name or verifier.key_id != sig.key_id:
            raise LogError("verifier returned for the wrong key", reason="mismatched_verifier")
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if not verifier.verify(text_bytes, sig.raw()):
            raise InvalidNoteSignature(f"invalid signature for key {sig.name}+{sig.key_id:08x}",
                                       name=sig.name, key_id=sig.key_id)
        verified.append(sig)
    note = Note(text, tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNote("note has no verifiable signatures", note=note)
    return note


def sign_note(text: str, signers: Sequence[NoteSigner], *, keep: Sequence[Signature] = ()) -> bytes:
    """Return ``text`` signed by each signer, followed by the ``keep`` signatures of other keys.

    ``text`` must end in a newline and be valid note text; a kept signature of one of the signers
    is replaced by the new one.
    """
    if not isinstance(text, str) or not text.endswith("\n") or not _valid_text(text):
        raise MalformedNote("malformed note")
    lines = []
    mine = set()
    for signer in signers:
        if not is_valid_name(signer.name):
            raise MalformedNote("invalid signer")
        raw_sig = signer.sign(text.encode("utf-8"))
        lines.append(Signature(signer.name, signer.key_id, b64encode(struct.pack(">I", signer.key_id) + raw_sig)).line())
        mine.add((signer.name, signer.key_id))
    for kept in keep:
        if (kept.name, kept.key_id) in mine:
            continue  # replaced by the new signature, whatever it held
        if not is_valid_name(kept.name):
            raise MalformedNote("malformed note")
        raw = b64decode(kept.base64)
        if len(raw) < 5 or int(struct.unpack(">I", raw[:4])[0]) != kept.key_id:
            raise MalformedNote("malformed note")
        lines.append(kept.line())
    if not lines:
        raise MalformedNote("a note needs at least one signature")
    return (text + "\n" + "".join(lines)).encode("utf-8")
