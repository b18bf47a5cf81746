"""Who may do what: roles, and the API tokens that carry them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum


class Role(IntEnum):
    """Ordered: each role may do everything the roles below it may."""

    ANONYMOUS = 0
    VIEWER = 1  # read
    OPERATOR = 2  # read + operate stations, energy control
    ADMIN = 3  # everything: id tags, station credentials, settings, tokens

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def named(cls, label: str) -> Role:
        try:
            role = cls[label.upper()]
        except KeyError:
            role = cls.ANONYMOUS
        if role is cls.ANONYMOUS:
            raise ValueError(f"unknown role {label!r}; choose viewer, operator or admin")
        return role


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A named credential. Only a digest of the secret is kept; the secret is shown once."""

    name: str
    role: Role
    digest: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
