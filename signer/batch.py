"""Sign many badge credentials at once, in worker processes when the batch is large enough.

Ed25519 signing and JSON encoding are pure CPU work, one credential independent of the
next, so a large import hands them to worker processes while the importing process
writes the other rows.

A worker is a fresh interpreter running this module (``python -m signer.batch``), never
a ``fork`` of the caller: it inherits no database connection, no key-encryption key (the
``LIANG_*`` environment is left out) and no decrypted key in copied memory. It imports
only what signing needs, so it is ready in a tenth of a second. (``multiprocessing``'s
``spawn`` re-imports the caller's main script in every worker: for ``liang`` or a
benchmark that is the whole web application, a second of CPU per worker, measured to
cost more than the worker saved on two cores.) The one private key a worker needs is
the first message on its standard input: a pipe, never a file, an argument or a log
line. A worker exits when its input closes, so when the importing process dies, its
workers follow.

Signing is deterministic, so a credential signed by a worker is byte for byte the one
signing in process gives; if a worker fails, the rest is signed in process.
"""

from __future__ import annotations

import logging
import math
import os
import pickle  # noqa: S403 - frames between this process and the workers it started, nothing else
import queue
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.credentials import BadgeClaims, CredentialEncoder, Issuer
from signer.signing import sign_many

_logger = logging.getLogger(__name__)

#: Below this many credentials, starting worker processes costs more than it saves.
MIN_PARALLEL = 2000
#: Credentials per chunk handed to a worker: large enough to amortise the pipe, small enough to interleave.
CHUNK = 500

Job = tuple[BadgeClaims, str]  # the claims and the credential id (``jti``) to sign them under

_FRAME = struct.Struct(">I")  # every message: a 4-byte length, then a pickle


def default_workers(reserved: int = 0) -> int:
    """Return how many signing processes suit this machine now: its idle cores but the importer's own.

    A worker only pays off on a core nobody else needs: on a busy machine it takes CPU time
    from the importing process (which writes the rows), and its start-up is pure cost.
    ``reserved`` is how many more cores the caller knows another process will need while it
    runs (a database server on this machine, busy storing what the importer sends).
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform: assume an idle machine
        busy = 0.0
    return max(0, min(cores - 1 - reserved, math.floor(cores - busy + 0.5) - 1 - reserved))


class WorkerFailed(Exception):
    """A signing worker process stopped answering (killed, out of memory, or it failed)."""


class BatchSigner:
    """Sign credentials of one issuer with key ``kid``, in order; a context manager (it may own worker processes).

    ``start(total)`` decides where the work runs: with ``workers`` processes when there are
    at least ``min_parallel`` credentials to sign, else in process. ``submit`` hands over a
    chunk of jobs (a worker starts on it at once); ``results`` returns the compact JWSs, one
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
        self._processes: list[_Worker] = []
        self._tasks: queue.Queue[tuple[list[Job], Future[list[str]]] | None] = queue.Queue()
        self._pending: deque[_Chunk] = deque()
        self._open = False  # whether submitted chunks go to the workers
        self.parallel = False  # whether this batch is signed in worker processes (set by start)

    def __enter__(self) -> BatchSigner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes, if any; work not yet collected is dropped."""
        for chunk in self._pending:
            if chunk.future is not None:
                chunk.future.cancel()  # a worker skips it instead of signing it for nobody
        self._pending.clear()
        self._stop_workers()

    def start(self, total: int) -> None:
        """Prepare to sign ``total`` credentials: start the workers now if they pay off."""
        self.parallel = self._workers > 0 and total >= self._min_parallel
        if self.parallel and not self._processes:
            raw = self._private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                              serialization.NoEncryption())
            self._open = True  # so that a failed start stops the workers already running
            try:
                for _ in range(self._workers):
                    self._processes.append(_Worker(raw, self._issuer, self._kid_url, self._tasks))
            except OSError as exc:  # cannot start a process here (limits, sandbox): sign in process
                _logger.warning("cannot start a signing worker (%s); signing in process", exc)
                self._stop_workers()
                self.parallel = False
        self._open = self.parallel

    def submit(self, jobs: list[Job]) -> None:
        """Queue one chunk of jobs."""
        if not jobs:
            return
        future: Future[list[str]] | None = None
        if self._open:
            future = Future()
            self._tasks.put((jobs, future))
        self._pending.append(_Chunk(jobs, future))

    def results(self) -> Iterator[list[str]]:
        """Yield the signed credentials of each submitted chunk, in order (signing in process if need be).

        Waiting for a worker, this process signs chunks no worker has started yet (from the
        back of the queue) instead of sitting idle.
        """
        while self._pending:
            chunk = self._pending.popleft()
            if chunk.signed is None and chunk.future is not None:
                while not chunk.future.done() and self._steal():
                    pass
                try:
                    chunk.signed = chunk.future.result()
                except WorkerFailed as exc:
                    # Signing is deterministic: whatever a worker did not finish is signed here.
                    _logger.warning("%s; signing the rest in process", exc)
                    for queued in self._pending:
                        if queued.future is not None:
                            queued.future.cancel()
                            queued.future = None
                    self._stop_workers()
                else:
                    if not any(queued.future is not None for queued in self._pending):
                        self._stop_workers(wait=False)  # all work is back: let the workers exit meanwhile
            yield chunk.signed if chunk.signed is not None else self._sign_here(chunk.jobs)

    def _steal(self) -> bool:
        """Sign here the last chunk no worker has started; return whether there was one."""
        for chunk in reversed(self._pending):
            if chunk.future is not None and chunk.future.cancel():
                chunk.future, chunk.signed = None, self._sign_here(chunk.jobs)
                return True
        return False

    def _stop_workers(self, *, wait: bool = True) -> None:
        if self._open:
            self._open = False  # later chunks are signed in process
            for _ in self._processes:
                self._tasks.put(None)  # one stop mark per worker: it closes the worker's input
        if wait:
            for worker in self._processes:
                worker.join()
            self._processes = []
            self._tasks = queue.Queue()

    def _sign_here(self, jobs: list[Job]) -> list[str]:
        if self._encoder is None:
            self._encoder = CredentialEncoder(self._issuer)
        return sign_many(self._encoder, self._kid_url, self._private, jobs)


class _Chunk:
    """A submitted chunk: its jobs, the worker's future (None: sign in process) and, once known, the tokens."""

    __slots__ = ("jobs", "future", "signed")

    def __init__(self, jobs: list[Job], future: Future[list[str]] | None) -> None:
        self.jobs = jobs
        self.future = future
        self.signed: list[str] | None = None


