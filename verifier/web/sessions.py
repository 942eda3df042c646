"""The console's signed-cookie session, without work for requests that carry none."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class LeanSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; a request without the cookie skips building a signer.

    A shopper's scan never carries the console cookie, and building the signing serializer
    for nothing was a measurable part of every verification.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Return an empty session at once when there is no cookie; else Flask's own."""
        # The raw header first: parsing every cookie to learn that ours is absent was most of the cost.
        raw = request.environ.get("HTTP_COOKIE", "")
        if app.secret_key and (self.get_cookie_name(app) not in raw or self.get_cookie_name(app) not in request.cookies):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Do nothing for an untouched empty session; else Flask's own."""
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)
