"""Schemathesis against the API, in-process, driven by the document the API serves.

Every operation (the reads, then the writes) is fuzzed as an agent, an admin and a customer,
each with a full-ability bearer token of their own: schema-valid and schema-invalid path
parameters, query strings and bodies, and valid ones whose path ids are the rows of a seeded
world (one of everything the API addresses), so the fuzzer reaches the serializers and not only
the 404s. Each response is
checked by schemathesis: no 5xx, a status the operation declares, a body that validates against
the declared schema, and the declared content type. A response the document does not declare
is a failure here, never filtered: the fix is in the code or in the declared contract.

The run is bounded: MAX_EXAMPLES cases per operation and mode, derandomized (the same cases on
every run, so CI is repeatable); the module takes about two minutes on SQLite on two cores, and
each identity's reads or writes fail past BUDGET_SECONDS (a run that grows out of CI's time is a
failure to look at, not a silent slowdown).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ..web_api.conftest import _PLACEHOLDERS

DOCUMENT = "/support/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance]
#: Cases per operation and generation mode: the run's bound (derandomized, so the same cases
#: every run; about two minutes for the module on SQLite on two cores).
MAX_EXAMPLES = 3
#: The most one identity's reads or writes may take (about 40 times their usual time: generous
#: on a busy machine, but a generator or endpoint gone slow fails instead of eating CI's time).
BUDGET_SECONDS = 600
_PARAM = re.compile(r"\{(\w+)\}")


@pytest.fixture
def api_schema(app, users, world):
    """The document as the app serves it, bound to the app: calls go through its WSGI
    interface in this process."""
    return schemathesis.openapi.from_wsgi(DOCUMENT, app)


def world_key(path: str, name: str) -> str | None:
    """The ``world`` key whose row a path parameter names (None: a literal below)."""
    if name == "rule_id":
        return "e" if "escalation" in path else "f" if "workflow" in path else "m"
    if name == "slug":
        return "s" if path.startswith("/statuses/") else None
    return _PLACEHOLDERS[name]


def seeded(operation: Any, rows: dict[str, Any]) -> dict[str, Any]:
    """Path parameters naming existing rows (a role's and a tag's slug is ``seed``)."""
    values: dict[str, Any] = {}
    for name in _PARAM.findall(operation.path):
        key = world_key(operation.path, name)
        value = rows[key] if key else "seed"
        values[name] = str(value) if name in ("ident", "slug") else value
    return values


def with_path(case: Any, values: dict[str, Any]) -> Any:
    case.path_parameters = {**(case.path_parameters or {}), **values}
    return case


def cases(operation: Any, rows: dict[str, Any]) -> st.SearchStrategy[Any]:
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    strategies = [positive, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
    if "{" in operation.path:
        values = seeded(operation, rows)
        strategies.append(positive.map(lambda case: with_path(case, values)))
    return st.one_of(strategies)


def fuzz(operation: Any, rows: dict[str, Any], credentials: dict[str, Any]) -> None:
    """Generated cases of one operation, each called and checked."""

    @given(case=cases(operation, rows))
    @settings(max_examples=MAX_EXAMPLES * 3, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, **credentials)

    run()


#: The operations each run fuzzes: reads, then writes (on a fresh world each time).
KINDS = {"reads": ("GET",), "writes": ("POST", "PUT", "PATCH", "DELETE")}
#: Who calls, each with a bearer token of their own.
IDENTITIES = ["agent", "admin", "customer"]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("identity", IDENTITIES)
def test_operations(identity, kind, users, world, bearer, api_schema, subtests):
    credentials = {"headers": bearer(getattr(users, identity))}
    selected = api_schema.include(method=list(KINDS[kind]))
    operations = [result.ok() for result in selected.get_all_operations()]
    assert len(operations) > 40
    started = time.monotonic()
    for operation in operations:
        with subtests.test(operation.label):
            fuzz(operation, world, credentials)
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET_SECONDS, f"{identity} {kind}: {elapsed:.0f} s"


@pytest.mark.parametrize("identity", IDENTITIES)
def test_each_identity_is_who_it_says(identity, users, world, bearer, api_schema):
    """The credentials reach the app as that person through the fuzzer's transport (a lost
    header would fuzz every operation as anonymous and prove little)."""
    credentials = {"headers": bearer(getattr(users, identity))}
    me = api_schema["/me"]["GET"].Case().call(**credentials)
    assert me.status_code == 200, me.text[:300]
    assert me.json()["data"]["user"]["id"] == str(getattr(users, identity).id)
    token = api_schema["/api-tokens"]["POST"].Case(body={"name": "probe"}).call(**credentials)
    assert token.status_code == 403, token.text[:300]  # tokens come from a session only