# -- the worker processes, seen from the importing process ---------------------------------------
def _worker_environment() -> dict[str, str]:
    """Return the environment for a worker: no LIANG_* settings (the key-encryption key among them)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("LIANG_")}
    # The worker must import this very package, wherever the importing process found it.
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


class _Worker:
    """One worker process and two threads in this process: one feeds it chunks, one reads its answers.

    At most two chunks are with a worker at a time (one being signed, the next one waiting in
    its pipe), so it never idles between chunks; every other chunk stays in the shared queue,
    for another worker or for the importing process to take.
    """

    _AHEAD = 2

    def __init__(self, key_raw: bytes, issuer: Issuer, kid_url: str,
                 tasks: queue.Queue[tuple[list[Job], Future[list[str]]] | None]) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module, no shell
            [sys.executable, "-m", "signer.batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=_worker_environment(), close_fds=True)
        self.pid = self._process.pid
        self._tasks = tasks
        self._start = (key_raw, issuer, kid_url)
        self._room = threading.Semaphore(self._AHEAD)
        self._sent: queue.Queue[Future[list[str]] | None] = queue.Queue()  # handed over, answer pending
        self._threads = [threading.Thread(target=self._feed, name=f"signing-worker-{self.pid}-in", daemon=True),
                         threading.Thread(target=self._read, name=f"signing-worker-{self.pid}-out", daemon=True)]
        for thread in self._threads:
            thread.start()

    def _feed(self) -> None:
        stdin = self._process.stdin
        if stdin is None:  # not reached: a pipe (see Popen above)
            return
        try:
            _write_frame(stdin, self._start)
        except OSError:
            pass  # the process is already gone: the first chunk finds out
        self._start = (b"", self._start[1], self._start[2])
        while True:
            self._room.acquire()
            task = self._tasks.get()
            if task is None:
                break
            jobs, future = task
            if not future.set_running_or_notify_cancel():
                self._room.release()
                continue  # cancelled: nobody waits for it
            try:
                _write_frame(stdin, jobs)
            except OSError as exc:
                future.set_exception(WorkerFailed(f"signing worker {self.pid} stopped answering ({exc!r})"))
                self._room.release()
                continue
            self._sent.put(future)
        self._sent.put(None)
        _close(stdin)  # end of input: the worker exits

    def _read(self) -> None:
        stdout = self._process.stdout
        if stdout is None:  # not reached: a pipe (see Popen above)
            return
        while (future := self._sent.get()) is not None:
            try:
                status, value = _read_frame(stdout)
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                future.set_exception(WorkerFailed(f"signing worker {self.pid} stopped answering ({exc!r})"))
            else:
                if status == "ok":
                    future.set_result(value)
                else:
                    future.set_exception(WorkerFailed(f"signing worker {self.pid} failed: {value}"))
            self._room.release()

    def join(self) -> None:
        """Wait for the threads and the process to end (killing a process that hangs)."""
        self._threads[0].join(timeout=60)
        if self._process.stdin is not None:
            _close(self._process.stdin)
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._threads[1].join(timeout=60)
        if self._process.stdout is not None:
            _close(self._process.stdout)


def _close(stream: IO[bytes]) -> None:
    try:
        stream.close()
    except OSError:
        pass  # the other end is gone already


def _write_frame(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_FRAME.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> Any:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise EOFError("the other end closed the pipe")
    (size,) = _FRAME.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other end closed the pipe mid-message")
    return pickle.loads(data)  # noqa: S301 - written by our own worker or our own parent


# -- inside a worker process ----------------------------------------------------------------------
def _work(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Serve one importing process: the key first, then chunks until the input closes."""
    try:
        key_raw, issuer, kid_url = _read_frame(stdin)
    except EOFError:
        return
    key = Ed25519PrivateKey.from_private_bytes(key_raw)
    del key_raw
    encoder = CredentialEncoder(issuer)
    while True:
        try:
            jobs = _read_frame(stdin)
        except EOFError:
            return  # the importing process is done, or gone
        try:
            answer: tuple[str, Any] = ("ok", sign_many(encoder, kid_url, key, jobs))
        except Exception as exc:  # noqa: BLE001 - reported to the importing process, which signs instead
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            _write_frame(stdout, answer)
        except OSError:
            return  # nobody is listening any more


if __name__ == "__main__":
    _work(sys.stdin.buffer, sys.stdout.buffer)
