"""Every operator action and query, declared once (see catalogue.py)."""

from __future__ import annotations

from ev_charging_system.business_logic.operations.alarm_ops import ALARM_OPERATIONS
from ev_charging_system.business_logic.operations.catalogue import Catalogue
from ev_charging_system.business_logic.operations.energy_ops import ENERGY_OPERATIONS
from ev_charging_system.business_logic.operations.id_tag_ops import ID_TAG_OPERATIONS
from ev_charging_system.business_logic.operations.identity_ops import IDENTITY_OPERATIONS
from ev_charging_system.business_logic.operations.insight_ops import INSIGHT_OPERATIONS
from ev_charging_system.business_logic.operations.site_ops import SITE_OPERATIONS
from ev_charging_system.business_logic.operations.station_commands import STATION_COMMANDS
from ev_charging_system.business_logic.operations.station_ops import STATION_OPERATIONS
from ev_charging_system.business_logic.operations.token_ops import TOKEN_OPERATIONS
from ev_charging_system.business_logic.operations.transaction_ops import TRANSACTION_OPERATIONS


def build_catalogue() -> Catalogue:
    return Catalogue(
        (
            *STATION_OPERATIONS,
            *STATION_COMMANDS,
            *SITE_OPERATIONS,
            *TRANSACTION_OPERATIONS,
            *ID_TAG_OPERATIONS,
            *INSIGHT_OPERATIONS,
            *ALARM_OPERATIONS,
            *ENERGY_OPERATIONS,
            *TOKEN_OPERATIONS,
            *IDENTITY_OPERATIONS,
        )
    )
