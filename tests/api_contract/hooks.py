"""What the OpenAPI schema cannot say, told to schemathesis's request generator.

Every rule about a single field (type, bounds, pattern, enum) is in the schema, and a
request that keeps them must be accepted. Rules *across* fields ("from" before "to", a
profile's periods in order, a battery's min_soc below its max_soc) are stated in the
operations' descriptions and checked by the input models; JSON Schema cannot express
them, so generated requests that break only such a rule are not sent. The rule comes
from the same input models the server uses, so nothing is restated here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import schemathesis
from pydantic import ValidationError

from ev_charging_system.business_logic.operations import build_catalogue
from ev_charging_system.business_logic.operations.catalogue import AnyOperation, Http

CATALOGUE = build_catalogue()
ROUTES: dict[tuple[str, str], tuple[AnyOperation, Http]] = {
    (binding.method, binding.path): (operation, binding)
    for operation in CATALOGUE
    for binding in operation.http
}
CROSS_FIELD = frozenset({"value_error", "assertion_error"})


def _arguments(binding: Http, case: Any) -> dict[str, Any]:
    # Schemathesis hands path parameters over already percent-encoded for the URL.
    raw: dict[str, Any] = {
        name: unquote(value) if isinstance(value, str) else value
        for name, value in (case.path_parameters or {}).items()
    }
    aliases = {alias: name for name, alias in binding.query_aliases.items()}
    for key, value in (case.query or {}).items():
        raw[aliases.get(key, key)] = value
    body = case.body
    if binding.body_field is not None:
        raw[binding.body_field] = body
    elif isinstance(body, dict):
        raw |= body
    return raw


def breaks_only_cross_field_rules(operation: AnyOperation, raw: dict[str, Any]) -> bool:
    try:
        operation.input.model_validate(raw)
    except ValidationError as error:
        return all(problem["type"] in CROSS_FIELD for problem in error.errors())
    return False


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    template = re.sub(r"\{(\w+)\}", r"{\1}", case.operation.path)
    route = ROUTES.get((case.method.upper(), template))
    if route is None:
        return True
    operation, binding = route
    return not breaks_only_cross_field_rules(operation, _arguments(binding, case))
