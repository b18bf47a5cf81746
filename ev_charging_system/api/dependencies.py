"""Typed FastAPI dependencies: what the routes need, and who is calling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ev_charging_system.business_logic.events import EventBus
from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.business_logic.operations.runner import OperationRunner
from ev_charging_system.business_logic.ports import StorageHealth
from ev_charging_system.business_logic.token_service import TokenService


@dataclass(frozen=True, slots=True)
class ApiServices:
    operations: OperationRunner
    events: EventBus
    database: StorageHealth
    online_count: Callable[[], int]
    tokens: TokenService


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(_services)]

_bearer = HTTPBearer(
    auto_error=False,
    description="API_TOKEN from the settings, or a token made with `python main.py create-token`",
)


def _client(request: Request) -> str | None:
    return f"{request.client.host}:{request.client.port}" if request.client else None


async def _rest_actor(
    request: Request,
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Who is calling. No token, or one that is unknown or revoked: 401 at once, before
    anything else about the request is looked at."""
    if credentials is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="sign in: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    holder = await services.tokens.holder(credentials.credentials)
    if holder is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="unknown or revoked token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Actor(f"rest:{holder.name}", Channel.REST, holder.role, _client(request))


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
