"""Id tags (RFID cards, app tokens): the seed's "users" of the network."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AuthorizationStatus(StrEnum):
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"
    # A 2.0.1 transaction that no id token has been presented for (yet); never stored on tags.
    UNKNOWN = "Unknown"


@dataclass(slots=True)
class IdTag:
    id_tag: str
    status: AuthorizationStatus
    created_at: datetime
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None
    name: str | None = None
    max_active_transactions: int = 1


@dataclass(frozen=True, slots=True)
class IdTagInfo:
    """The answer to "may this tag charge?", as OCPP carries it."""

    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is AuthorizationStatus.ACCEPTED
