"""Domain errors as HTTP answers: a status code and a JSON body, never a traceback."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ev_charging_system.models.errors import (
    CommandError,
    CommandNotSupportedError,
    CommandQueueFullError,
    CommandTimeoutError,
    ConflictError,
    DomainError,
    InputValidationError,
    InvalidInputError,
    LeaderTimeoutError,
    LeaderUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    StationCallError,
    StationOfflineError,
    StorageUnavailableError,
)


class ErrorOut(BaseModel):
    detail: str


class FieldErrorOut(BaseModel):
    field: str
    message: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: str | list[dict[str, object]]
    errors: list[FieldErrorOut] = []


class StationErrorOut(BaseModel):
    detail: str
    error_code: str | None = None
    error_description: str | None = None


STORAGE_RETRY_AFTER_SECONDS = 10

_STATUS_OF_ERROR: list[tuple[type[DomainError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (StationOfflineError, 409),
    (CommandTimeoutError, 504),
    (LeaderTimeoutError, 504),
    (StationCallError, 502),
    (CommandNotSupportedError, 422),
    (CommandQueueFullError, 429),
    (CommandError, 502),
]


def error_response(error: DomainError) -> JSONResponse:
    if isinstance(error, PermissionDeniedError):
        if not error.authenticated:
            return JSONResponse(
                status_code=401,
                content={"detail": str(error)},
                headers={"WWW-Authenticate": "Bearer"},
            )
        return JSONResponse(status_code=403, content={"detail": str(error)})
    if isinstance(error, StorageUnavailableError):
        return JSONResponse(
            status_code=503,
            content={"detail": str(error)},  # not error.reason: it names hosts and drivers
            headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(error, LeaderUnavailableError):
        return JSONResponse(
            status_code=503,
            content={"detail": str(error)},
            headers={"Retry-After": str(error.retry_after_seconds)},
        )
    code = next((c for kind, c in _STATUS_OF_ERROR if isinstance(error, kind)), 400)
    body: dict[str, object] = {"detail": str(error)}
    if isinstance(error, InputValidationError):
        body["errors"] = [
            {"field": e.field, "message": e.message, "type": e.type} for e in error.errors
        ]
    if isinstance(error, StationCallError):
        body |= {"error_code": error.code, "error_description": error.description}
    return JSONResponse(status_code=code, content=body)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return error_response(error)
