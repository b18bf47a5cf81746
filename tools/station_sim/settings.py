"""A station's configuration values, one store for both OCPP versions.

OCPP 1.6 names a value by a configuration key (`HeartbeatInterval`), OCPP 2.0.1 by a
component and variable of its device model (OCPPCommCtrlr/HeartbeatInterval). A value both
versions know exists once, under both names (the pairs are the ones OCPP 2.0.1 lists as
the successors of the 1.6 keys), so the rules that read it (remote start authorization,
stop on an invalid id, the local list's size) read one value whatever the version.
A value only one version knows has only that version's name.

Every value has a declared type (2.0.1 DataEnumType) and mutability; a written value must
fit its type, in both versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

READ_ONLY = "ReadOnly"
READ_WRITE = "ReadWrite"
WRITE_ONLY = "WriteOnly"

STRING = "string"
INTEGER = "integer"
BOOLEAN = "boolean"
DECIMAL = "decimal"
OPTION_LIST = "OptionList"
MEMBER_LIST = "MemberList"


class VariableKey(NamedTuple):
    """Where a variable lives in the device model (component, variable, EVSE, connector)."""

    component: str
    variable: str
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass
class Setting:
    """One configuration value, with its 1.6 key and/or its 2.0.1 variable."""

    value: str
    data_type: str = STRING
    mutability: str = READ_WRITE
    key16: str | None = None
    variable: VariableKey | None = None

    @property
    def readonly(self) -> bool:
        return self.mutability == READ_ONLY

    def accepts(self, value: str) -> bool:
        """Whether a CSMS may write `value` here."""
        return not self.readonly and fits(self.data_type, value)


def fits(data_type: str, value: str) -> bool:
    """Whether `value` is a valid value of `data_type` (lists and strings take anything)."""
    if data_type == INTEGER:
        return value.lstrip("-").isdigit()
    if data_type == BOOLEAN:
        return value.lower() in ("true", "false")
    if data_type == DECIMAL:
        try:
            float(value)
        except ValueError:
            return False
    return True


# The values the station's rules read, named version-neutrally by their 2.0.1 variable.
HEARTBEAT_INTERVAL = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
AUTHORIZE_REMOTE_START = VariableKey("AuthCtrlr", "AuthorizeRemoteStart")
STOP_TX_ON_INVALID_ID = VariableKey("TxCtrlr", "StopTxOnInvalidId")
LOCAL_LIST_MAX_ENTRIES = VariableKey("LocalAuthListCtrlr", "EntriesMax")

_ENERGY = "Energy.Active.Import.Register"
_PROFILES_16 = (
    "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
)


def default_settings(connectors: int) -> list[Setting]:
    """The values of a modest station with `connectors` connectors (one per EVSE), in the
    order a 2.0.1 report lists them.

    AvailabilityState values are placeholders: adapters compute them when read.
    """
    ro = READ_ONLY
    settings = [
        _v201("ChargingStation", "AvailabilityState", OPTION_LIST, "Available", ro),
        _v201("ChargingStation", "Model", STRING, "SIM-201", ro),
        _v201("ChargingStation", "VendorName", STRING, "Simulated", ro),
        _both("HeartbeatInterval", HEARTBEAT_INTERVAL, INTEGER, "300"),
        _v201("OCPPCommCtrlr", "RetryBackOffWaitMinimum", INTEGER, "30"),
        _both(
            "MeterValueSampleInterval", _key("SampledDataCtrlr.TxUpdatedInterval"), INTEGER, "60"
        ),
        _v201("SampledDataCtrlr", "TxUpdatedMeasurands", MEMBER_LIST, _ENERGY),
        _both("AuthorizeRemoteTxRequests", AUTHORIZE_REMOTE_START, BOOLEAN, "false"),
        _both("LocalAuthorizeOffline", _key("AuthCtrlr.LocalAuthorizeOffline"), BOOLEAN, "true"),
        _both("LocalAuthListEnabled", _key("LocalAuthListCtrlr.Enabled"), BOOLEAN, "true"),
        _both("LocalAuthListMaxLength", LOCAL_LIST_MAX_ENTRIES, INTEGER, "100", ro),
        _both("ConnectionTimeOut", _key("TxCtrlr.EVConnectionTimeOut"), INTEGER, "60"),
        _both("StopTransactionOnInvalidId", STOP_TX_ON_INVALID_ID, BOOLEAN, "true"),
        _v201("SecurityCtrlr", "BasicAuthPassword", STRING, "", WRITE_ONLY),
        _v16("ClockAlignedDataInterval", INTEGER, "0"),
        _v16("LocalPreAuthorize", BOOLEAN, "false"),
        _v16("MeterValuesAlignedData", MEMBER_LIST, _ENERGY),
        _v16("MeterValuesSampledData", MEMBER_LIST, f"{_ENERGY},Power.Active.Import"),
        _v16("ResetRetries", INTEGER, "3"),
        _v16("StopTransactionOnEVSideDisconnect", BOOLEAN, "true"),
        _v16("StopTxnAlignedData", MEMBER_LIST, ""),
        _v16("StopTxnSampledData", MEMBER_LIST, _ENERGY),
        _v16("TransactionMessageAttempts", INTEGER, "3"),
        _v16("TransactionMessageRetryInterval", INTEGER, "60"),
        _v16("UnlockConnectorOnEVSideDisconnect", BOOLEAN, "true"),
        _v16("ChargeProfileMaxStackLevel", INTEGER, "10", ro),
        _v16("ChargingScheduleAllowedChargingRateUnit", MEMBER_LIST, "Current,Power", ro),
        _v16("ChargingScheduleMaxPeriods", INTEGER, "24", ro),
        _v16("GetConfigurationMaxKeys", INTEGER, "50", ro),
        _v16("MaxChargingProfilesInstalled", INTEGER, "10", ro),
        _v16("NumberOfConnectors", INTEGER, str(connectors), ro),
        _v16("ReserveConnectorZeroSupported", BOOLEAN, "false", ro),
        _v16("SendLocalListMaxLength", INTEGER, "100", ro),
        _v16("SupportedFeatureProfiles", MEMBER_LIST, _PROFILES_16, ro),
    ]
    for evse in range(1, connectors + 1):
        settings += [
            _v201("EVSE", "AvailabilityState", OPTION_LIST, "Available", ro, evse),
            _v201("EVSE", "Power", DECIMAL, "22000", ro, evse),
            _v201("Connector", "AvailabilityState", OPTION_LIST, "Available", ro, evse, 1),
            _v201("Connector", "ConnectorType", STRING, "cType2", ro, evse, 1),
        ]
    return settings


def _key(dotted: str) -> VariableKey:
    component, variable = dotted.split(".")
    return VariableKey(component, variable)


def _both(
    key16: str, variable: VariableKey, data_type: str, value: str, mutability: str = READ_WRITE
) -> Setting:
    return Setting(value, data_type, mutability, key16, variable)


def _v16(key16: str, data_type: str, value: str, mutability: str = READ_WRITE) -> Setting:
    return Setting(value, data_type, mutability, key16=key16)


def _v201(
    component: str,
    variable: str,
    data_type: str,
    value: str,
    mutability: str = READ_WRITE,
    evse_id: int | None = None,
    connector_id: int | None = None,
) -> Setting:
    key = VariableKey(component, variable, evse_id, connector_id)
    return Setting(value, data_type, mutability, variable=key)


class Settings:
    """The station's values, reachable by 1.6 key and by 2.0.1 variable."""

    def __init__(self, settings: Iterable[Setting]) -> None:
        listed = list(settings)
        self.by_key16: dict[str, Setting] = {
            s.key16: s for s in sorted(listed, key=lambda s: s.key16 or "") if s.key16
        }
        """1.6 configuration keys, alphabetically (the order GetConfiguration lists them)."""
        self.by_variable: dict[VariableKey, Setting] = {
            s.variable: s for s in listed if s.variable is not None
        }
        """2.0.1 variables, in report order."""

    def __getitem__(self, variable: VariableKey) -> Setting:
        return self.by_variable[variable]

    def flag(self, variable: VariableKey) -> bool:
        return self[variable].value.lower() == "true"

    def number(self, variable: VariableKey) -> int:
        return int(self[variable].value)
