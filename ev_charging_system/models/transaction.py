"""Charging sessions and the meter samples taken during them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.listing import SortOrder, TransactionSort

# The stop reason of a transaction the CSMS closed because the station started a new one
# on the same connector (1.6) or EVSE (2.0.1) without ever stopping it.
CLOSED_BY_CSMS_REASON = "SupersededByNewTransaction"
# The stop reason of a 1.6 transaction the CSMS closed because the station reported its
# connector Available (no session can be running there) without ever stopping it.
CONNECTOR_AVAILABLE_REASON = "ConnectorAvailable"


DEFAULT_SAMPLE_FORMAT = "Raw"  # OCPP 1.6 ValueFormat when a sampled value names none

# (station, connector/EVSE, transaction, timestamp, measurand, phase, location, context,
# format): see MeterSample.natural_key.
SampleKey: TypeAlias = tuple[
    str, int, int | None, datetime, str, str | None, str | None, str | None, str
]


@dataclass(slots=True)
class Transaction:
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: int
    started_at: datetime
    authorization_status: AuthorizationStatus
    reservation_id: int | None = None
    meter_stop_wh: int | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    # OCPP 2.0.1: the station's own transaction id; None for 1.6 (the CSMS assigns `id`).
    ocpp_transaction_id: str | None = None
    offline: bool = False
    remote_start_id: int | None = None
    # True when the stop fields are the CSMS's own estimate (see CLOSED_BY_CSMS_REASON),
    # not values a station reported; a later stop from the station replaces them.
    closed_by_csms: bool = False

    @property
    def active(self) -> bool:
        return self.stopped_at is None

    @property
    def energy_wh(self) -> int | None:
        if self.meter_stop_wh is None:
            return None
        # A meter that went backwards (replaced, reset) must not create negative energy.
        return max(0, self.meter_stop_wh - self.meter_start_wh)


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """A session as the station reports its start (the natural key for replays)."""

    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: int
    started_at: datetime
    authorization_status: AuthorizationStatus
    reservation_id: int | None = None
    ocpp_transaction_id: str | None = None
    offline: bool = False
    remote_start_id: int | None = None


@dataclass(frozen=True, slots=True)
class SignedMeterValue:
    """A meter's signature over a reading (German Eichrecht and the like).

    Kept exactly as the station sent it, so it can be handed to a transparency tool
    (e.g. the S.A.F.E. Transparenzsoftware) that checks it against the public key.
    OCPP 2.0.1 sends the four fields; OCPP 1.6 sends the signed data as a `SignedData`
    sampled value, and the encoding is recognised from the data when possible (OCMF).
    """

    signed_meter_data: str
    signing_method: str | None = None
    encoding_method: str | None = None
    public_key: str | None = None


@dataclass(frozen=True, slots=True)
class RawSampledValue:
    """A sampled value as a station sends it, before units are normalised."""

    timestamp: datetime
    value: str
    measurand: str | None = None
    unit: str | None = None
    multiplier: int = 0
    phase: str | None = None
    context: str | None = None
    location: str | None = None
    format: str | None = None
    signed: SignedMeterValue | None = None


@dataclass(frozen=True, slots=True)
class MeterSample:
    """A sampled value in canonical units (Wh, varh, W, var, A, V ...)."""

    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    timestamp: datetime
    measurand: str
    raw_value: str
    value: Decimal | None
    unit: str | None
    phase: str | None = None
    context: str | None = None
    location: str | None = None
    format: str | None = None
    signed: SignedMeterValue | None = None

    @property
    def natural_key(self) -> SampleKey:
        """What makes two samples the same sample: stations replay unacknowledged meter
        values after a reconnect, and a replay must be stored once.

        The format belongs to it because a 1.6 station may send a reading twice in one
        message, as Raw and as SignedData (the signature of that reading): two samples.
        """
        return (
            self.charge_point_id,
            self.connector_id,
            self.transaction_id,
            self.timestamp,
            self.measurand,
            self.phase,
            self.location,
            self.context,
            self.format or DEFAULT_SAMPLE_FORMAT,
        )


@dataclass(frozen=True, slots=True)
class TransactionPage:
    items: list[Transaction]
    total: int


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    charge_point_id: str | None = None
    id_tag: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    active: bool | None = None
    limit: int = 50
    offset: int = 0
    sort: TransactionSort = TransactionSort.STARTED
    order: SortOrder = SortOrder.DESC  # newest first


@dataclass(frozen=True, slots=True)
class TransactionEventInput:
    """An OCPP 2.0.1 TransactionEvent in plain values."""

    charge_point_id: str
    event_type: str  # Started | Updated | Ended
    ocpp_transaction_id: str
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    connector_id: int | None = None  # the EVSE id
    id_tag: str | None = None
    id_tag_type: str | None = None
    offline: bool = False
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    charging_state: str | None = None
    meter_values: tuple[RawSampledValue, ...] = ()

    @property
    def key(self) -> EventKey:
        """What makes an event the same event when it is sent again."""
        return (self.charge_point_id, self.ocpp_transaction_id, self.seq_no)


# (station, transactionId, seqNo): a 2.0.1 event is applied once per key.
EventKey: TypeAlias = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A 2.0.1 event as received, with its samples (normalised): stored only if the event
    is new (a replayed seqNo stores nothing)."""

    event: TransactionEventInput
    received_at: datetime
    samples: tuple[MeterSample, ...]
