"""OCPP 2.0.1 conformance of the CSMS, modelled on the CSMS test cases of OCPP 2.0.1
Part 6 (the OCA test case document), one block per functional block."""

from __future__ import annotations

from tests.conformance.cases import Suite

SECURITY = "A. Security"
PROVISIONING = "B. Provisioning"
AUTHORIZATION = "C. Authorization"
LOCAL_LIST = "D. Local Authorization List Management"
TRANSACTIONS = "E. Transactions"
REMOTE_CONTROL = "F. Remote Control"
AVAILABILITY = "G. Availability"
RESERVATION = "H. Reservation"
TARIFF_COST = "I. Tariff and Cost"
METER_VALUES = "J. Meter Values"
SMART_CHARGING = "K. Smart Charging"
FIRMWARE = "L. Firmware Management"
CERTIFICATES = "M. ISO 15118 Certificate Management"
DIAGNOSTICS = "N. Diagnostics"
DISPLAY = "O. Display Message"
DATA_TRANSFER = "P. Data Transfer"

SUITE = Suite(
    "2.0.1",
    blocks=(
        SECURITY,
        PROVISIONING,
        AUTHORIZATION,
        LOCAL_LIST,
        TRANSACTIONS,
        REMOTE_CONTROL,
        AVAILABILITY,
        RESERVATION,
        TARIFF_COST,
        METER_VALUES,
        SMART_CHARGING,
        FIRMWARE,
        CERTIFICATES,
        DIAGNOSTICS,
        DISPLAY,
        DATA_TRANSFER,
    ),
)
