"""The REST application: routes derived from the operations catalogue, events, chat, health."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from ev_charging_system.api import chat_routes, dashboard, event_routes, metrics
from ev_charging_system.api.dependencies import ApiServices, Services
from ev_charging_system.api.errors import install_error_handlers
from ev_charging_system.api.http_guards import (
    AllowedHosts,
    BodyLimit,
    SecurityHeaders,
    without_inputs,
)
from ev_charging_system.api.operation_routes import operation_router

logger = logging.getLogger(__name__)

# The answer comes within 1 s; 0.5 s made a busy (not down) database look down in tests.
HEALTH_PROBE_SECONDS = 0.8


class HealthOut(BaseModel):
    status: str
    database: str
    stations_online: int


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_body_bytes: int
    allowed_hosts: Sequence[str]


def create_rest_app(
    services: ApiServices, limits: HttpLimits, metrics_registry: CollectorRegistry | None = None
) -> FastAPI:
    app = FastAPI(
        title="ev_charging_system",
        summary="Charging-station management (OCPP 1.6J and 2.0.1) with site energy coordination",
        description=(
            "Every operation here is also an MCP tool and a chat tool: the same validation, "
            "roles and audit. Read endpoints are open; endpoints that change data need "
            "`Authorization: Bearer <API_TOKEN>`. Live events: `GET /api/events` "
            "(Server-Sent Events)."
        ),
        version="0.2.0",
    )
    app.state.services = services
    install_error_handlers(app)
    # Last added runs first: the host is checked before the body is read.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes, setting="MAX_REQUEST_BODY_BYTES")
    app.add_middleware(AllowedHosts, hosts=limits.allowed_hosts, setting="REST_ALLOWED_HOSTS")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return JSONResponse(status_code=422, content={"detail": without_inputs(error.errors())})

    @app.get("/api/health", response_model=HealthOut, tags=["health"])
    async def health(services: Services) -> JSONResponse:
        # Answers within a second whatever the database does: the probe is shared by
        # concurrent checks and not waited for longer (the database logs its own state).
        answered = await services.database.probe(within=HEALTH_PROBE_SECONDS)
        database = "ok" if answered else "unreachable"
        body = HealthOut(
            status="ok" if database == "ok" else "degraded",
            database=database,
            stations_online=services.online_count(),
        )
        return JSONResponse(status_code=200 if database == "ok" else 503, content=body.model_dump())

    app.include_router(operation_router(services.operations.catalogue))
    app.include_router(event_routes.router)
    app.include_router(chat_routes.router)
    app.include_router(dashboard.router)
    app.state.metrics_registry = metrics_registry or CollectorRegistry(auto_describe=True)
    app.include_router(metrics.router)
    return app
