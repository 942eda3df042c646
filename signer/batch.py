"""Sign many badge credentials at once, in worker processes when the batch is large enough.

Ed25519 signing and JSON encoding are pure CPU work, one credential independent of the
next, so a large import hands them to worker processes while the importing process
writes the other rows. Workers are started with ``spawn`` (a fresh interpreter), never
as a ``fork`` of the caller: they inherit no database connection, no key-encryption key
and no decrypted key in copied memory. The one private key they need reaches them as
raw bytes through the pipe their start-up arguments travel over; it is never written
to disk and never logged, and a worker exits when the importing process dies. Signing
is deterministic, so a credential signed by a worker is byte for byte the one signing
in process gives; if the pool breaks, the rest is signed in process."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.credentials import BadgeClaims, CredentialEncoder, Issuer, sign_encoded

_logger = logging.getLogger(__name__)

#: Below this many credentials, starting worker processes costs more than it saves.
MIN_PARALLEL = 2000
#: Credentials per task sent to a worker: large enough to amortise the pipe, small enough to interleave.
CHUNK = 500

Job = tuple[BadgeClaims, str]  # the claims and the credential id (``jti``) to sign them under


def default_workers() -> int:
    """Return how many signing processes suit this machine now: its idle cores but the importer's own.

    A worker only pays off on a core nobody else needs: on a busy machine it takes CPU time
    from the importing process (which writes the rows), and its start-up is pure cost.
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform: assume an idle machine
        busy = 0.0
    return max(0, min(cores - 1, math.floor(cores - busy + 0.5) - 1))


class _KeyBytes:
    """Raw private key bytes on their way to a worker; never shown in a repr or a log line."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return "_KeyBytes(<hidden>)"

    def __getstate__(self) -> bytes:
        return self.raw

    def __setstate__(self, state: bytes) -> None:
        self.raw = state


class BatchSigner:
    """Sign credentials of one issuer with key ``kid``, in order; a context manager (it may own worker processes).

    ``start(total)`` decides where the work runs: with ``workers`` processes when there are
    at least ``min_parallel`` credentials to sign, else in process. ``submit`` hands over a
    chunk of jobs (workers start on it at once); ``results`` returns the compact JWSs, one
    list per submitted chunk, in submission order.
    """

    def __init__(self, *, issuer: Issuer, kid: str, private_key: Ed25519PrivateKey, workers: int = 0,
                 min_parallel: int = MIN_PARALLEL) -> None:
        self._issuer = issuer
        self.kid = kid
        self._kid_url = issuer.kid_url(kid)
        self._private = private_key
        self._workers = max(0, workers)
        self._min_parallel = min_parallel
        self._encoder: CredentialEncoder | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._stopping: ProcessPoolExecutor | None = None  # shut down, its workers still exiting
        self._pending: deque[tuple[list[Job], Future[list[str]] | None]] = deque()
        self.parallel = False  # whether worker processes sign (set by start)

    def __enter__(self) -> BatchSigner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes, if any; work not yet collected is dropped."""
        self._pending.clear()
        for pool in (self._pool, self._stopping):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._stopping = None

    def start(self, total: int) -> None:
        """Prepare to sign ``total`` credentials: start the workers now if they pay off."""
        self.parallel = self._workers > 0 and total >= self._min_parallel
        if self.parallel and self._pool is None:
            self._pool = self._start_pool()
            # Workers are started as tasks arrive; one no-op each starts them all now,
            # so that their start-up overlaps the caller's work instead of delaying the first chunk.
            for _ in range(self._workers):
                self._pool.submit(_ready)

    def submit(self, jobs: list[Job]) -> None:
        """Queue one chunk of jobs."""
        if not jobs:
            return
        future = self._pool.submit(_sign_chunk, jobs) if self.parallel and self._pool is not None else None
        self._pending.append((jobs, future))

    def results(self) -> Iterator[list[str]]:
        """Yield the signed credentials of each submitted chunk, in order (signing in process if need be)."""
        while self._pending:
            jobs, future = self._pending.popleft()
            if future is not None:
                try:
                    signed = future.result()
                except BrokenProcessPool:
                    pass
                else:
                    if not self._pending and self._pool is not None:
                        # All work is back: let the workers exit while the caller carries on.
                        self._pool.shutdown(wait=False)
                        self._stopping, self._pool = self._pool, None
                    yield signed
                    continue
                # A worker died (killed, out of memory): signing is deterministic, so finish here.
                _logger.warning("a signing worker process failed; signing the rest in process")
                self._pending = deque((queued, None) for queued, _ in self._pending)
                self.parallel = False
                if self._pool is not None:
                    self._pool.shutdown(wait=True, cancel_futures=True)
                    self._pool = None
            yield self._sign_here(jobs)

    def _start_pool(self) -> ProcessPoolExecutor:
        raw = self._private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                          serialization.NoEncryption())
        return ProcessPoolExecutor(max_workers=self._workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(_KeyBytes(raw), self._issuer, self._kid_url))

    def _sign_here(self, jobs: list[Job]) -> list[str]:
        if self._encoder is None:
            self._encoder = CredentialEncoder(self._issuer)
        encode, kid_url, key = self._encoder.encode, self._kid_url, self._private
        return [sign_encoded(encode(claims, credential_id=cid), kid_url=kid_url, private_key=key)
                for claims, cid in jobs]


# -- inside a worker process -----------------------------------------------------------------------
_worker: tuple[CredentialEncoder, str, Ed25519PrivateKey] | None = None


def _init_worker(key: _KeyBytes, issuer: Issuer, kid_url: str) -> None:
    """Set up a worker: the key, the encoder, and a watch on the parent process."""
    global _worker
    _worker = (CredentialEncoder(issuer), kid_url, Ed25519PrivateKey.from_private_bytes(key.raw))
    key.raw = b""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    # An importing process killed mid-import (SIGKILL, OOM) cannot tell its workers to stop;
    # without this they would wait on their task queue for ever, a private key in their memory.
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(0)


def _ready() -> None:
    """Do nothing (a task that makes the pool start a worker)."""


def _sign_chunk(jobs: list[Job]) -> list[str]:
    if _worker is None:
        raise RuntimeError("signing worker was not initialised")
    encoder, kid_url, key = _worker
    return [sign_encoded(encoder.encode(claims, credential_id=cid), kid_url=kid_url, private_key=key)
            for claims, cid in jobs]
