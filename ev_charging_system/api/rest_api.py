"""The REST application: routers, error mapping, health."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ev_charging_system.api import (
    charge_point_routes,
    chat_routes,
    command_routes,
    dashboard,
    energy_routes,
    id_tag_routes,
    insight_routes,
    transaction_routes,
)
from ev_charging_system.api.dependencies import ApiServices, Services
from ev_charging_system.api.schemas import HealthOut
from ev_charging_system.models.errors import (
    CommandError,
    CommandNotSupportedError,
    CommandQueueFullError,
    CommandTimeoutError,
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    StationCallError,
    StationOfflineError,
)

logger = logging.getLogger(__name__)

_STATUS_OF_ERROR: list[tuple[type[DomainError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (StationOfflineError, 409),
    (CommandTimeoutError, 504),
    (StationCallError, 502),
    (CommandNotSupportedError, 422),
    (CommandQueueFullError, 429),
    (CommandError, 502),
]


def create_rest_app(services: ApiServices) -> FastAPI:
    app = FastAPI(
        title="ev_charging_system",
        summary="Charging-station management (OCPP 1.6J) with site energy coordination",
        description=(
            "Read endpoints are open; endpoints that change data need "
            "`Authorization: Bearer <API_TOKEN>`."
        ),
        version="0.1.0",
    )
    app.state.services = services

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: Exception) -> JSONResponse:
        code = next((c for kind, c in _STATUS_OF_ERROR if isinstance(error, kind)), 400)
        body: dict[str, str] = {"detail": str(error)}
        if isinstance(error, StationCallError):
            body |= {"error_code": error.code, "error_description": error.description}
        return JSONResponse(status_code=code, content=body)

    @app.get("/api/health", response_model=HealthOut, tags=["health"])
    async def health(services: Services) -> JSONResponse:
        try:
            await services.database_ping()
            database = "ok"
        except Exception as error:
            logger.warning("health check: database unreachable: %s", error)
            database = "unreachable"
        body = HealthOut(
            status="ok" if database == "ok" else "degraded",
            database=database,
            stations_online=services.devices.online_count(),
        )
        return JSONResponse(status_code=200 if database == "ok" else 503, content=body.model_dump())

    app.include_router(charge_point_routes.router)
    app.include_router(id_tag_routes.router)
    app.include_router(transaction_routes.router)
    app.include_router(command_routes.router)
    app.include_router(insight_routes.router)
    app.include_router(energy_routes.router)
    app.include_router(chat_routes.router)
    app.include_router(dashboard.router)
    return app
