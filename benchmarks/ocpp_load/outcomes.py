"""What a failed connection attempt was: an explicit refusal, or a silent failure.

The difference is the point of the storm measurement: a server that is overloaded should
say so (HTTP 503 with Retry-After during the handshake, a close frame with a code, a
CALLERROR), so that stations back off as asked and operators can count refusals; a
handshake that times out or a socket reset without a word is a silent drop.
"""

from __future__ import annotations

from dataclasses import dataclass

from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from benchmarks.ocpp_load.retry import parse_retry_after


@dataclass(frozen=True, slots=True)
class Failure:
    explicit: bool  # the server said no: an HTTP status, a close code, a CALLERROR
    label: str  # "HTTP 503", "close 1013", "handshake timeout", ...
    retry_after: float | None = None  # seconds the server asked the station to wait


def classify(error: BaseException, stage: str) -> Failure:
    """`stage` names what was being waited for ("handshake", "boot reply")."""
    if isinstance(error, InvalidStatus):
        response = error.response
        return Failure(
            explicit=True,
            label=f"HTTP {response.status_code}",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if isinstance(error, ConnectionClosed):
        if error.rcvd is not None:
            return Failure(explicit=True, label=f"close {error.rcvd.code}")
        return Failure(explicit=False, label=f"closed without a close frame ({stage})")
    if isinstance(error, TimeoutError):
        return Failure(explicit=False, label=f"{stage} timeout")
    if isinstance(error, ConnectionRefusedError):
        return Failure(explicit=False, label="TCP refused")
    if isinstance(error, ConnectionResetError | BrokenPipeError):
        return Failure(explicit=False, label=f"reset ({stage})")
    if isinstance(error, InvalidMessage | EOFError):
        return Failure(explicit=False, label=f"no HTTP response ({stage})")
    return Failure(explicit=False, label=f"{type(error).__name__} ({stage})")
