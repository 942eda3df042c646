"""Schemathesis against /openapi.json, in-process: every operation, positive and negative data.

Checks: no server error, status code / content type / headers / body conform
to the document, invalid requests are refused and valid ones accepted. The
operations are read from the live document, so operations contributed by
feature modules are covered once they merge. (The schemathesis pytest plugin's
``from_fixture`` does not work with pytest 9 yet, so each operation's strategy
is driven by hypothesis directly.)
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig

from tests.functional.route_walker import World, make_world
from verifier.app import ADMIN_PACKAGES, PUBLIC_PACKAGES
from verifier.web.openapi import build_document

EXAMPLES = 200 if os.environ.get("CI") else 30
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in build_document(public_url="http://127.0.0.1:8000", packages=PUBLIC_PACKAGES + ADMIN_PACKAGES)["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)

#: Operations whose schema-valid input can still be refused with 400 because validity depends on
#: data the document cannot describe; only ``positive_data_acceptance`` is skipped for these.
DATA_DEPENDENT = {
    # ``branch`` must name a branch row in the database (branches are data, so no enum), and
    # ``shop_url`` / ``hosts`` must be http(s) URLs and host names: an unknown branch is a 400.
    ("/api/v1/admin/badges", "POST"),
    # ``valid_days`` added to the badge's current end may not pass 3650 days from now: how many days are
    # still allowed depends on the badge's stored end date, which the document cannot describe.
    ("/api/v1/admin/badges/{badge_id}/renew", "POST"),
}


#: schemathesis's default statuses for "invalid data was refused", plus 413: every request body is
#: capped before any view runs, so a negative case whose oversized string breaks the cap is refused
#: with 413 ``too_large`` (documented on every operation with a body) before its other faults are read.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": [
    "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]}}})


def _mutates_authorization(case) -> bool:
    """Return whether a negative case was made invalid through its Authorization header."""
    data = case.meta.phase.data if case.meta is not None else None
    return any(m.parameter_location is not None and m.parameter_location.value == "header"
               and (m.parameter or "").lower() == "authorization" for m in getattr(data, "mutations", ()))


@pytest.fixture
def world(app, issue_badge) -> World:
    """Return a live badge, its status list and a committee token."""
    return make_world(app, issue_badge)


def test_document_lists_operations():
    assert ("/api/v1/verify", "POST") in OPERATIONS and len(OPERATIONS) >= 5


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_operation_conforms_to_the_document(app, world, path, method, mode):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)
    operation = schema[path][method]
    # Sometimes use real ids so that the 200 branches are exercised, not only the errors.
    known = {"badge_id": world.badge_id, "list_id": world.list_id}
    strategies = [operation.as_strategy(generation_mode=mode)]
    wanted = {p.name for p in operation.path_parameters} & known.keys()
    if wanted and mode is GenerationMode.POSITIVE:
        strategies.append(operation.as_strategy(generation_mode=mode,
                                                path_parameters={k: known[k] for k in wanted}))
    # A multipart upload the schema calls valid ("any binary file") is rightly refused
    # when it is not an image; the schema cannot say "a real picture", so that one
    # check is skipped for multipart operations. Every other check stays on.
    load_all_checks()
    from schemathesis.checks import positive_data_acceptance

    multipart = "multipart/form-data" in str(operation.definition.raw.get("requestBody", {}))
    excluded = [positive_data_acceptance] if multipart or (path, method) in DATA_DEPENDENT else []
    calls = []

    for strategy in strategies:
        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                         HealthCheck.function_scoped_fixture])
        def run(case):
            calls.append(case)
            # The committee token replaces the generated one so that the 200 branches run, except
            # when the negative case is *about* the Authorization header (left out or mangled):
            # putting a good token back would turn it into a valid request that is rightly accepted.
            headers = {} if _mutates_authorization(case) else world.auth
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        try:
            run()
        except Unsatisfiable:
            # Negative mode on an operation with no inputs at all: nothing can be made invalid.
            # Likewise an operation whose only input is a path holding any string (``/log/tile/{tile_path}``:
            # a tile path has slashes, which no path pattern may describe): every value is in the schema,
            # and the route answers a malformed one with 404 (tests/unit/verifier/test_transparency_log.py).
            free_path = (not operation.query and not operation.body and all(
                set(p.definition.get("schema", {})) == {"type"} for p in operation.path_parameters))
            has_inputs = bool(operation.path_parameters or operation.query or operation.body) and not free_path
            if mode is GenerationMode.POSITIVE or has_inputs:
                raise
    print(f"\n{method} {path} [{mode.value}]: {len(calls)} examples")
    assert calls or mode is GenerationMode.NEGATIVE
