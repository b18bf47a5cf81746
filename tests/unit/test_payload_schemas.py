"""The compiled payload check agrees with the `ocpp` library's validator on every schema.

A payload the compiled check accepts is never validated again, so it must never accept
what the library would refuse; payloads are generated from each schema, mostly valid,
with odd values (1.0 for an integer, booleans, long strings, extra or missing fields)
planted at random places.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ocpp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallResult
from ocpp.messages import _validate_payload as library_validate

from ev_charging_system.core.payload_schemas import validate_payload

ROOT = Path(ocpp.__file__).parent

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    -1,
    2.5,
    "",
    "x",
    "x" * 600,
    [],
    {},
    {"vendorId": "acme"},
    "2026-12-07T10:00:00Z",
    "not a time",
]


def schema_files() -> list[tuple[str, Path]]:
    files = [("1.6", p) for p in sorted((ROOT / "v16" / "schemas").glob("*.json"))]
    files += [("2.0.1", p) for p in sorted((ROOT / "v201" / "schemas").glob("*.json"))]
    return files


def message_for(version: str, path: Path, payload: Any) -> Call | CallResult:
    name = path.stem
    if name.endswith("Response"):
        return CallResult("1", payload, name.removesuffix("Response"))
    return Call("1", name.removesuffix("Request") if version == "2.0.1" else name, payload)


def odd() -> st.SearchStrategy[Any]:
    return st.sampled_from(ODD_VALUES)


def instances(
    schema: dict[str, Any], root: dict[str, Any], depth: int = 0, noise: bool = True
) -> Any:
    """Instances of `schema`; with `noise`, an odd value or a near miss now and then."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return instances(target, root, depth, noise)
    valid = _valid_instances(schema, root, depth, noise)
    if not depth or not noise:
        return valid
    return st.integers(0, 15).flatmap(lambda n: odd() if n == 0 else valid)


def _valid_instances(schema: dict[str, Any], root: dict[str, Any], depth: int, noise: bool) -> Any:
    """Valid values of the schema's type, with a near miss (one past a bound, a
    whole-number float for an integer) one time in eight."""
    valid, near_miss = _valid_and_near_miss(schema, root, depth, noise)
    if not noise:
        return valid
    return st.integers(0, 7).flatmap(lambda n: near_miss if n == 0 else valid)


def _valid_and_near_miss(
    schema: dict[str, Any], root: dict[str, Any], depth: int, noise: bool
) -> Any:
    if "enum" in schema:
        return st.sampled_from(schema["enum"]), st.just("NotInTheEnum")
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _objects(schema, root, depth, noise), st.just([])
    if kind == "array":
        low = schema.get("minItems", 0)
        high = schema.get("maxItems", low + 3)
        items = instances(schema.get("items", {}), root, depth + 1, noise)
        return (
            st.lists(items, min_size=low, max_size=min(high, low + 3)),
            st.lists(items, min_size=high + 1, max_size=high + 1) if low == 0 else st.just([]),
        )
    if kind == "string":
        limit = schema.get("maxLength", 40)
        return (
            st.one_of(st.text(max_size=min(limit, 30)), st.just("y" * limit)),
            st.just("y" * (limit + 1)),
        )
    if kind == "integer":
        return st.integers(-(2**40), 2**40), st.sampled_from([3.0, -0.0, "3"])
    if kind == "number":
        return (
            st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=False, width=32)),
            st.sampled_from(["1.5", None]),
        )
    if kind == "boolean":
        return st.booleans(), st.sampled_from([0, "true"])
    return odd(), odd()


def _objects(schema: dict[str, Any], root: dict[str, Any], depth: int, noise: bool) -> Any:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = {
        name: instances(sub, root, depth + 1, noise) for name, sub in sorted(properties.items())
    }

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, strategy in fields.items():
            keep = name in required or draw(st.booleans())
            if noise and name in required and draw(st.integers(0, 40)) == 0:
                keep = False  # a required field missing, now and then
            if keep:
                result[name] = draw(strategy)
        if noise and draw(st.integers(0, 30)) == 0:
            result["unexpectedField"] = draw(odd())
        return result

    return build()


def library_accepts(message: Call | CallResult, version: str) -> bool:
    try:
        library_validate(message, version)
    except OCPPError:
        return False
    return True


def compiled_accepts(message: Call | CallResult, version: str) -> bool:
    try:
        validate_payload(message, version)
    except OCPPError:
        return False
    return True


@pytest.mark.parametrize(("version", "path"), schema_files(), ids=lambda v: getattr(v, "stem", v))
def test_the_compiled_check_judges_every_payload_as_the_library_does(
    version: str, path: Path
) -> None:
    schema = json.loads(path.read_text(encoding="utf-8-sig"))

    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.one_of(instances(schema, schema), instances(schema, schema, noise=False)))
    def agree(payload: Any) -> None:
        # Each side gets its own copy: the library rewrites some payloads in place.
        ours = compiled_accepts(message_for(version, path, _copy(payload)), version)
        theirs = library_accepts(message_for(version, path, _copy(payload)), version)
        assert ours == theirs, payload

    agree()


def test_a_rejected_payload_carries_the_library_s_error_code() -> None:
    meter_values = {"connectorId": 1.5, "meterValue": []}
    with pytest.raises(OCPPError) as ours:
        validate_payload(Call("1", "MeterValues", meter_values), "1.6")
    with pytest.raises(OCPPError) as theirs:
        library_validate(Call("1", "MeterValues", meter_values), "1.6")
    assert (ours.value.code, ours.value.description) == (
        theirs.value.code,
        theirs.value.description,
    )


def test_a_whole_number_written_as_a_float_is_not_an_integer_as_in_draft_4() -> None:
    payload = {"connectorId": 1.0, "meterValue": []}
    assert not compiled_accepts(Call("1", "MeterValues", payload), "1.6")


def _copy(payload: Any) -> Any:
    return json.loads(json.dumps(payload))
