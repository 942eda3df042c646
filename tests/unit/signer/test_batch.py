"""BatchSigner: worker processes sign exactly what signing in process signs; small batches and a broken
pool sign in process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from signer import batch
from signer.batch import BatchSigner, Job, _worker_environment, default_workers
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
        badge_id=f"7K3M-9QX2-{i:04d}", shop_name=f'店铺 "{i}"', shop_url=f"https://s{i}.example.com/",
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
        assert signer._processes == []  # no worker process was started
    assert signed == _serial(jobs, key)


def test_a_worker_that_dies_is_replaced_by_signing_in_process(key, caplog):
    jobs = _jobs(40)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=1, min_parallel=10) as signer:
        signer.start(len(jobs))
        (worker,) = signer._processes
        os.kill(worker.pid, signal.SIGKILL)
        for i in range(0, len(jobs), 15):
            signer.submit(jobs[i:i + 15])
        signed = [token for part in signer.results() for token in part]
        assert signer._processes == []  # the dead worker was reaped
    assert signed == _serial(jobs, key)
    assert "stopped answering" in caplog.text and "signing the rest in process" in caplog.text


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX job control signals")
def test_waiting_for_a_worker_this_process_signs_chunks_no_worker_started(key):
    jobs = _jobs(60)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=1, min_parallel=10) as signer:
        signer.start(len(jobs))
        (worker,) = signer._processes
        os.kill(worker.pid, signal.SIGSTOP)  # a worker that makes no progress
        try:
            for i in range(0, len(jobs), 10):
                signer.submit(jobs[i:i + 10])
            stolen = 0
            while signer._steal():
                stolen += 1
            # all six chunks but (perhaps) those already handed to the stopped worker
            assert stolen >= 6 - batch._Worker._AHEAD
            assert all(chunk.signed is not None for chunk in list(signer._pending)[batch._Worker._AHEAD:])
        finally:
            os.kill(worker.pid, signal.SIGCONT)
        signed = [token for part in signer.results() for token in part]
    assert signed == _serial(jobs, key)


def test_a_chunk_a_worker_cannot_sign_fails_as_it_would_in_process(key, caplog):
    bad = [(replace(_jobs(1)[0][0], valid_from="yesterday"), "urn:uuid:1")]  # not a datetime
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=1, min_parallel=1) as signer:
        signer.start(1)
        signer.submit(bad)
        with pytest.raises(AttributeError):
            list(signer.results())
    assert "failed: AttributeError" in caplog.text  # the worker's report, before signing here


def test_workers_stop_once_every_result_is_back_and_later_chunks_sign_in_process(key):
    jobs = _jobs(30)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=1, min_parallel=10) as signer:
        first = _sign(signer, jobs[:20], chunk=10)
        assert not signer._open  # the workers were told to stop, without waiting for them
        signer.submit(jobs[20:])
        rest = [token for part in signer.results() for token in part]
    assert signer._processes == []  # close() waited for them
    assert first + rest == _serial(jobs, key)


def test_close_drops_work_not_collected(key):
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=1, min_parallel=1) as signer:
        signer.start(5000)
        for _ in range(10):
            signer.submit(_jobs(500))
        signer.close()
        assert list(signer.results()) == []
        assert signer._processes == []


def test_a_worker_exits_when_its_input_closes():
    """What happens when the importing process dies: the pipe closes and the worker ends."""
    worker = subprocess.Popen([sys.executable, "-m", "signer.batch"], stdin=subprocess.PIPE,  # noqa: S603
                              stdout=subprocess.PIPE, env=_worker_environment())
    worker.stdin.close()
    assert worker.wait(timeout=60) == 0
    assert worker.stdout.read() == b""
    worker.stdout.close()


def test_workers_get_no_liang_settings(monkeypatch):
    monkeypatch.setenv("LIANG_KEY_ENCRYPTION_KEY", "secret-kek")
    monkeypatch.setenv("LIANG_DATABASE_URL", "postgresql://x")
    env = _worker_environment()
    assert not [name for name in env if name.startswith("LIANG_")]
    assert "secret-kek" not in "".join(env.values())
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(Path(batch.__file__).resolve().parent.parent)


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


@pytest.mark.parametrize("cores,load,workers", [
    (2, 0.0, 0),  # importer and database server: nothing left for a signer
    (4, 0.0, 2),
    (8, 3.2, 3),
    (1, 0.0, 0),
])
def test_default_workers_leave_the_reserved_cores(monkeypatch, cores, load, workers):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    monkeypatch.setattr("os.getloadavg", lambda: (load, load, load))
    assert default_workers(reserved=1) == workers


def test_default_workers_without_a_load_average(monkeypatch):
    def unavailable():
        raise OSError("no load average")

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    monkeypatch.setattr("os.getloadavg", unavailable)
    assert default_workers() == 3


def test_workers_that_cannot_be_started_leave_signing_in_process(key, monkeypatch, caplog):
    started = []
    real = batch._Worker

    def second_fails(*args):
        if started:
            raise OSError("Resource temporarily unavailable")
        started.append(real(*args))
        return started[0]

    monkeypatch.setattr(batch, "_Worker", second_fails)
    jobs = _jobs(20)
    with BatchSigner(issuer=ISSUER, kid="K1", private_key=key, workers=2, min_parallel=10) as signer:
        signed = _sign(signer, jobs, chunk=5)
        assert not signer.parallel and signer._processes == []
    assert signed == _serial(jobs, key)
    assert "cannot start a signing worker" in caplog.text
    assert started[0]._process.poll() is not None  # the one that did start was stopped
