"""The checkpointer inside the service: one background thread per serving process, and the log's health.

Every full node's serving process (``liang serve`` workers, ``liang demo``) starts a daemon
thread as soon as it has built its app (:func:`start_serving`, from the WSGI server's worker; and
again on a first request, should a process serve without it; after a fork the thread belongs to
the process that serves), so a decision taken by the CLI while no request arrives is still signed
that runs :meth:`Checkpointer.run_once` every quarter of ``LIANG_LOG_CHECKPOINT_SECONDS``
(at most every second). The processes coordinate through the checkpoint row alone
(compare-and-swap, see :mod:`verifier.transparency.checkpointer`): whichever claims the row
signs, the others find nothing to do. A public-only node holds no key and signs nothing; it
serves what the full nodes stored.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from verifier.transparency.checkpointer import Checkpointer
from verifier.transparency.witnesses import WitnessClient, parse_witnesses

_logger = logging.getLogger(__name__)
_EXTENSION = "liang.log_thread"
_START_LOCK = threading.Lock()


def checkpointer(app: Flask) -> Checkpointer | None:
    """Return the app's checkpointer, or None on a node that cannot sign (public-only, no KEK)."""
    encryptor = app.extensions.get("liang.encryptor")
    if app.config["PUBLIC_ONLY"] or encryptor is None:
        return None
    return Checkpointer(app.extensions["liang.db"], encryptor=encryptor, clock=app.config["CLOCK"],
                        public_url=app.config["PUBLIC_URL"], resign_seconds=float(app.config["LOG_RESIGN_SECONDS"]))


def run_round(app: Flask, checkpoints: Checkpointer, witnesses: WitnessClient | None) -> bool:
    """Run one checkpointer round and ask the witnesses about what it signed; return whether it signed."""
    signed = checkpoints.run_once()
    if signed is not None and witnesses is not None:
        witnesses.cosign(signed)
    return signed is not None


def _loop(app: Flask, stop: threading.Event) -> None:
    checkpoints = checkpointer(app)
    if checkpoints is None:
        return
    listed = parse_witnesses(app.config.get("LOG_WITNESSES"))
    witnesses = WitnessClient(app.extensions["liang.db"], listed) if listed else None
    pause = max(0.2, min(1.0, int(app.config["LOG_CHECKPOINT_SECONDS"]) / 4))
    while not stop.wait(pause):
        try:
            run_round(app, checkpoints, witnesses)
        except Exception:  # noqa: BLE001 - a failed round is logged and retried; /healthz reports the age
            _logger.exception("transparency log checkpoint round failed")


def start(app: Flask) -> None:
    """Start this process's checkpointer thread once (again in a forked child); idempotent."""
    running = app.extensions.get(_EXTENSION)
    if running is not None and running[0] == os.getpid():
        return
    with _START_LOCK:
        running = app.extensions.get(_EXTENSION)
        if running is not None and running[0] == os.getpid():
            return
        stop = threading.Event()
        thread = threading.Thread(target=_loop, args=(app, stop), name="liang-log-checkpointer", daemon=True)
        app.extensions[_EXTENSION] = (os.getpid(), stop, thread)
        thread.start()


def stop(app: Flask) -> None:
    """Stop this process's checkpointer thread, if one runs (tests)."""
    running = app.extensions.pop(_EXTENSION, None)
    if running is not None and running[0] == os.getpid():
        running[1].set()
        running[2].join(timeout=5)


def _signs(app: Flask) -> bool:
    return not (app.config["PUBLIC_ONLY"] or not app.config.get("LOG_CHECKPOINTER", True) or app.testing)


def start_serving(app: Flask) -> None:
    """Start the checkpointer in a process that is about to serve ``app`` (full nodes, not in tests)."""
    if _signs(app):
        start(app)


def install(app: Flask) -> None:
    """Start the checkpointer with the first request of each serving process (full nodes, not in tests)."""
    if not _signs(app):
        return

    def ensure_thread() -> None:
        running = app.extensions.get(_EXTENSION)
        if running is None or running[0] != os.getpid():
            start(app)

    app.before_request(ensure_thread)
