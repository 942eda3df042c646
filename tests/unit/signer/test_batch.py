"""BatchSigner: worker processes sign exactly what signing in process signs; small batches and a broken
pool sign in process."""

from __future__ import annotations

import json
import pickle
import warnings
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from signer.batch import BatchSigner, Job, _KeyBytes, default_workers
from signer.credentials import BadgeClaims, Issuer, StatusEntry, build_credential, sign_jws
from signer.keys import public_jwk

ISSUER = Issuer(public_url="https://badge.example.cn")
KID_URL = ISSUER.kid_url("K1")
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _jobs(count: int) -> list[Job]:
    return [(BadgeClaims(
        badge_id=f"7K3M-9QX2-{i:04d}", holder_name=f"店主{i}", shop_name=f'店铺 "{i}"', shop_url=f"https://s{i}.example.com/",
        platform="taobao", hosts=(f"s{i}.example.com",) * (i % 3), branch_code=f"B0{i % 4}", branch_name=f"第{i % 4}支部",
        valid_from=NOW, valid_until=NOW + timedelta(days=1 + i),
        status_entries=(StatusEntry("revocation", "https://badge.example.cn/status/a1", i),
                        StatusEntry("suspension", "https://badge.example.cn/status/b2", 131_071 - i)),
    ), f"urn:uuid:00000000-0000-4000-8000-{i:012d}") for i in range(count)]


def _serial(jobs: list[Job], key: Ed25519PrivateKey) -> list[str]:
    """What single issuance signs: build_credential, then sign_jws."""
    return [sign_jws(build_credential(claims, issuer=ISSUER, credential_id=cid), kid_url=KID_URL, private_key=key)
            for claims, cid in jobs]


def _sign(signer: BatchSigner, jobs: list[Job], *, chunk: int) -> list[str]:
    signer.start(len(jobs))
    for i in range(0, len(jobs), chunk):
        signer.submit(jobs[i:i + chunk])
    return [token for part in signer.results() for token in part]


def _verify_with_joserfc(token: str, key: Ed25519PrivateKey) -> dict:
    """Verify with joserfc against the public JWK (not the project's code); return the payload."""
    public_raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with warnings.catch_warnings():
        # joserfc flags "EdDSA" as superseded by "Ed25519" (RFC 9864); the contract fixes "EdDSA".
        warnings.simplefilter("ignore", SecurityWarning)
        verified = jws.deserialize_compact(token, OKPKey.import_key(public_jwk(public_raw)), algorithms=["EdDSA"])
    assert verified.protected == {"alg": "EdDSA", "kid": KID_URL, "typ": "JWT"}
    return json.loads(verified.payload)


def test_worker_processes_sign_the_serial_credentials_byte_for_byte(key):
    jobs = _jobs(70)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=2, min_parallel=10) as signer:
        signed = _sign(signer, jobs, chunk=25)  # three chunks, the last one short
        assert signer.parallel
    assert signed == _serial(jobs, key)
    for token, (claims, cid) in zip(signed, jobs, strict=True):
        assert _verify_with_joserfc(token, key) == build_credential(claims, issuer=ISSUER, credential_id=cid)


@pytest.mark.parametrize("workers,count", [(0, 30), (1, 30), (2, 1999)])
def test_small_batches_and_zero_workers_sign_in_process(key, workers, count):
    jobs = _jobs(count)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=workers) as signer:
        signed = _sign(signer, jobs, chunk=500)
        assert not signer.parallel
        assert signer._pool is None  # no worker process was started
    assert signed == _serial(jobs, key)


class _BrokenPool:
    """Stands in for a pool whose worker died: every task fails as BrokenProcessPool."""

    def __init__(self) -> None:
        self.shut_down = False

    def submit(self, fn, *args):
        future: Future = Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        self.shut_down = True


def test_a_broken_pool_falls_back_to_signing_in_process(key, monkeypatch, caplog):
    pool = _BrokenPool()
    monkeypatch.setattr(BatchSigner, "_start_pool", lambda self: pool)
    jobs = _jobs(40)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=2, min_parallel=10) as signer:
        signed = _sign(signer, jobs, chunk=15)
        assert not signer.parallel  # the rest went in process
    assert signed == _serial(jobs, key)
    assert pool.shut_down
    assert "signing the rest in process" in caplog.text


def test_workers_stop_once_every_result_is_back_and_later_chunks_sign_in_process(key):
    jobs = _jobs(30)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=1, min_parallel=10) as signer:
        first = _sign(signer, jobs[:20], chunk=10)
        assert signer._pool is None and signer._stopping is not None  # shut down without waiting
        signer.submit(jobs[20:])
        rest = [token for part in signer.results() for token in part]
    assert signer._stopping is None  # close() waited for the workers to exit
    assert first + rest == _serial(jobs, key)


def test_close_drops_work_not_collected(key):
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key) as signer:
        signer.start(5)
        signer.submit(_jobs(5))
        signer.close()
        assert list(signer.results()) == []


def test_key_bytes_are_never_shown_and_survive_the_pipe():
    secret = bytes(range(32))
    sealed = _KeyBytes(secret)
    assert secret.hex() not in repr(sealed) and repr(secret) not in repr(sealed)
    assert "<hidden>" in repr(sealed)
    assert pickle.loads(pickle.dumps(sealed)).raw == secret  # noqa: S301 - our own bytes


@pytest.mark.parametrize("cores,load,workers", [
    (2, 0.05, 1),  # an idle second core: one worker
    (2, 0.7, 0),  # the second core is partly busy: sign in process
    (2, 2.5, 0),
    (8, 0.0, 7),  # one core stays with the importing process
    (8, 3.2, 4),
    (1, 0.0, 0),
    (None, 0.0, 0),  # unknown: one core assumed
])
def test_default_workers_are_the_idle_cores_but_the_importers_own(monkeypatch, cores, load, workers):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    monkeypatch.setattr("os.getloadavg", lambda: (load, load, load))
    assert default_workers() == workers


def test_default_workers_without_a_load_average(monkeypatch):
    def unavailable():
        raise OSError("no load average")

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    monkeypatch.setattr("os.getloadavg", unavailable)
    assert default_workers() == 3
