"""Ask witnesses to cosign each new checkpoint (C2SP tlog-witness ``add-checkpoint``) and publish what they sign.

``LIANG_LOG_WITNESSES`` names them, comma-separated, each ``<submission URL>=<cosigner vkey>``
(the vkey of type 0x04, as ``liang log witness`` prints it), e.g.
``https://w1.example/witness=w1.example/witness+1234abcd+BA…``. A witness's answer is used
only when its cosignature verifies against that key; anything else (a 409 with the size it
has, a refusal, a timeout) is logged and tried again with the next checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests
from sqlalchemy import update

from signer.tlog import (
    CosignatureVerifier,
    LogError,
    b64encode,
    parse_verifier_key,
    prove_tree,
    verify_cosignatures,
)
from verifier.storage.db import Database
from verifier.storage.logmodels import LogCheckpoint
from verifier.transparency.checkpointer import Signed, StoredHashes

_logger = logging.getLogger(__name__)
_TIMEOUT = 5.0
_MAX_PROOF = 63


@dataclass(frozen=True)
class Witness:
    """A witness: where to submit, and the key its cosignatures must verify with."""

    url: str
    verifier: CosignatureVerifier


def parse_witnesses(text: str | None) -> list[Witness]:
    """Return the witnesses ``LIANG_LOG_WITNESSES`` names (ValueError with a clear message when malformed)."""
    found = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        url, sep, vkey = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise ValueError(f"LIANG_LOG_WITNESSES: expected <URL>=<vkey>, not {item!r}")
        try:
            verifier = parse_verifier_key(vkey.strip())
        except LogError as exc:
            raise ValueError(f"LIANG_LOG_WITNESSES: {vkey.strip()!r} is not a verifier key: {exc}") from exc
        if not isinstance(verifier, CosignatureVerifier):
            raise ValueError(f"LIANG_LOG_WITNESSES: {verifier.name} is not a cosigner key (type 0x04)")
        found.append(Witness(url.rstrip("/"), verifier))
    return found


Post = Callable[[str, bytes], tuple[int, bytes]]


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    response = requests.post(url, data=body, timeout=_TIMEOUT,
                             headers={"Content-Type": "text/plain; charset=utf-8"})
    return response.status_code, response.content


class WitnessClient:
    """Submits checkpoints to witnesses and stores the cosignatures that verify (compare-and-swap on the serial)."""

    def __init__(self, database: Database, witnesses: Sequence[Witness], *, post: Post = _post) -> None:
        self._database = database
        self._witnesses = list(witnesses)
        self._post = post
        self._sizes: dict[str, int] = {}  # what each witness last said it holds

    def cosign(self, signed: Signed) -> int:
        """Ask every witness to cosign ``signed``; publish the cosignatures; return how many were added."""
        lines: list[bytes] = []
        for witness in self._witnesses:
            try:
                line = self._submit(witness, signed)
            except (requests.RequestException, LogError, ValueError) as exc:
                _logger.warning("witness %s: %s", witness.url, exc)
                continue
            if line:
                lines.append(line)
        if not lines:
            return 0
        note = signed.note.encode("utf-8") + b"".join(lines)
        with self._database.transaction() as session:
            table = LogCheckpoint.__table__
            stored = session.execute(update(table).where(table.c.id == 1, table.c.serial == signed.serial)
                                     .values(note=note.decode("utf-8")).returning(table.c.id)).first()
            if stored is None:
                return 0  # a newer checkpoint replaced it meanwhile: these cosign an older one
        return len(lines)

    def _submit(self, witness: Witness, signed: Signed) -> bytes | None:
        old = self._sizes.get(witness.url, signed.old_size)
        for _ in range(2):
            if old > signed.size:
                self._sizes[witness.url] = old
                return None  # the witness has seen a newer checkpoint already (another instance's)
            status, body = self._post(f"{witness.url}/add-checkpoint", self._request(signed, old))
            if status == 409:
                old = int(body.decode("ascii").strip())
                continue
            if status != 200:
                raise ValueError(f"answered {status}: {body[:200]!r}")
            self._sizes[witness.url] = signed.size
            mine = [line + b"\n" for line in body.split(b"\n") if line.startswith("— ".encode())]
            good = [line for line in mine
                    if verify_cosignatures(signed.note.encode("utf-8") + line, [witness.verifier])]
            return good[0] if good else None
        raise ValueError("kept answering 409")

    def _request(self, signed: Signed, old: int) -> bytes:
        proof: list[bytes] = []
        if 0 < old < signed.size:
            session = self._database.session()
            try:
                proof = prove_tree(signed.size, old, StoredHashes(session))
            finally:
                session.close()
        if len(proof) > _MAX_PROOF:
            raise ValueError("consistency proof too long")
        head = f"old {old}\n" + "".join(b64encode(h) + "\n" for h in proof) + "\n"
        return head.encode("ascii") + signed.note.encode("utf-8")
