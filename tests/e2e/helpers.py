"""Helpers for end-to-end tests: run the real CLI, read credentials and status lists."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from typing import Any

import requests

from signer.statuslist import decode_bits, get_bit


def run_liang(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``liang`` as a separate process with ``env`` and return its result (raises on failure)."""
    result = subprocess.run([sys.executable, "-m", "verifier", *args], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise AssertionError(f"liang {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def jws_payload(token: str) -> dict[str, Any]:
    """Return the (unverified) payload of a compact JWS."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


def status_entry(credential: str, purpose: str) -> tuple[str, int]:
    """Return (list path, index) of a credential's status entry for ``purpose``."""
    payload = jws_payload(credential)
    subject = payload.get("vc", payload)
    entry = next(e for e in (subject["credentialStatus"], subject["revocationStatus"]) if e["statusPurpose"] == purpose)
    url = str(entry["statusListCredential"])
    return "/status/" + url.rsplit("/", 1)[1], int(entry["statusListIndex"])


def status_bit(base_url: str, list_path: str, index: int) -> bool:
    """Fetch a status list from ``base_url`` and return the bit at ``index``."""
    response = requests.get(base_url + list_path, timeout=10)
    response.raise_for_status()
    payload = jws_payload(response.text)
    subject = payload.get("vc", payload)["credentialSubject"]
    return get_bit(decode_bits(subject["encodedList"]), index)
