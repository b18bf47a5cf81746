"""Secrets are data with a type: one place decides what must never be shown or stored.

Input fields annotated with `Secret` are redacted wherever arguments are recorded (audit,
command log). Free-form values are recognised too: configuration keys and 2.0.1 variables
that hold credentials, and passwords inside URLs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel

REDACTED = "***"


class SecretMarker:
    """Metadata that marks a model field as secret (see `Secret`)."""

    def __repr__(self) -> str:
        return "Secret"


SECRET = SecretMarker()
Secret = Annotated[str, SECRET]

# OCPP 1.6 configuration keys and 2.0.1 variables whose value is a credential.
SECRET_KEYS = frozenset(
    {
        "authorizationkey",
        "basicauthpassword",
        "securityctrlr.basicauthpassword",
        "networkconnectionprofiles",
        "password",
        "certificate",
        "privatekey",
        "api_token",
        "token",
    }
)

_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@:\s]*):[^/@\s]*@"
)


def is_secret_key(key: str) -> bool:
    normal = key.strip().lower()
    return normal in SECRET_KEYS or normal.rsplit(".", 1)[-1] in SECRET_KEYS


_SECRET_NAME = re.compile(
    "|".join(re.escape(k) for k in sorted(SECRET_KEYS, key=len, reverse=True) if len(k) >= 8),
    re.IGNORECASE,
)
# A value next to the name of what it sets, in JSON or in a Python repr: "value": "x",
# 'attribute_value': 'x', "attributeValue":"x".
_QUOTED_VALUE = re.compile(
    r"""(?P<name>["']?(?:value|attributeValue|attribute_value)["']?\s*[:=]\s*)"""
    r"""(?P<quote>["'])(?:\\.|(?!(?P=quote)).)*(?P=quote)"""
)


def redact_text(text: str) -> str:
    """Passwords in URLs (ftp://user:pw@host) become ftp://user:***@host; in text that
    names a credential setting (a logged OCPP frame, a repr), every quoted value goes."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    if _SECRET_NAME.search(text):
        text = _QUOTED_VALUE.sub(lambda m: f"{m['name']}{m['quote']}{REDACTED}{m['quote']}", text)
    return text


def redact_value(value: Any) -> Any:
    """A JSON-ready value with credentials replaced, recursively."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        named = value.get("key", value.get("variable"))
        out: dict[str, Any] = {}
        for key, item in value.items():
            if (is_secret_key(str(key)) and item not in (None, "")) or (
                key == "value" and isinstance(named, str) and is_secret_key(named)
            ):
                out[key] = REDACTED
            else:
                out[key] = redact_value(item)
        return out
    return value


def redacted_dump(model: BaseModel) -> dict[str, Any]:
    """The model as JSON-ready data with every secret field and value redacted."""
    data: dict[str, Any] = model.model_dump(mode="json")
    for name, info in type(model).model_fields.items():
        if name in data and any(isinstance(m, SecretMarker) for m in info.metadata):
            data[name] = REDACTED if data[name] is not None else None
    redacted: dict[str, Any] = redact_value(data)
    return redacted
