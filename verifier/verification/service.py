"""Verify a presented credential, baked image or QR picture against the live record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from signer import dataintegrity
from signer.credentials import Issuer, VerifiedCredential, verify_credential
from signer.errors import BadgeNotFound, InvalidCredential, MalformedId
from signer.keys import Keyring
from verifier.storage.publicread import PublicBadge
from verifier.verification.record import status_json

_logger = logging.getLogger(__name__)

# Outcome words for the ``reason`` field (stable, machine-readable).
MESSAGES = {
    "malformed": "这不是有效的徽章凭证。",
    "unsupported_alg": "凭证使用了不被接受的签名算法。",
    "unknown_key": "凭证不是用本平台公布的密钥签发的。",
    "key_withdrawn": "签发凭证的密钥已被撤回，凭证不再可信。",
    "bad_signature": "凭证签名无效：内容被篡改或伪造。",
    "claims": "凭证内容不完整或前后矛盾。",
    "not_found": "凭证所指的徽章不存在。",
    "not_official": "这不是官方核验链接：二维码指向其他网站，请勿信任。",
    "no_credential": "图片中没有找到徽章凭证或核验二维码。",
    "mismatch": "图片中的二维码与嵌入的凭证不属于同一枚徽章：图片可能被拼接伪造，请勿信任。",
}


def _refusal(reason: str, message: str | None = None) -> dict[str, Any]:
    return {"verified": False, "status": None, "reason": reason,
            "message": message or MESSAGES.get(reason, reason), "badge": None}


class VerificationService:
    """Check presented evidence; the live record decides, a signature only qualifies."""

    def __init__(self, lookup: Callable[[str], PublicBadge], *, issuer: Issuer, keyring: Keyring, now: datetime) -> None:
        self._lookup = lookup
        self._issuer = issuer
        self._keyring = keyring
        self._now = now

    def verify_token(self, token: str) -> dict[str, Any]:
        """Verify a compact JWS and report the badge's live status."""
        try:
            verified = verify_credential(token, issuer=self._issuer, resolve_key=self._keyring.public_key)
        except InvalidCredential as exc:
            return _refusal(exc.reason)
        return self._report(verified)

    def verify_document(self, document: Any) -> dict[str, Any]:
        """Verify a JSON-LD credential with an embedded Data Integrity proof and report the live status."""
        try:
            verified = dataintegrity.verify(document, issuer=self._issuer, resolve_key=self._keyring.public_key)
        except InvalidCredential as exc:
            return _refusal(exc.reason)
        return self._report(verified)

    def _report(self, verified: VerifiedCredential) -> dict[str, Any]:
        try:
            badge = self._lookup(verified.badge_id)
        except (BadgeNotFound, MalformedId):
            return _refusal("not_found")
        body = status_json(badge, issuer=self._issuer, now=self._now)
        status = body["status"]
        current = badge.credential_id == verified.credential_id
        return {
            "verified": status == "valid",
            "status": status,
            "reason": None if status == "valid" else status,
            "message": None,
            "current_credential": current,
            "badge": body,
        }

    def verify_badge_id(self, raw_id: str) -> dict[str, Any]:
        """Report the live status of a badge named by id (from a QR code)."""
        try:
            badge = self._lookup(raw_id)
        except (BadgeNotFound, MalformedId):
            return _refusal("not_found")
        body = status_json(badge, issuer=self._issuer, now=self._now)
        return {"verified": body["status"] == "valid", "status": body["status"],
                "reason": None if body["status"] == "valid" else body["status"], "message": None,
                "badge": body}
