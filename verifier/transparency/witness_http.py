"""The witness's HTTP face: a small Flask app of its own (it is not the badge service).

``POST /add-checkpoint`` and ``GET /<origin hash>/checkpoint`` per C2SP tlog-witness; ``GET /``
says who the witness is (its verifier key and the logs it witnesses). Bad input is a 4xx with a
one-line text body, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask, Response, request

from verifier.transparency.witness import MAX_BODY, TEXT, Reply, Witness


def create_witness_app(build: Callable[[], Witness]) -> Flask:
    """Return the witness app; ``build`` makes the :class:`Witness` (called once, in the serving process)."""
    app = Flask("liang-witness")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    witness = build()

    def reply(answer: Reply) -> Response:
        return Response(answer.body, status=answer.status, content_type=answer.content_type,
                        headers={"Cache-Control": "no-store"})

    @app.post("/add-checkpoint")
    def add_checkpoint() -> Response:
        return reply(witness.add_checkpoint(request.get_data(cache=False)))

    @app.get("/<origin_hash>/checkpoint")
    def checkpoint(origin_hash: str) -> Response:
        if not re.fullmatch(r"[0-9a-f]{64}", origin_hash):
            return reply(Reply(404, "not found\n"))
        return reply(witness.checkpoint_for(origin_hash))

    @app.get("/")
    def about() -> Response:
        lines = [f"witness {witness.vkey()}", *(f"log {origin}" for origin in sorted(witness.logs))]
        return Response("\n".join(lines) + "\n", content_type=TEXT)

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def http_error(exc: Exception) -> Response:
        code = getattr(exc, "code", 400) or 400
        return Response(f"{getattr(exc, 'name', 'error')}\n", status=code, content_type=TEXT)

    return app
