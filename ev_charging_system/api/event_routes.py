"""GET /api/events: the domain events as Server-Sent Events.

Each event is `event: <type>` (e.g. connector.status_changed) and `data: <JSON>` with at
least `at` and, where one applies, `charge_point_id`. Filters: `charge_point_id` and
`type`, each repeatable. A client that reads too slowly loses its oldest events, never
holds up the stations: it is told with a `stream.dropped` event (how many so far). A
comment line every KEEPALIVE_SECONDS keeps proxies from closing a quiet stream.

In a cluster each event has an `id:` (its position in the cluster's event log): a client
that reconnects with `Last-Event-ID` (browsers do it by themselves), to any node, first
gets the events it missed that the log still holds; older ones count as dropped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from ev_charging_system.api.dependencies import RestActor, Services
from ev_charging_system.api.errors import ErrorOut
from ev_charging_system.business_logic.events import (
    EVENT_TYPE_NAMES,
    DomainEvent,
    EventFilter,
    PositionedSubscription,
    ResumableEventBus,
    Subscription,
    SubscriptionClosedError,
)
from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.models.errors import InvalidInputError, PermissionDeniedError

router = APIRouter(tags=["events"])

KEEPALIVE_SECONDS = 15.0
MAX_QUEUED_PER_CLIENT = 1_000
RETRY_MILLISECONDS = 3_000


def frame(event: DomainEvent, position: str | None = None) -> str:
    data = json.dumps(event.payload(), separators=(",", ":"))
    identity = f"id: {position}\n" if position is not None else ""
    return f"{identity}event: {event.type}\ndata: {data}\n\n"


async def _frames(
    request: Request, subscription: Subscription | PositionedSubscription
) -> AsyncIterator[str]:
    reported = 0
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(subscription.next(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            except SubscriptionClosedError:
                return
            if subscription.dropped > reported:
                reported = subscription.dropped
                yield f"event: stream.dropped\ndata: {json.dumps({'dropped': reported})}\n\n"
            # Only a cluster's log subscriptions have a position (in-process ones do not).
            yield frame(event, getattr(subscription, "position", None))
    finally:
        subscription.close()


@router.get(
    "/api/events",
    summary="Live domain events (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "the event stream"},
        401: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
)
async def events(
    services: Services,
    actor: RestActor,
    request: Request,
    charge_point_id: Annotated[list[str] | None, Query(max_length=100)] = None,
    type: Annotated[
        list[str] | None, Query(max_length=50, description=", ".join(sorted(EVENT_TYPE_NAMES)))
    ] = None,
) -> StreamingResponse:
    if not actor.may(Role.VIEWER):
        raise PermissionDeniedError(
            "the event stream needs a viewer: send 'Authorization: Bearer <token>'",
            authenticated=actor.authenticated,
        )
    unknown = sorted(set(type or ()) - EVENT_TYPE_NAMES)
    if unknown:
        raise InvalidInputError(
            f"unknown event type(s) {', '.join(unknown)}; known: "
            f"{', '.join(sorted(EVENT_TYPE_NAMES))}"
        )
    wanted = EventFilter.of(charge_point_id or (), type or ())
    subscription: Subscription
    if isinstance(services.events, ResumableEventBus):
        resume_after = request.headers.get("last-event-id")
        subscription = services.events.subscribe_from(resume_after, wanted, MAX_QUEUED_PER_CLIENT)
    else:
        subscription = services.events.subscribe(wanted, MAX_QUEUED_PER_CLIENT)
    return StreamingResponse(
        _frames(request, subscription),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
