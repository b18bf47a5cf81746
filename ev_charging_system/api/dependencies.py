"""Typed FastAPI dependencies: what the routes need, and who is calling."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ev_charging_system.business_logic.events import EventBus
from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.business_logic.operations.runner import OperationRunner


@dataclass(frozen=True, slots=True)
class ApiServices:
    operations: OperationRunner
    events: EventBus
    database_ping: Callable[[], Awaitable[None]]
    online_count: Callable[[], int]
    api_token: str


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(_services)]

_bearer = HTTPBearer(auto_error=False, description="API_TOKEN from the settings")


def _client(request: Request) -> str | None:
    return f"{request.client.host}:{request.client.port}" if request.client else None


def _rest_actor(
    request: Request,
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Who is calling. Without a token: an anonymous reader (operations needing more get
    401); a token that is not ours: 401 at once, whatever the route."""
    if credentials is None:
        return Actor("rest:anonymous", Channel.REST, Role.VIEWER, _client(request), False)
    if not secrets.compare_digest(credentials.credentials.encode(), services.api_token.encode()):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="unknown bearer token: send 'Authorization: Bearer <API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Actor("rest:api-token", Channel.REST, Role.ADMIN, _client(request))


RestActor = Annotated[Actor, Depends(_rest_actor)]


def require_operator(actor: RestActor) -> Actor:
    """For the few routes outside the catalogue that act (the chat)."""
    if not actor.authenticated:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="This endpoint changes data: send 'Authorization: Bearer <API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not actor.may(Role.OPERATOR):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="needs an operator")
    return actor


Operator = Annotated[Actor, Depends(require_operator)]
