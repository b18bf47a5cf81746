"""Input field types shared by the operations (bounds a station and a database can hold)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ev_charging_system.business_logic.device_management_service import (
    CHARGE_POINT_ID_CHARACTERS,
    CHARGE_POINT_ID_RULE,
    MAX_CHARGE_POINT_ID_LENGTH,
)

# Ids a station or the database assigns: positive and within a signed 64-bit integer, and
# within 2**53 so that JSON clients (JavaScript) read them exactly.
MAX_ID = 2**53

# What a station may call itself (and so what a URL can carry): one rule, the service's.
_ID_CHARACTERS = "".join(re.escape(c) for c in sorted(CHARGE_POINT_ID_CHARACTERS))
CHARGE_POINT_ID_PATTERN = f"^[{_ID_CHARACTERS}]{{1,{MAX_CHARGE_POINT_ID_LENGTH}}}$"
ChargePointId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=48,
        pattern=CHARGE_POINT_ID_PATTERN,
        description=CHARGE_POINT_ID_RULE + ", e.g. 'CP-1'",
    ),
]
ConnectorId = Annotated[
    int, Field(ge=1, le=1000, description="connector (1.6) / EVSE (2.0.1) number, from 1")
]
StationOrConnectorId = Annotated[
    int, Field(ge=0, le=1000, description="connector number; 0 means the whole station")
]
IdTagValue = Annotated[
    str,
    Field(
        min_length=1,
        max_length=36,
        pattern=r"^\S(?:.*\S)?$",
        description="RFID / id tag (no surrounding spaces)",
    ),
]
TransactionId = Annotated[
    int,
    Field(ge=1, le=MAX_ID, description="the CSMS transaction id, as the transaction list shows"),
]
PositiveId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # OCPP integer fields are 32-bit
Offset = Annotated[int, Field(ge=0, le=10_000_000, description="items to skip")]
MAX_PAGE_SIZE = 500  # rows one list call returns at most (a page, not an export)
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE, description="items per page")]


def _assume_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# A time without a zone is read as UTC, so naive and aware values compare safely.
UtcDateTime = Annotated[datetime, AfterValidator(_assume_utc)]


class Strict(BaseModel):
    """Inputs reject unknown fields: a misspelt argument is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class NoInput(Strict):
    pass


class StationTarget(Strict):
    charge_point_id: ChargePointId


def where(charge_point_id: str, connector_id: int | None) -> str:
    """'connector 2 of CP-1' or 'CP-1', for sentences."""
    return f"connector {connector_id} of {charge_point_id}" if connector_id else charge_point_id


class Period(Strict):
    """A half-open time range [started_from, started_to) over session start times."""

    started_from: UtcDateTime | None = Field(default=None, description="started at or after")
    started_to: UtcDateTime | None = Field(default=None, description="started before")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.started_from and self.started_to and self.started_from >= self.started_to:
            raise ValueError("started_from ('from') must be before started_to ('to')")
        return self


PERIOD_ALIASES = {"started_from": "from", "started_to": "to"}
