"""The console's signed-cookie session, without work for requests that carry none."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

#: Where a request's session object is kept (the WSGI environ is the request's own storage), so
#: that it can be looked at without the ``session`` proxy, which marks it accessed.
_ENVIRON_KEY = "liang.session"


class LeanSession(SecureCookieSession):
    """Flask's signed-cookie session, remembering whether the request's own code used it."""

    #: Whether the views and their hooks had read or written the session when the response hooks
    #: of the extensions began (see :func:`note_session_use`); None when that was not recorded.
    used_by_request: bool | None = None


class LeanSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; a request without the cookie skips building a signer.

    A shopper's scan never carries the console cookie, and building the signing serializer
    for nothing was a measurable part of every verification.
    """

    session_class = LeanSession

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Return an empty session at once when there is no cookie; else Flask's own."""
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            session: SecureCookieSession | None = self.session_class()
        else:
            session = super().open_session(app, request)
        request.environ[_ENVIRON_KEY] = session
        return session

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Do nothing for an untouched empty session; else Flask's own.

        "Touched" is what the request's own code did: Flask-Login's remember-cookie hook reads
        the session on every response (through the proxy, which marks it accessed), and that
        read alone would mark every public answer ``Vary: Cookie``, spoiling shared caches for
        badge images, status lists and the widget. It has work to do only after a login or a
        logout, which use the session themselves.
        """
        used = getattr(session, "used_by_request", None)
        if used is not None:
            session.accessed = used or session.modified
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


def note_session_use(response: Response) -> Response:
    """Record whether this request's code used the session, before an extension's response hook reads it.

    Register it right after the extensions whose after-request hooks read the session on every
    response (``login_manager.init_app``): Flask runs after-request hooks in the reverse order
    of registration, so this one runs just before theirs.
    """
    session = request.environ.get(_ENVIRON_KEY)
    if isinstance(session, LeanSession):
        session.used_by_request = session.accessed or session.modified
    return response
