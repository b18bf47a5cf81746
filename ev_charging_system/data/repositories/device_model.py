"""SQL repository of the 2.0.1 device model (components and variables) per station."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.data.orm import DeviceModelVariableRow
from ev_charging_system.models.device_model import DeviceModelEntry


class SqlDeviceModelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, charge_point_id: str, entries: Sequence[DeviceModelEntry]) -> None:
        for entry in entries:
            row = await self._session.scalar(
                select(DeviceModelVariableRow).where(
                    DeviceModelVariableRow.charge_point_id == charge_point_id,
                    DeviceModelVariableRow.component_name == entry.component_name,
                    DeviceModelVariableRow.component_instance == entry.component_instance,
                    DeviceModelVariableRow.evse_id == entry.evse_id,
                    DeviceModelVariableRow.connector_id == entry.connector_id,
                    DeviceModelVariableRow.variable_name == entry.variable_name,
                    DeviceModelVariableRow.variable_instance == entry.variable_instance,
                    DeviceModelVariableRow.attribute_type == entry.attribute_type,
                )
            )
            if row is None:
                row = DeviceModelVariableRow(
                    charge_point_id=charge_point_id,
                    component_name=entry.component_name,
                    component_instance=entry.component_instance,
                    evse_id=entry.evse_id,
                    connector_id=entry.connector_id,
                    variable_name=entry.variable_name,
                    variable_instance=entry.variable_instance,
                    attribute_type=entry.attribute_type,
                )
                self._session.add(row)
            row.value = entry.value
            row.mutability = entry.mutability
            row.persistent = entry.persistent
            row.constant = entry.constant
            row.characteristics = entry.characteristics
            row.updated_at = entry.updated_at or datetime.now(UTC)
        await self._session.flush()

    async def all(self, charge_point_id: str) -> list[DeviceModelEntry]:
        rows = await self._session.scalars(
            select(DeviceModelVariableRow)
            .where(DeviceModelVariableRow.charge_point_id == charge_point_id)
            .order_by(
                DeviceModelVariableRow.component_name,
                DeviceModelVariableRow.evse_id,
                DeviceModelVariableRow.connector_id,
                DeviceModelVariableRow.component_instance,
                DeviceModelVariableRow.variable_name,
                DeviceModelVariableRow.variable_instance,
                DeviceModelVariableRow.attribute_type,
            )
        )
        return [
            DeviceModelEntry(
                component_name=row.component_name,
                variable_name=row.variable_name,
                attribute_type=row.attribute_type,
                value=row.value,
                component_instance=row.component_instance,
                evse_id=row.evse_id,
                connector_id=row.connector_id,
                variable_instance=row.variable_instance,
                mutability=row.mutability,
                persistent=row.persistent,
                constant=row.constant,
                characteristics=row.characteristics,
                updated_at=row.updated_at,
            )
            for row in rows
        ]
