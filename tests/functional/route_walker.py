"""Walk every rule of the URL map with plausible parameters (shared by the header and bad-input tests).

A rule with a parameter this module cannot fill makes the calling test fail,
so a route added later cannot slip past the checks: add its parameter to
:data:`PARAM_VALUES` (or :data:`PARAM_FACTORIES`) instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, Rule

from verifier import context

#: Values for parameters that need nothing from the database.
PARAM_VALUES: dict[str, str] = {
    "filename": "liang.css",
    "number": "LS-00000000",  # complaint tracking number (complaints feature)
    "token": "not-a-real-tracking-token",  # signed complaint link (complaints feature)
    "kid": "unknown-key-id",
    "rest": "0/000.p/1",  # /log/tile/<path:rest>: a hash tile (404 until a checkpoint covers it)
    "code": "B01",
    "branch_code": "B01",  # admin console: /admin/branches/<branch_code>/edit
    "group_code": "T-ONE",  # admin console: /admin/groups/<group_code>/edit
    "username": "walker",
    "action": "suspend",  # admin console: /admin/badges/<badge_id>/act/<action>
    "decision": "approve",  # admin console: /admin/applications/<badge_id>/<decision>
    "slug": "party-member-merchant",  # the achievement every badge attests: /achievements/<slug>
}
#: Parameters filled from the fixture world (a live badge, its status list ...).
PARAM_FACTORIES: dict[str, Callable[[World], str]] = {
    "raw_id": lambda w: w.badge_id,
    "badge_id": lambda w: w.badge_id,
    "list_id": lambda w: w.list_id,
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass
class World:
    """What the walker needs: a valid badge, a status list and a committee token."""

    badge_id: str
    list_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class UnfillableRule(AssertionError):
    """A rule has a parameter the walker does not know how to fill."""


def fill(rule: Rule, world: World, *, override: dict[str, str] | None = None) -> str:
    """Return a concrete path for ``rule``."""
    values: dict[str, Any] = {}
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)  # noqa: SLF001 - werkzeug exposes no public accessor
        if override and name in override:
            values[name] = override[name]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif name in PARAM_FACTORIES:
            values[name] = PARAM_FACTORIES[name](world)
        elif name in PARAM_VALUES:
            values[name] = PARAM_VALUES[name]
        else:
            raise UnfillableRule(
                f"route {rule.rule} has parameter <{name}> that tests/functional/route_walker.py cannot fill: "
                "add a plausible value to PARAM_VALUES or PARAM_FACTORIES")
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", str(value))
        for conv in ("string", "int", "path", "any", "uuid", "float"):
            path = path.replace(f"<{conv}:{name}>", str(value))
    assert "<" not in path, f"could not fill {rule.rule}"
    return path


def rules(app: Flask) -> list[Rule]:
    """Return every rule of the app, sorted for stable test output."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def requests_for(app: Flask, world: World) -> Iterator[tuple[Rule, str, str]]:
    """Yield (rule, method, path) for every rule and every method (allowed or not)."""
    for rule in rules(app):
        path = fill(rule, world)
        for method in METHODS:
            yield rule, method, path


def make_world(app: Flask, issue_badge: Callable[..., str]) -> World:
    """Issue a badge and create a committee administrator with an API token."""
    from verifier.storage.models import StatusSlot

    badge_id = issue_badge(hosts=("shop.example.com",))
    with app.app_context():
        context.begin_write()
        accounts = context.account_service()
        accounts.create("walker", "correct-horse-battery-staple-9", role="committee")
        token = accounts.issue_token("walker", label="route walker")
        list_id = context.session().execute(select(StatusSlot.list_id).limit(1)).scalar_one()
        context.session().commit()
    return World(badge_id=badge_id, list_id=list_id, token=token)


def send(client: Any, method: str, path: str, world: World, **kwargs: Any) -> Any:
    """Send one request with the committee token (JSON ``{}`` body for writes unless given)."""
    headers = {**world.auth, **kwargs.pop("headers", {})}
    if method in {"POST", "PUT", "PATCH"} and "data" not in kwargs and "json" not in kwargs:
        kwargs["json"] = {}
    return client.open(path, method=method, headers=headers, **kwargs)
