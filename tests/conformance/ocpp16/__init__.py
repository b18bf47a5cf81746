"""OCPP 1.6J conformance of the CSMS, modelled on the OCA Compliancy Test Tool's Central
System test cases: one block per feature profile, plus the security whitepaper."""

from __future__ import annotations

from tests.conformance.cases import Suite

CORE = "Core"
FIRMWARE = "Firmware Management"
LOCAL_LIST = "Local Auth List Management"
RESERVATION = "Reservation"
SMART_CHARGING = "Smart Charging"
REMOTE_TRIGGER = "Remote Trigger"
SECURITY = "Security (whitepaper)"

SUITE = Suite(
    "1.6",
    blocks=(CORE, FIRMWARE, LOCAL_LIST, RESERVATION, SMART_CHARGING, REMOTE_TRIGGER, SECURITY),
)
