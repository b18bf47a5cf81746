"""The bounds of configuration fields, declared once, on the field's type.

A field is annotated with its bounds (`Kw`, `Fraction`, `Annotated[float, Ge(..)]` ...,
annotated-types markers): `check_fields` enforces them when a configuration is built in
Python (raising `PhysicalLimitError` naming the field), and pydantic reads the very same
markers when a configuration arrives over REST/MCP, so the published JSON Schema carries
every single-field bound the energy package checks (minimum, maximum, lengths). Rules
across fields stay in each class's `__post_init__`.

Upper bounds are generous (a site is not a power station) but finite: a kW figure of
1e308 would overflow into infinities deep inside the planner.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from dataclasses import fields
from datetime import time
from typing import Annotated, Any, Union

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic_core import core_schema

from ev_charging_system.energy.errors import PhysicalLimitError

MAX_KW = 1_000_000.0  # power, any field
MAX_KWH = 1_000_000.0  # energy, any field
MAX_ID_LENGTH = 64
MAX_ITEMS = 64  # vehicles, circuits, deferrable loads of one site

# A configuration class's `__pydantic_config__` (a plain mapping, so the energy package
# needs no pydantic): unknown fields are refused, and the schema says so.
CLOSED: Mapping[str, str] = {"extra": "forbid"}  # (a dict: pydantic reads it as ConfigDict)

Kw = Annotated[float, Ge(0), Le(MAX_KW)]
PositiveKw = Annotated[float, Gt(0), Le(MAX_KW)]
Kwh = Annotated[float, Ge(0), Le(MAX_KWH)]
PositiveKwh = Annotated[float, Gt(0), Le(MAX_KWH)]
Fraction = Annotated[float, Ge(0), Le(1)]
Efficiency = Annotated[float, Gt(0), Le(1)]
Identifier = Annotated[str, MinLen(1), MaxLen(MAX_ID_LENGTH)]


def _without_offset(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, time) else value


class ClockTime:
    """Marks a `datetime.time` field as a local clock time without offset ("07:00").

    Pydantic's default schema for a time says `format: time`, which JSON Schema defines
    as RFC 3339 full-time, with an offset: "07:00:00" would not match it. A site-local
    departure has no offset, so the schema says what is accepted.
    """

    PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        # Whatever form a time arrives in (pydantic also reads seconds since midnight,
        # which come back with a UTC offset), a site-local clock time carries none.
        return core_schema.no_info_after_validator_function(_without_offset, handler(source))

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = dict(handler(core_schema))
        schema.pop("format", None)
        schema["pattern"] = cls.PATTERN
        schema.setdefault("description", "site-local clock time, HH:MM or HH:MM:SS")
        return schema


_Constraints = tuple[tuple[str, tuple[object, ...]], ...]
_CONSTRAINTS: dict[type, _Constraints] = {}  # per class: read once, checked often


def _constraints(cls: type) -> _Constraints:
    found = _CONSTRAINTS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        found = tuple(
            (f.name, markers) for f in fields(cls) if (markers := _markers(hints[f.name]))
        )
        _CONSTRAINTS[cls] = found
    return found


def _markers(hint: object) -> tuple[object, ...]:
    """The annotated-types markers of a hint, looking inside `X | None`."""
    if typing.get_origin(hint) is Annotated:
        return tuple(typing.get_args(hint)[1:])
    if typing.get_origin(hint) in (Union, types.UnionType):
        return tuple(m for arg in typing.get_args(hint) for m in _markers(arg))
    return ()


def check_fields(obj: object, prefix: str) -> None:
    """Enforce the bounds annotated on a dataclass's fields (None passes: optional)."""
    for name, markers in _constraints(type(obj)):
        value = getattr(obj, name)
        if value is None:
            continue
        quantity = f"{prefix}.{name}"
        if isinstance(value, float | int) and not isinstance(value, bool):
            _check_number(quantity, float(value), markers)
        elif isinstance(value, str | tuple):
            _check_length(quantity, len(value), markers)


def _check_number(quantity: str, value: float, markers: tuple[object, ...]) -> None:
    if not math.isfinite(value):
        raise PhysicalLimitError(quantity, f"must be a finite number, got {value!r}")
    for marker in markers:
        if isinstance(marker, Ge) and not value >= marker.ge:  # type: ignore[operator]
            raise PhysicalLimitError(quantity, f"must be at least {marker.ge:g}, got {value:g}")
        if isinstance(marker, Gt) and not value > marker.gt:  # type: ignore[operator]
            raise PhysicalLimitError(quantity, f"must be above {marker.gt:g}, got {value:g}")
        if isinstance(marker, Le) and not value <= marker.le:  # type: ignore[operator]
            raise PhysicalLimitError(quantity, f"must be at most {marker.le:g}, got {value:g}")
        if isinstance(marker, Lt) and not value < marker.lt:  # type: ignore[operator]
            raise PhysicalLimitError(quantity, f"must be below {marker.lt:g}, got {value:g}")


def _check_length(quantity: str, length: int, markers: tuple[object, ...]) -> None:
    for marker in markers:
        if isinstance(marker, MinLen) and length < marker.min_length:
            what = "must not be empty" if marker.min_length == 1 else "is too short"
            raise PhysicalLimitError(quantity, what)
        if isinstance(marker, MaxLen) and length > marker.max_length:
            raise PhysicalLimitError(
                quantity, f"must have at most {marker.max_length} items/characters"
            )
