"""What every HTTP response and request passes through: host check, body limit, headers.

Plain ASGI middleware (no buffering of bodies): a request body is counted as it arrives
and refused with 413 the moment it passes the limit, so a 5 MB upload costs at most the
limit in memory. Refusals are JSON with a `detail` saying what to change, never an echo
of what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_HEADERS = [(b"content-type", b"application/json")]
# For API answers (JSON): nothing may be loaded or framed. Pages set their own policy.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The OpenAPI pages (Swagger UI, ReDoc) load their scripts from a CDN and run one inline.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for request bodies over `max_bytes`, whether announced (Content-Length) or not.

    The body is read before the application runs, up to the limit and no further, then
    handed on as it came: memory per request is bounded by the limit, and the application
    never sees a part of a body it will not get whole.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, setting: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.setting = setting

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes (setting {self.setting})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    await _refuse(send, 400, "Content-Length is not a number")
                    return
                if announced > self.max_bytes:
                    await _refuse(send, 413, self._detail())
                    return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the application see it
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _refuse(send, 413, self._detail())
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


class AllowedHosts:
    """400 for a Host header that is not ours (DNS rebinding; a proxy misconfiguration)."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str], setting: str) -> None:
        self.app = app
        self.exact = {h.lower() for h in hosts if not h.startswith("*.")} - {"*"}
        self.suffixes = tuple(h[1:].lower() for h in hosts if h.startswith("*."))
        self.any = "*" in hosts
        self.setting = setting

    def allowed(self, host: str) -> bool:
        if self.any:
            return True
        name = host.lower()
        if name.startswith("["):  # [::1]:8001
            name = name.split("]", 1)[0] + "]"
        else:
            name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        return name in self.exact or name.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"host"), "")
        if not self.allowed(host):
            await _refuse(
                send,
                400,
                f"this server does not answer to the host name {host!r}; add it to "
                f"{self.setting} (a JSON list) if it is really ours",
            )
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """nosniff, no referrer and a Content-Security-Policy on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = (
            DOCS_CONTENT_SECURITY_POLICY
            if scope.get("path", "") in DOCS_PATHS
            else API_CONTENT_SECURITY_POLICY
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [
                    (name, value) for name, value in _defaults(policy) if name not in present
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _defaults(policy: str) -> Iterable[tuple[bytes, bytes]]:
    yield b"x-content-type-options", b"nosniff"
    yield b"referrer-policy", b"no-referrer"
    yield b"content-security-policy", policy.encode()
    yield b"x-frame-options", b"DENY"


def without_inputs(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors without the rejected values: a body is never echoed back. The
    context (the bound that was broken, the quantity a domain error names) stays."""
    cleaned = []
    for error in errors:
        item = {k: v for k, v in dict(error).items() if k not in ("input", "ctx", "url")}
        if isinstance(error.get("ctx"), dict):
            item["ctx"] = {name: _safe(value) for name, value in error["ctx"].items()}
        cleaned.append(item)
    return cleaned


def _safe(value: Any) -> Any:
    if isinstance(value, Exception):
        described: dict[str, Any] = {"message": str(value)}
        quantity = getattr(value, "quantity", None)
        if isinstance(quantity, str):
            described["quantity"] = quantity
        return described
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
