"""camelCase <-> snake_case keys of OCPP payloads, as the `ocpp` library converts them,
with each distinct key converted once.

The library runs two regular expressions per key of every message (and a chain of string
replacements back); payloads use a few hundred distinct keys, so the conversions are
remembered (bounded: vendor `customData` may bring any key).
"""

from __future__ import annotations

import functools
from typing import Any

from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case

KEYS_REMEMBERED = 4096


@functools.lru_cache(maxsize=KEYS_REMEMBERED)
def _snake(key: str) -> str:
    return str(next(iter(camel_to_snake_case({key: None}))))


@functools.lru_cache(maxsize=KEYS_REMEMBERED)
def _camel(key: str) -> str:
    return str(next(iter(snake_to_camel_case({key: None}))))


def snake_case_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {_snake(key): snake_case_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [snake_case_keys(value) for value in data]
    return data


def camel_case_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {_camel(key): camel_case_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [camel_case_keys(value) for value in data]
    return data
