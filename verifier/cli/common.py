"""What every ``liang`` command shares: the one-line error, the app context, the actor.

Commands build their services with the same factories as requests (:mod:`verifier.context`)
inside the app context and call one service method each; the services open and commit the
transactions, so no command holds one of its own.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from flask import Flask
from flask_babel import force_locale

from signer.errors import Conflict, IllegalTransition, InvalidInput
from verifier import context
from verifier.audit.service import Actor
from verifier.errorwords import describe
from verifier.i18n import cli_locale

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A refusal reported as one line, exit status 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        """Print ``liang: <message>`` to stderr."""
        click.echo(f"liang: {words(self.format_message())}", err=True)


def make_app(**overrides: Any) -> Flask:
    """Build the app for a CLI command (environment configuration, no rate limits)."""
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.app import create_app

    overrides.setdefault("RATELIMIT_ENABLED", False)
    return create_app(overrides)


@contextmanager
def app_context(**overrides: Any) -> Iterator[Flask]:
    """Yield an app inside its app context; a domain refusal becomes one line in the shell's language."""
    app = make_app(**overrides)
    with app.app_context(), force_locale(cli_locale()):
        try:
            yield app
        except (InvalidInput, IllegalTransition, Conflict) as exc:
            raise CliError(describe(exc)) from exc


def words(text: Any) -> str:
    """Return ``text`` on one line (a message never breaks the one-line error)."""
    return " ".join(str(text).split())


def cli_actor() -> Actor:
    """Return the audit actor for a CLI user."""
    return Actor(name=f"cli:{getpass.getuser()}", role="system", client="cli")


def ensure_schema() -> None:
    """Refuse to run against a schema that is not at the newest revision."""
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.storage.migrate import is_current

    if not is_current(context.database().engine):
        raise CliError("the database schema is not up to date: run `liang init` first")
