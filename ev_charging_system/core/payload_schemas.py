"""OCPP payload validation against the `ocpp` library's JSON schemas, compiled to code.

The library validates every payload with jsonschema's interpreter: a fifth of the CPU a
MeterValues message cost (two validations per call, measured with benchmarks/ocpp_load).
Here each schema is compiled once by fastjsonschema, with the library's own semantics
(draft 4 whatever the file declares, formats not checked, defaults never filled in).

Only acceptance is decided here. A payload the compiled check rejects is handed to the
library's validator, so that a CALLERROR carries exactly the library's code and cause; and
a schema the compiled check could judge differently (decimal `multipleOf`, which the
library checks on Decimals) always goes to the library.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
from ocpp.messages import Call, CallResult, MessageType
from ocpp.messages import _validate_payload as library_validate

_SCHEMA_ROOT = Path(ocpp.__file__).parent
_DRAFT_4 = "http://json-schema.org/draft-04/schema#"

Check = Callable[[Any], Any]


def validate_payload(message: Call | CallResult, ocpp_version: str) -> None:
    """Raise the library's OCPPError for an invalid payload; return for a valid one."""
    check = _compiled(message.message_type_id, message.action, ocpp_version)
    if check is not None:
        try:
            check(message.payload)
            return
        except fastjsonschema.JsonSchemaException:
            pass  # the library names the violation
    library_validate(message, ocpp_version)


@cache
def _compiled(message_type_id: int, action: str, ocpp_version: str) -> Check | None:
    """The compiled check of a schema, or None where only the library may judge."""
    path = _schema_path(message_type_id, action, ocpp_version)
    if path is None or not path.is_file():
        return None  # the library reports the unknown action in its own words
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    if _uses_keyword(schema, "multipleOf"):
        return None
    schema["$schema"] = _DRAFT_4  # the library's Draft4Validator ignores the declared draft
    check: Check = fastjsonschema.compile(
        schema, use_default=False, use_formats=False, detailed_exceptions=False
    )
    return check


def _schema_path(message_type_id: int, action: str, ocpp_version: str) -> Path | None:
    """The file the library reads for this message (mirrors `ocpp.messages.get_validator`)."""
    if ocpp_version not in ("1.6", "2.0.1"):
        return None
    name = action
    if message_type_id == MessageType.CallResult:
        name += "Response"
    elif ocpp_version == "2.0.1":
        name += "Request"
    return _SCHEMA_ROOT / f"v{ocpp_version.replace('.', '')}" / "schemas" / f"{name}.json"


def _uses_keyword(schema: Any, keyword: str) -> bool:
    if isinstance(schema, dict):
        return keyword in schema or any(_uses_keyword(v, keyword) for v in schema.values())
    if isinstance(schema, list):
        return any(_uses_keyword(item, keyword) for item in schema)
    return False
