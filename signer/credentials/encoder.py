"""Fast serialisation of badge credentials for bulk issuance, byte for byte as ``build_credential``."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from signer.clock import ensure_utc, isoformat_z
from signer.credentials.build import build_credential
from signer.credentials.issuer import BadgeClaims, Issuer, StatusEntry

_logger = logging.getLogger(__name__)

# A credential is a fixed skeleton around a dozen values. The encoder below serialises the
# skeleton once, from build_credential itself, with placeholders where the values go, and
# then only escapes each value per credential. Placeholders: "\x00name\x00" stands inside a JSON
# string (the value's escaped text is spliced in); "\x01name\x01" stands for JSON text that
# replaces the whole quoted placeholder (numbers, and the members of a list).
_PLACEHOLDER = re.compile(r'\\u0000([a-z_]+)\\u0000|"\\u0001([a-z_]+)\\u0001"')
_escape = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses for str


def _inner(name: str) -> str:
    return f"\x00{name}\x00"


def _whole(name: str) -> str:
    return f"\x01{name}\x01"


class _Template:
    """JSON text with placeholders, split once into its literal parts and the names between them."""

    def __init__(self, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        self._literals: list[str] = []
        self._names: list[str] = []
        last = 0
        for match in _PLACEHOLDER.finditer(text):
            self._literals.append(text[last:match.start()])
            self._names.append(match.group(1) or match.group(2))
            last = match.end()
        self._tail = text[last:]

    def fill(self, values: dict[str, str]) -> str:
        """Return the text with each placeholder replaced by its value (text spliced in as it is)."""
        # A join over the parts split once: str.format parsed the whole template again for every credential.
        out: list[str] = []
        append = out.append
        for literal, name in zip(self._literals, self._names, strict=True):
            append(literal)
            append(values[name])
        append(self._tail)
        return "".join(out)


@lru_cache(maxsize=4096)
def _time_parts(moment: datetime) -> tuple[str, str]:
    utc = ensure_utc(moment)
    return isoformat_z(utc), str(int(utc.timestamp()))


def _text(value: str) -> str:
    return _escape(value)[1:-1]


_STATUS_PURPOSES = ("revocation", "suspension")  # the entries every badge carries, in this order


class CredentialEncoder:
    """Serialise badge credentials of one issuer fast, byte for byte as ``build_credential`` + ``sign_jws``."""

    def __init__(self, issuer: Issuer) -> None:
        self._issuer = issuer
        sample = BadgeClaims(
            badge_id=_inner("badge_id"), shop_name=_inner("shop_name"),
            shop_url=_inner("shop_url"), platform=_inner("platform"), hosts=(_whole("hosts"),),
            branch_code=_inner("branch_code"), branch_name=_inner("branch_name"),
            valid_from=datetime(2000, 1, 1, tzinfo=UTC), valid_until=datetime(2000, 1, 2, tzinfo=UTC),
            status_entries=tuple(StatusEntry(purpose, _inner(f"{purpose}_list"), cast(int, _inner(f"{purpose}_index")))
                                 for purpose in _STATUS_PURPOSES),
        )
        payload = build_credential(sample, issuer=issuer, credential_id=_inner("credential_id"))
        payload.update(validFrom=_inner("valid_from"), validUntil=_inner("valid_until"), nbf=_whole("nbf"),
                       exp=_whole("exp"))
        self._credential = _Template(payload).fill
        self._fast = True
        self._fast = self._agrees()

    def _agrees(self) -> bool:
        """Check the templates against the reference serialisation once (they are derived from it)."""
        probe = BadgeClaims(
            badge_id='7K3M-9QX2-HT4B"\\', shop_name="{店}\n\u2028\x1f",
            shop_url="https://x.example/?a=1&b=%7B", platform="taobao", hosts=("x.example", "xn--fsq.example"),
            branch_code="B01", branch_name="第一支部",
            valid_from=datetime(2026, 11, 25, 10, tzinfo=UTC), valid_until=datetime(2027, 11, 25, 10, tzinfo=UTC),
            status_entries=(StatusEntry("revocation", "https://a.example/status/a1", 5),
                            StatusEntry("suspension", "https://a.example/status/b2", 131071)),
        )
        reference = json.dumps(build_credential(probe, issuer=self._issuer, credential_id="urn:uuid:x"),
                               ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if self.encode(probe, credential_id="urn:uuid:x") == reference:
            return True
        _logger.warning("fast credential encoding disagrees with build_credential; using the slow path")
        return False

    def encode(self, claims: BadgeClaims, *, credential_id: str) -> bytes:
        """Return the UTF-8 JSON payload ``sign_jws(build_credential(claims, ...))`` would sign."""
        entries = {e.purpose: e for e in claims.status_entries}
        if not self._fast or tuple(e.purpose for e in claims.status_entries) != _STATUS_PURPOSES:
            payload = build_credential(claims, issuer=self._issuer, credential_id=credential_id)
            return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        valid_from, nbf = _time_parts(claims.valid_from)
        valid_until, exp = _time_parts(claims.valid_until)
        revocation, suspension = entries["revocation"], entries["suspension"]
        return self._credential({
            "badge_id": _text(claims.badge_id),
            "shop_name": _text(claims.shop_name), "shop_url": _text(claims.shop_url), "platform": _text(claims.platform),
            "hosts": ",".join(map(_escape, claims.hosts)), "branch_code": _text(claims.branch_code),
            "branch_name": _text(claims.branch_name), "credential_id": _text(credential_id), "valid_from": valid_from,
            "valid_until": valid_until, "nbf": nbf, "exp": exp,
            "revocation_list": _text(revocation.list_url), "revocation_index": str(int(revocation.index)),
            "suspension_list": _text(suspension.list_url), "suspension_index": str(int(suspension.index)),
        }).encode("utf-8")
