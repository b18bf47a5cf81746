"""Typed FastAPI dependencies: the services and the operator's bearer token."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.diagnostics_service import DiagnosticsService
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.business_logic.reporting_service import ReportingService
from ev_charging_system.business_logic.transaction_service import TransactionService
from ev_charging_system.energy.coordinator import Coordinator
from ev_charging_system.energy.recorder import PlanLog
from ev_charging_system.energy.site_settings import SiteSettingsService


@dataclass(frozen=True, slots=True)
class EnergyApi:
    coordinator: Coordinator
    site: SiteSettingsService
    plans: PlanLog


@dataclass(frozen=True, slots=True)
class ApiServices:
    devices: DeviceManagementService
    auth: AuthService
    transactions: TransactionService
    commands: RemoteCommandService
    diagnostics: DiagnosticsService
    reporting: ReportingService
    audit: AuditService
    energy: EnergyApi
    database_ping: Callable[[], Awaitable[None]]
    api_token: str


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(_services)]


def _energy(services: Services) -> EnergyApi:
    return services.energy


EnergyServices = Annotated[EnergyApi, Depends(_energy)]

_bearer = HTTPBearer(auto_error=False, description="API_TOKEN from the settings")


def _require_operator(
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if credentials is None or not secrets.compare_digest(
        credentials.credentials.encode(), services.api_token.encode()
    ):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="This endpoint changes data: send 'Authorization: Bearer <API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


Operator = Depends(_require_operator)
