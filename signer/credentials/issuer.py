"""The issuer, the URLs it publishes, and the plain values a badge credential states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWKS_PATH = "/.well-known/jwks.json"
KEYS_PATH = "/keys/"
#: Path of the JSON-LD context that defines the product's own credential terms.
NS_PATH = "/ns/v1"


@dataclass(frozen=True)
class StatusEntry:
    """Where a badge's bit lives in a status list."""

    purpose: str  # revocation | suspension
    list_url: str
    index: int

    def as_json(self) -> dict[str, str]:
        """Return the ``BitstringStatusListEntry`` object (W3C Bitstring Status List v1.0)."""
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


@dataclass(frozen=True)
class BadgeClaims:
    """Everything a badge credential states, as plain values."""

    badge_id: str  # grouped display form
    shop_name: str
    shop_url: str
    platform: str
    hosts: tuple[str, ...]
    branch_code: str
    branch_name: str
    valid_from: datetime
    valid_until: datetime
    status_entries: tuple[StatusEntry, ...]


@dataclass(frozen=True)
class Issuer:
    """The committee that issues every badge."""

    public_url: str
    name: str = "网商党委"

    @property
    def id(self) -> str:
        """Return the issuer's id (a URL on the public origin)."""
        return f"{self.public_url}/issuer"

    @property
    def jwks_url(self) -> str:
        """Return the URL of the published keys."""
        return f"{self.public_url}{JWKS_PATH}"

    @property
    def context_url(self) -> str:
        """Return the URL of the JSON-LD context for the product's own terms."""
        return f"{self.public_url}{NS_PATH}"

    def kid_url(self, kid: str) -> str:
        """Return the JWS ``kid`` header for key ``kid``: a URL that dereferences to that one JWK."""
        return f"{self.public_url}{KEYS_PATH}{kid}"

    def key_id_from_kid(self, kid_url: Any) -> str | None:
        """Return the key id a ``kid`` header names, in the current or the earlier ``jwks.json#`` form."""
        if not isinstance(kid_url, str):
            return None
        for prefix in (f"{self.public_url}{KEYS_PATH}", f"{self.jwks_url}#"):
            if kid_url.startswith(prefix):
                key_id = kid_url[len(prefix):]
                if key_id and "/" not in key_id and "#" not in key_id:
                    return key_id
        return None

    def verification_method(self, kid: str) -> str:
        """Return the Data Integrity ``verificationMethod`` for key ``kid`` (a Multikey document)."""
        return f"{self.public_url}{KEYS_PATH}{kid}/multikey"

    @property
    def achievement_id(self) -> str:
        """Return the id of the one Achievement every badge attests."""
        return f"{self.public_url}/achievements/party-member-merchant"

    def branch_id(self, code: str) -> str:
        """Return the id of a branch's Profile."""
        return f"{self.public_url}/branches/{code}"

    def verify_url(self, badge_id: str) -> str:
        """Return the verification URL for a (grouped) badge id."""
        return f"{self.public_url}/v/{badge_id}"

    def profile(self) -> dict[str, Any]:
        """Return the issuer ``Profile`` object."""
        return {"id": self.id, "type": ["Profile"], "name": self.name, "url": self.public_url}


def achievement(issuer: Issuer) -> dict[str, Any]:
    """Return the one ``Achievement`` every badge attests (also served at its id)."""
    return {
        "id": issuer.achievement_id,
        "type": ["Achievement"],
        "name": "党员网商",
        "description": "该网店经营者是中共党员，由所在网商党支部核实并亮明身份，接受消费者监督。",
        "criteria": {
            "narrative": "经营者为网商党委所属支部正式党员，本人申请并经支部审核，店铺信息真实。"
        },
    }

