"""The services operations call: the same instances every channel uses."""

from __future__ import annotations

from dataclasses import dataclass

from ev_charging_system.business_logic.alarm_service import AlarmService
from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.certificate_service import CertificateService
from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.diagnostics_service import DiagnosticsService
from ev_charging_system.business_logic.meter_history import MeterHistoryService
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.business_logic.reporting_service import ReportingService
from ev_charging_system.business_logic.site_service import SiteService
from ev_charging_system.business_logic.smart_charging_service import SmartChargingService
from ev_charging_system.business_logic.token_service import TokenService
from ev_charging_system.business_logic.transaction_service import TransactionService
from ev_charging_system.energy.coordinator import Coordinator
from ev_charging_system.energy.recorder import PlanLog
from ev_charging_system.energy.site_settings import SiteSettingsService


@dataclass(frozen=True, slots=True)
class EnergyServices:
    coordinator: Coordinator
    site: SiteSettingsService
    plans: PlanLog


@dataclass(frozen=True, slots=True)
class OperationServices:
    devices: DeviceManagementService
    auth: AuthService
    transactions: TransactionService
    commands: RemoteCommandService
    smart_charging: SmartChargingService
    diagnostics: DiagnosticsService
    reporting: ReportingService
    audit: AuditService
    energy: EnergyServices
    tokens: TokenService
    certificates: CertificateService
    alarms: AlarmService
    meter_history: MeterHistoryService
    sites: SiteService
