"""One contract for every repository port, kept by the fakes and by SQL on both databases.

Each scenario runs three times: on the in-memory fakes the unit tests use
(tests/unit/fakes.py), and on the SQLAlchemy repositories over SQLite and over PostgreSQL
(a real database per test session, emptied before each test). What services rely on is
written down here once: round trips, newest-first ordering and limits, filters, upserts,
idempotency keys, last-seen only moving forward, and the unit of work (nothing is seen by
others before commit, nothing survives a rollback or an exception).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, PendingRollbackError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ev_charging_system.business_logic.ports import (
    DuplicateNameError,
    DuplicateTransactionError,
    UnitOfWorkFactory,
)
from ev_charging_system.data.database import create_engine, create_session_factory
from ev_charging_system.data.unit_of_work import SqlAlchemyUnitOfWork
from ev_charging_system.models.access import ApiToken, Role
from ev_charging_system.models.audit import AuditEntry, AuditOutcome, ChatMessage, Conversation
from ev_charging_system.models.charge_point import (
    BootInfo,
    BootRecord,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    StatusChange,
)
from ev_charging_system.models.commands import CommandOutcome, CommandRecord
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.diagnostics import UsageGrouping, UsageRow
from ev_charging_system.models.id_token import AuthorizationStatus, IdTag
from ev_charging_system.models.listing import SortOrder, StationFilter, StationQuery, StationSort
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import (
    CLOSED_BY_CSMS_REASON,
    MeterSample,
    NewTransaction,
    RecordedEvent,
    SignedMeterValue,
    Transaction,
    TransactionEventInput,
    TransactionFilter,
)
from tests.conftest import empty_all_tables
from tests.unit.fakes import (
    ConstraintViolationError,
    FakeStore,
    FakeUnitOfWork,
    SpoiledUnitOfWorkError,
)

# `database_kind` is the session fixture of tests/conftest.py; "fakes" needs no database.
pytestmark = pytest.mark.parametrize(
    "database_kind", ["fakes", "sqlite", "postgresql"], indirect=True, scope="session"
)

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Backend:
    name: str
    open: UnitOfWorkFactory
    refused: type[Exception]  # a duplicate key or a reference to a missing row
    spoiled: type[Exception]  # a unit of work used after one of its writes was refused
    not_json: tuple[type[Exception], ...]  # a JSON column given something JSON cannot hold


@pytest.fixture(scope="module")
async def session_factory(
    migrated_database: str,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated_database)
    yield create_session_factory(engine)
    await engine.dispose()


@dataclass(frozen=True)
class Database:
    url: str
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture
def database(database_kind: str, request: pytest.FixtureRequest) -> Database | None:
    """The migrated database of this kind, None for the fakes.

    Synchronous on purpose: async fixtures can only be requested lazily from outside the
    event loop.
    """
    if database_kind == "fakes":
        return None
    return Database(
        request.getfixturevalue("migrated_database"), request.getfixturevalue("session_factory")
    )


@pytest.fixture
async def backend(database: Database | None) -> Backend:
    if database is None:
        store = FakeStore()
        return Backend(
            "fakes",
            lambda: FakeUnitOfWork(store),
            ConstraintViolationError,
            SpoiledUnitOfWorkError,
            (TypeError,),
        )
    await empty_all_tables(database.url)
    return Backend(
        make_url(database.url).get_backend_name(),
        lambda: SqlAlchemyUnitOfWork(database.sessions),
        IntegrityError,
        PendingRollbackError,
        # SQLAlchemy's JSON type refuses it on SQLite, psycopg's adapter on PostgreSQL.
        (TypeError, StatementError),
    )


# --- builders ----------------------------------------------------------------------------


def station(charge_point_id: str = "CP-1", **fields: Any) -> ChargePoint:
    return replace(ChargePoint(charge_point_id, RegistrationStatus.ACCEPTED, T0), **fields)


def tag(id_tag: str = "CARD", **fields: Any) -> IdTag:
    return replace(IdTag(id_tag, AuthorizationStatus.ACCEPTED, T0), **fields)


def start(charge_point_id: str = "CP-1", **fields: Any) -> NewTransaction:
    new = NewTransaction(charge_point_id, 1, "CARD", 1_000, T0, AuthorizationStatus.ACCEPTED)
    return replace(new, **fields)


def status(connector_id: int, state: str, minutes: float = 0, **fields: Any) -> ConnectorStatus:
    return replace(ConnectorStatus(connector_id, state, "NoError", at(minutes)), **fields)


def tx_event(seq_no: int, ocpp_id: str = "T-1", station_id: str = "CP-1") -> TransactionEventInput:
    return TransactionEventInput(station_id, "Updated", ocpp_id, seq_no, T0, "MeterValuePeriodic")


def audit(actor: str, tool: str, channel: str, minutes: float = 0) -> AuditEntry:
    return AuditEntry(
        at(minutes), actor, channel, tool, {"charge_point_id": "CP-1"}, AuditOutcome.OK
    )


async def stations(backend: Backend, *ids: str) -> None:
    async with backend.open() as uow:
        for charge_point_id in ids:
            await uow.charge_points.add(station(charge_point_id))
        await uow.commit()


async def committed_transactions(backend: Backend, *news: NewTransaction) -> list[Transaction]:
    async with backend.open() as uow:
        added = [await uow.transactions.add(new) for new in news]
        await uow.commit()
    return added


async def stopped(backend: Backend, transaction: Transaction, meter_stop_wh: int) -> Transaction:
    done = replace(
        transaction, meter_stop_wh=meter_stop_wh, stopped_at=transaction.started_at + timedelta(1)
    )
    async with backend.open() as uow:
        assert await uow.transactions.stop(done)
        await uow.commit()
    return done


# --- unit of work ------------------------------------------------------------------------


async def test_writes_stay_invisible_to_other_units_of_work_until_commit(backend: Backend) -> None:
    async with backend.open() as writer:
        await writer.charge_points.add(station("CP-1"))
        await writer.id_tags.add(tag("CARD"))
        assert await writer.charge_points.get("CP-1") is not None  # it reads its own writes
        async with backend.open() as reader:
            assert await reader.charge_points.get("CP-1") is None
            assert await reader.id_tags.get("CARD") is None
        await writer.commit()
    async with backend.open() as reader:
        assert await reader.charge_points.get("CP-1") == station("CP-1")
        assert await reader.id_tags.get("CARD") == tag("CARD")


async def test_leaving_without_commit_forgets_the_writes(backend: Backend) -> None:
    async with backend.open() as uow:
        await uow.charge_points.add(station("CP-1"))
        await uow.audit.add(audit("rest:token", "reset", "rest"))
    async with backend.open() as uow:
        assert await uow.charge_points.all() == []
        assert await uow.audit.recent(10) == []


async def test_an_exception_forgets_the_writes(backend: Backend) -> None:
    await stations(backend, "CP-1")
    with pytest.raises(RuntimeError, match="service failed"):
        async with backend.open() as uow:
            await uow.charge_points.save_connector_status("CP-1", status(1, "Charging"))
            await uow.transactions.add(start())
            await uow.events.add(StationEvent("CP-1", EventKind.BOOT, T0))
            raise RuntimeError("service failed")
    async with backend.open() as uow:
        stored = await uow.charge_points.get("CP-1")
        assert stored is not None and stored.connectors == []
        assert (await uow.transactions.search(TransactionFilter())).total == 0
        assert await uow.events.recent(None, 10) == []


async def test_only_what_was_committed_survives(backend: Backend) -> None:
    async with backend.open() as uow:
        await uow.id_tags.add(tag("KEPT"))
        await uow.commit()
        await uow.id_tags.add(tag("DROPPED"))  # after the commit: needs a commit of its own
    async with backend.open() as uow:
        assert [t.id_tag for t in (await uow.id_tags.page(10, 0))[0]] == ["KEPT"]


async def test_a_refused_write_spoils_the_whole_unit_of_work(backend: Backend) -> None:
    await stations(backend, "CP-1")
    async with backend.open() as uow:
        await uow.id_tags.add(tag("CARD"))
        with pytest.raises(backend.refused):
            await uow.charge_points.add(station("CP-1"))
        with pytest.raises(backend.spoiled):
            await uow.commit()
    async with backend.open() as uow:
        assert await uow.id_tags.get("CARD") is None


# --- charge points -----------------------------------------------------------------------

BOOT = BootInfo(
    vendor="Acme",
    model="Wallbox 22",
    serial_number="S-1",
    charge_box_serial_number="CB-1",
    firmware_version="1.2.3",
    iccid="8931",
    imsi="2620",
    meter_type="DZG",
    meter_serial_number="M-1",
)


async def test_a_station_round_trips_with_everything_it_reported(backend: Backend) -> None:
    full = station(
        "CP-1",
        boot=BOOT,
        ocpp_version="ocpp2.0.1",
        password_hash="scrypt$salt$hash",
        last_boot_at=at(1),
        last_seen_at=at(2),
        firmware_status="Installed",
        diagnostics_status="Uploaded",
    )
    async with backend.open() as uow:
        await uow.charge_points.add(full)
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.charge_points.get("CP-1") == full
        assert await uow.charge_points.get("CP-404") is None


async def test_times_come_back_as_the_same_instant_in_utc(backend: Backend) -> None:
    local = datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    async with backend.open() as uow:
        await uow.charge_points.add(station("CP-1", created_at=local))
        await uow.commit()
    async with backend.open() as uow:
        stored = await uow.charge_points.get("CP-1")
    assert stored is not None and stored.created_at == local
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_a_station_id_is_taken_once(backend: Backend) -> None:
    await stations(backend, "CP-1")
    async with backend.open() as uow:
        with pytest.raises(backend.refused):
            await uow.charge_points.add(station("CP-1", ocpp_version="ocpp1.6"))


async def test_update_keeps_connectors_and_boot_and_never_moves_last_seen_back(
    backend: Backend,
) -> None:
    async with backend.open() as uow:
        await uow.charge_points.add(station("CP-1", boot=BOOT, last_seen_at=at(10)))
        await uow.charge_points.save_connector_status("CP-1", status(1, "Available"))
        await uow.commit()
    async with backend.open() as uow:
        current = await uow.charge_points.get("CP-1", with_connectors=False)
        assert current is not None
        await uow.charge_points.update(
            replace(
                current,
                registration_status=RegistrationStatus.REJECTED,
                firmware_status="Downloading",
                password_hash="scrypt$new",
                boot=None,  # "not reported this time", not "forget it"
                last_seen_at=at(5),
            )
        )
        await uow.commit()
    async with backend.open() as uow:
        stored = await uow.charge_points.get("CP-1")
    assert stored is not None
    assert stored.registration_status is RegistrationStatus.REJECTED
    assert (stored.firmware_status, stored.password_hash) == ("Downloading", "scrypt$new")
    assert stored.boot == BOOT
    assert stored.last_seen_at == at(10)
    assert stored.connectors == [status(1, "Available")]


async def test_updating_an_unknown_station_is_a_lookup_error(backend: Backend) -> None:
    async with backend.open() as uow:
        with pytest.raises(LookupError):
            await uow.charge_points.update(station("CP-404"))


async def test_a_station_can_be_read_without_its_connectors(backend: Backend) -> None:
    async with backend.open() as uow:
        # add() stores the station's own fields; connectors are stored as they report.
        await uow.charge_points.add(station("CP-1", connectors=[status(9, "Unavailable")]))
        assert (await uow.charge_points.get("CP-1")) == station("CP-1")
        await uow.charge_points.save_connector_status("CP-1", status(1, "Available"))
        await uow.commit()
    async with backend.open() as uow:
        bare = await uow.charge_points.get("CP-1", with_connectors=False)
        assert bare is not None and bare.connectors == []
        full = await uow.charge_points.get("CP-1")
        assert full is not None and len(full.connectors) == 1


async def test_all_lists_stations_by_id_with_their_connectors(backend: Backend) -> None:
    await stations(backend, "CP-3", "CP-1", "CP-2")
    async with backend.open() as uow:
        await uow.charge_points.save_connector_status("CP-2", status(2, "Faulted"))
        await uow.charge_points.save_connector_status("CP-2", status(1, "Charging"))
        await uow.commit()
    async with backend.open() as uow:
        listed = await uow.charge_points.all()
    assert [s.id for s in listed] == ["CP-1", "CP-2", "CP-3"]
    assert [(c.connector_id, c.status) for c in listed[1].connectors] == [
        (1, "Charging"),
        (2, "Faulted"),
    ]
    assert listed[0].connectors == listed[2].connectors == []


async def test_pages_after_an_id_walk_every_station_once_with_its_connectors(
    backend: Backend,
) -> None:
    await stations(backend, "CP-5", "CP-3", "CP-1", "CP-4", "CP-2")
    async with backend.open() as uow:
        await uow.charge_points.record_last_seen({"CP-3": at(7)})
        await uow.charge_points.save_connector_status("CP-3", status(2, "Faulted"))
        await uow.charge_points.save_connector_status("CP-3", status(1, "Charging"))
        await uow.commit()
    pages: list[list[ChargePoint]] = []
    after: str | None = None
    while True:
        async with backend.open() as uow:
            page = await uow.charge_points.page_after(after, 2)
        if not page:
            break
        pages.append(page)
        after = page[-1].id
    assert [[s.id for s in page] for page in pages] == [
        ["CP-1", "CP-2"],
        ["CP-3", "CP-4"],
        ["CP-5"],
    ]
    [third, _] = pages[1]
    assert [(c.connector_id, c.status) for c in third.connectors] == [
        (1, "Charging"),
        (2, "Faulted"),
    ]
    async with backend.open() as uow:
        # The same station as a single read gives (times, connectors, everything).
        assert third == await uow.charge_points.get("CP-3")
        assert await uow.charge_points.page_after("CP-5", 2) == []


async def test_last_seen_only_moves_forward(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")
    async with backend.open() as uow:
        # A station that is gone meanwhile is no error: the batch is best effort.
        await uow.charge_points.record_last_seen({"CP-1": at(10), "CP-2": at(5), "GONE": at(1)})
        await uow.commit()
    async with backend.open() as uow:
        await uow.charge_points.record_last_seen({"CP-1": at(3), "CP-2": at(7)})
        await uow.commit()
    async with backend.open() as uow:
        seen = {s.id: s.last_seen_at for s in await uow.charge_points.all()}
    assert seen == {"CP-1": at(10), "CP-2": at(7)}


async def test_connector_status_is_upserted_per_connector(backend: Backend) -> None:
    await stations(backend, "CP-1")
    faulted = status(
        2,
        "Faulted",
        3,
        error_code="GroundFailure",
        info="RCD",
        vendor_id="Acme",
        vendor_error_code="E7",
    )
    async with backend.open() as uow:
        await uow.charge_points.save_connector_status("CP-1", status(2, "Available", 1))
        await uow.charge_points.save_connector_status("CP-1", status(1, "Charging", 2))
        await uow.commit()
    async with backend.open() as uow:
        await uow.charge_points.save_connector_status("CP-1", faulted)
        await uow.commit()
    async with backend.open() as uow:
        stored = await uow.charge_points.get("CP-1")
    assert stored is not None and stored.connectors == [status(1, "Charging", 2), faulted]


async def test_a_connector_of_an_unknown_station_is_refused(backend: Backend) -> None:
    async with backend.open() as uow:
        with pytest.raises(backend.refused):
            await uow.charge_points.save_connector_status("CP-404", status(1, "Available"))


async def test_status_history_is_newest_first_per_connector_and_limited(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")

    def change(station_id: str, connector_id: int, state: str, minutes: float) -> StatusChange:
        return StatusChange(station_id, connector_id, state, "NoError", at(minutes), at(minutes))

    history = [
        change("CP-1", 1, "Preparing", 1),
        change("CP-1", 2, "Available", 2),
        change("CP-2", 1, "Faulted", 3),
        change("CP-1", 1, "Charging", 4),
        change("CP-1", 1, "Finishing", 5),
    ]
    async with backend.open() as uow:
        for entry in history:
            await uow.charge_points.add_status_change(entry)
        await uow.commit()
    async with backend.open() as uow:
        listed = uow.charge_points.list_status_changes
        assert await listed("CP-1", None, 3) == [history[4], history[3], history[1]]
        assert await listed("CP-1", 1, 10) == [history[4], history[3], history[0]]
        assert await listed("CP-2", 2, 10) == []
        with pytest.raises(backend.refused):
            await uow.charge_points.add_status_change(change("CP-404", 1, "Available", 6))


async def test_stations_are_read_by_ids_without_their_connectors(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2", "CP-3")
    async with backend.open() as uow:
        await uow.charge_points.save_connector_status("CP-1", status(1, "Available"))
        await uow.commit()
    async with backend.open() as uow:
        found = await uow.charge_points.get_many(["CP-2", "CP-404", "CP-1"])
        assert sorted(s.id for s in found) == ["CP-1", "CP-2"]
        assert all(s.connectors == [] for s in found)
        assert await uow.charge_points.get_many([]) == []


async def test_connections_register_new_stations_and_set_the_version_of_known_ones(
    backend: Backend,
) -> None:
    await stations(backend, "CP-1")
    async with backend.open() as uow:
        registered = await uow.charge_points.register_connections(
            [
                # Known: only its OCPP version changes, never its registration.
                station(
                    "CP-1", registration_status=RegistrationStatus.REJECTED, ocpp_version="2.0.1"
                ),
                ChargePoint("CP-NEW", RegistrationStatus.PENDING, at(5), ocpp_version="1.6"),
                # The same new id twice in one go (two first connections): the last counts.
                ChargePoint("CP-NEW", RegistrationStatus.REJECTED, at(6), ocpp_version="2.0.1"),
            ]
        )
        await uow.commit()
    assert registered == {
        "CP-1": RegistrationStatus.ACCEPTED,
        "CP-NEW": RegistrationStatus.REJECTED,
    }
    async with backend.open() as uow:
        known, new = await uow.charge_points.get("CP-1"), await uow.charge_points.get("CP-NEW")
        again = await uow.charge_points.register_connections(
            [station("CP-NEW", ocpp_version="1.6")]
        )
    assert known is not None and (known.ocpp_version, known.created_at) == ("2.0.1", T0)
    assert known.registration_status is RegistrationStatus.ACCEPTED
    assert new is not None and new.registration_status is RegistrationStatus.REJECTED
    assert (new.ocpp_version, new.created_at, new.boot) == ("2.0.1", at(6), None)
    assert again == {"CP-NEW": RegistrationStatus.REJECTED}


async def test_boots_replace_the_boot_fields_and_move_last_seen_forward_only(
    backend: Backend,
) -> None:
    await stations(backend, "CP-1", "CP-2")
    first = BootInfo("Acme", "X1", serial_number="S1", firmware_version="1.0", meter_type="M")
    async with backend.open() as uow:
        await uow.charge_points.record_last_seen({"CP-2": at(30)})
        booted = await uow.charge_points.record_boots(
            [
                BootRecord("CP-1", first, at(10)),
                BootRecord("CP-2", BootInfo("Acme", "X2"), at(20)),
                BootRecord("CP-404", first, at(10)),  # not stored: not in the answer
            ]
        )
        await uow.commit()
    assert booted == {"CP-1": RegistrationStatus.ACCEPTED, "CP-2": RegistrationStatus.ACCEPTED}
    async with backend.open() as uow:
        one, two = await uow.charge_points.get("CP-1"), await uow.charge_points.get("CP-2")
        assert await uow.charge_points.get("CP-404") is None
    assert one is not None and (one.boot, one.last_boot_at, one.last_seen_at) == (
        first,
        at(10),
        at(10),
    )
    assert two is not None and (two.boot, two.last_boot_at, two.last_seen_at) == (
        BootInfo("Acme", "X2"),
        at(20),
        at(30),
    )
    async with backend.open() as uow:  # a reboot reports afresh: what it omits is gone
        await uow.charge_points.record_boots([BootRecord("CP-1", BootInfo("Acme", "X1"), at(40))])
        await uow.commit()
    async with backend.open() as uow:
        rebooted = await uow.charge_points.get("CP-1")
    assert rebooted is not None and rebooted.boot == BootInfo("Acme", "X1")
    assert (rebooted.last_boot_at, rebooted.last_seen_at) == (at(40), at(40))


async def test_many_connector_statuses_are_upserted_at_once_the_last_per_connector_counting(
    backend: Backend,
) -> None:
    await stations(backend, "CP-1", "CP-2")
    evse_connector = status(1, "Faulted", 3, evse_connector_id=2, info="RCD", vendor_id="Acme")
    async with backend.open() as uow:
        await uow.charge_points.save_connector_status("CP-1", status(1, "Available", 0))
        await uow.commit()
    async with backend.open() as uow:
        await uow.charge_points.save_connector_statuses(
            [
                ("CP-1", status(1, "Preparing", 1)),
                ("CP-2", status(1, "Available", 1)),
                ("CP-1", status(1, "Charging", 2)),
                ("CP-1", evse_connector),  # another connector: EVSE 1, its connector 2
            ]
        )
        await uow.commit()
    async with backend.open() as uow:
        one, two = await uow.charge_points.get("CP-1"), await uow.charge_points.get("CP-2")
        assert one is not None and one.connectors == [status(1, "Charging", 2), evse_connector]
        assert two is not None and two.connectors == [status(1, "Available", 1)]
        await uow.charge_points.save_connector_statuses([])  # nothing to do is no error
        with pytest.raises(backend.refused):
            await uow.charge_points.save_connector_statuses([("CP-404", status(1, "Available"))])


async def test_status_changes_and_events_added_at_once_keep_their_order(backend: Backend) -> None:
    await stations(backend, "CP-1")
    history = [
        StatusChange("CP-1", 0, "Online", "NoError", at(1), at(1), info="OCPP 1.6"),
        StatusChange("CP-1", 1, "Available", "NoError", at(0), at(2), evse_connector_id=1),
        StatusChange("CP-1", 0, "Offline", "NoError", at(3), at(3), vendor_error_code="X"),
    ]
    kinds = [EventKind.CONNECTED, EventKind.BOOT, EventKind.DISCONNECTED]
    async with backend.open() as uow:
        await uow.charge_points.add_status_changes(history)
        await uow.events.add_many(
            [StationEvent("CP-1", kind, at(n), {"n": n}) for n, kind in enumerate(kinds)]
        )
        await uow.charge_points.add_status_changes([])
        await uow.events.add_many([])
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.charge_points.list_status_changes("CP-1", None, 10) == history[::-1]
        events = await uow.events.recent("CP-1", 10)
        with pytest.raises(backend.refused):
            await uow.charge_points.add_status_changes([replace(history[0], charge_point_id="X")])
    assert [(e.kind, e.detail) for e in events] == [
        (kind, {"n": n}) for n, kind in reversed(list(enumerate(kinds)))
    ]


# --- id tags -----------------------------------------------------------------------------


async def test_an_id_tag_round_trips_and_is_taken_once(backend: Backend) -> None:
    card = tag(
        "CARD",
        status=AuthorizationStatus.BLOCKED,
        expiry_date=at(60),
        parent_id_tag="FLEET",
        name="Ann",
        max_active_transactions=2,
    )
    async with backend.open() as uow:
        await uow.id_tags.add(card)
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.id_tags.get("CARD") == card
        assert await uow.id_tags.get("NOBODY") is None
        with pytest.raises(backend.refused):
            await uow.id_tags.add(tag("CARD"))


async def test_an_id_tag_update_replaces_its_fields(backend: Backend) -> None:
    async with backend.open() as uow:
        await uow.id_tags.add(tag("CARD", parent_id_tag="FLEET", name="Ann"))
        await uow.commit()
    changed = tag("CARD", status=AuthorizationStatus.EXPIRED, expiry_date=at(5), name="Anna")
    async with backend.open() as uow:
        await uow.id_tags.update(changed)
        with pytest.raises(LookupError):
            await uow.id_tags.update(tag("NOBODY"))
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.id_tags.get("CARD") == changed


async def test_deleting_a_tag_removes_it_and_a_missing_one_is_no_error(backend: Backend) -> None:
    async with backend.open() as uow:
        await uow.id_tags.add(tag("CARD"))
        await uow.id_tags.add(tag("KEEP"))
        await uow.commit()
    async with backend.open() as uow:
        await uow.id_tags.delete("CARD")
        await uow.id_tags.delete("NOBODY")
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.id_tags.get("CARD") is None
        assert await uow.id_tags.page(10, 0) == ([tag("KEEP")], 1)


async def test_id_tags_are_paged_in_id_order_with_the_total(backend: Backend) -> None:
    async with backend.open() as uow:
        for name in ["TAG-4", "TAG-1", "TAG-5", "TAG-3", "TAG-2"]:
            await uow.id_tags.add(tag(name))
        await uow.commit()
    async with backend.open() as uow:
        page, total = await uow.id_tags.page(2, 1)
        assert ([t.id_tag for t in page], total) == (["TAG-2", "TAG-3"], 5)
        assert await uow.id_tags.page(10, 5) == ([], 5)


# --- transactions ------------------------------------------------------------------------


async def test_a_transaction_round_trips_with_a_database_assigned_id(backend: Backend) -> None:
    await stations(backend, "CP-1")
    new = start(
        reservation_id=7,
        ocpp_transaction_id="T-1",
        offline=True,
        remote_start_id=42,
        authorization_status=AuthorizationStatus.UNKNOWN,
    )
    first, second = await committed_transactions(backend, new, start(started_at=at(1)))
    assert second.id > first.id
    assert first == Transaction(
        id=first.id,
        charge_point_id="CP-1",
        connector_id=1,
        id_tag="CARD",
        meter_start_wh=1_000,
        started_at=T0,
        authorization_status=AuthorizationStatus.UNKNOWN,
        reservation_id=7,
        ocpp_transaction_id="T-1",
        offline=True,
        remote_start_id=42,
    )
    async with backend.open() as uow:
        assert await uow.transactions.get(first.id) == first
        assert await uow.transactions.get(second.id + 1000) is None


async def test_a_replayed_start_is_a_duplicate_and_finds_the_first_copy(backend: Backend) -> None:
    await stations(backend, "CP-1")
    [first] = await committed_transactions(backend, start())
    async with backend.open() as uow:
        assert await uow.transactions.find_by_start(start()) == first
        assert await uow.transactions.find_by_start(start(meter_start_wh=1_001)) is None
        with pytest.raises(DuplicateTransactionError):
            await uow.transactions.add(start(authorization_status=AuthorizationStatus.INVALID))
        # The insert failed: the service must answer the replay from a new unit of work.
        with pytest.raises(backend.spoiled):
            await uow.transactions.find_by_start(start())


async def test_a_station_names_each_of_its_transactions_once(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")
    [first] = await committed_transactions(backend, start(ocpp_transaction_id="T-1"))
    async with backend.open() as uow:
        other = await uow.transactions.add(start("CP-2", ocpp_transaction_id="T-1"))
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.find_by_ocpp_id("CP-1", "T-1") == first
        assert await uow.transactions.find_by_ocpp_id("CP-2", "T-1") == other
        assert await uow.transactions.find_by_ocpp_id("CP-1", "T-2") is None
        with pytest.raises(DuplicateTransactionError):
            await uow.transactions.add(start(started_at=at(5), ocpp_transaction_id="T-1"))


async def test_a_station_is_added_once_when_first_connections_race(backend: Backend) -> None:
    async with backend.open() as uow:
        assert await uow.charge_points.add_if_missing(station("CP-1"))
        await uow.commit()
    async with backend.open() as uow:  # the other connection's insert, a moment later
        late = station("CP-1", registration_status=RegistrationStatus.REJECTED)
        assert not await uow.charge_points.add_if_missing(late)
        await uow.commit()
    async with backend.open() as uow:
        stored = await uow.charge_points.get("CP-1")
        assert stored is not None and stored.registration_status is RegistrationStatus.ACCEPTED


async def test_a_transaction_of_an_unknown_station_is_refused_as_such(backend: Backend) -> None:
    """A missing station is not a replay: it must not pass for DuplicateTransactionError
    (which services answer as "a concurrent copy won"), or the station would be told its
    start was stored."""
    async with backend.open() as uow:
        with pytest.raises(backend.refused):
            await uow.transactions.add(start("CP-404"))


async def test_an_event_of_an_unknown_station_is_refused_as_such(backend: Backend) -> None:
    async with backend.open() as uow:
        with pytest.raises(backend.refused):
            await uow.transactions.record_event(tx_event(0, station_id="CP-404"), T0)


async def test_a_stop_is_stored_once_and_changes_only_the_stop(backend: Backend) -> None:
    await stations(backend, "CP-1")
    [started] = await committed_transactions(backend, start())
    first_stop = replace(
        started,
        meter_stop_wh=8_000,
        stopped_at=at(60),
        stop_reason="EVDisconnected",
        stop_id_tag="CARD",
        connector_id=9,  # not a stop field: stop() leaves it alone
    )
    async with backend.open() as uow:
        assert await uow.transactions.stop(first_stop)
        await uow.commit()
    async with backend.open() as uow:
        again = replace(first_stop, meter_stop_wh=99_000, stopped_at=at(90), stop_reason="Local")
        assert not await uow.transactions.stop(again)
        assert not await uow.transactions.stop(replace(again, id=started.id + 1000))
        stored = await uow.transactions.get(started.id)
    assert stored == replace(first_stop, connector_id=1)
    assert stored.energy_wh == 7_000


async def test_update_stores_every_mutable_field(backend: Backend) -> None:
    await stations(backend, "CP-1")
    [started] = await committed_transactions(backend, start(ocpp_transaction_id="T-1"))
    refined = replace(
        started,
        connector_id=2,
        id_tag="CARD-2",
        authorization_status=AuthorizationStatus.BLOCKED,
        reservation_id=7,
        meter_start_wh=10,
        started_at=at(-5),
        meter_stop_wh=500,
        stopped_at=at(30),
        stop_reason="Remote",
        stop_id_tag="CARD-2",
        offline=True,
        remote_start_id=42,
    )
    async with backend.open() as uow:
        await uow.transactions.update(refined)
        with pytest.raises(LookupError):
            await uow.transactions.update(replace(refined, id=started.id + 1000))
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.get(started.id) == refined


async def test_an_update_onto_another_sessions_start_key_is_refused(backend: Backend) -> None:
    await stations(backend, "CP-1")
    first, second = await committed_transactions(backend, start(), start(started_at=at(1)))
    async with backend.open() as uow:
        with pytest.raises(backend.refused):
            await uow.transactions.update(replace(second, started_at=first.started_at))


async def test_a_transaction_event_is_recorded_once_per_sequence_number(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")
    async with backend.open() as uow:
        assert await uow.transactions.record_event(tx_event(0), T0)
        assert not await uow.transactions.record_event(tx_event(0), at(1))
        await uow.commit()
    async with backend.open() as uow:
        record = uow.transactions.record_event
        assert not await record(tx_event(0), at(2))  # a replay after a reconnect
        assert await record(tx_event(1), at(2))
        assert await record(tx_event(0, ocpp_id="T-2"), at(2))
        assert await record(tx_event(0, station_id="CP-2"), at(2))


async def test_active_sessions_are_counted_per_tag(backend: Backend) -> None:
    await stations(backend, "CP-1")
    first, _, _ = await committed_transactions(
        backend, start(), start(connector_id=2), start(id_tag="OTHER")
    )
    await stopped(backend, first, 2_000)
    async with backend.open() as uow:
        assert await uow.transactions.count_active_for_tag("CARD") == 1
        assert await uow.transactions.count_active_for_tag("OTHER") == 1
        assert await uow.transactions.count_active_for_tag("NOBODY") == 0


async def test_search_pages_newest_first_with_the_total(backend: Backend) -> None:
    await stations(backend, "CP-1")
    added = await committed_transactions(
        backend,
        start(started_at=at(1)),
        start(started_at=at(3)),
        start(started_at=at(2), connector_id=2),
        start(started_at=at(2), connector_id=3),  # same start time: the later id first
        start(started_at=at(0)),
    )
    async with backend.open() as uow:
        page = await uow.transactions.search(TransactionFilter(limit=3, offset=1))
    assert page.total == 5
    assert [t.id for t in page.items] == [added[3].id, added[2].id, added[0].id]


async def test_search_filters_by_every_field(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")
    a, b, c = await committed_transactions(
        backend,
        start("CP-1", id_tag="CARD", started_at=at(0)),
        start("CP-1", id_tag="OTHER", started_at=at(60)),
        start("CP-2", id_tag="CARD", started_at=at(120)),
    )
    a = await stopped(backend, a, 2_000)

    async def ids(**criteria: Any) -> list[int]:
        async with backend.open() as uow:
            page = await uow.transactions.search(TransactionFilter(**criteria))
        assert page.total == len(page.items)
        return [t.id for t in page.items]

    assert await ids(charge_point_id="CP-1") == [b.id, a.id]
    assert await ids(id_tag="CARD") == [c.id, a.id]
    assert await ids(started_from=at(60)) == [c.id, b.id]  # from: inclusive
    assert await ids(started_to=at(60)) == [a.id]  # to: exclusive
    assert await ids(active=True) == [c.id, b.id]
    assert await ids(active=False) == [a.id]
    assert await ids(charge_point_id="CP-1", active=True) == [b.id]
    assert await ids(charge_point_id="CP-2", id_tag="OTHER") == []
    async with backend.open() as uow:
        [found] = (await uow.transactions.search(TransactionFilter(active=False))).items
    assert found == a


async def test_usage_sums_finished_sessions_by_station_tag_and_utc_day(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    # 00:30 in UTC+02:00 is still 1 March in UTC.
    early_local = datetime(2026, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    a, b, c, d, _active = await committed_transactions(
        backend,
        start("CP-1", id_tag="CARD", started_at=late, meter_start_wh=1_000),
        start("CP-2", id_tag="CARD", started_at=early_local, meter_start_wh=0),
        start("CP-2", id_tag="FLEET", started_at=at(24 * 60 + 60), meter_start_wh=100),
        start("CP-1", id_tag="FLEET", started_at=at(24 * 60 + 120), meter_start_wh=5_000),
        start("CP-1", id_tag="CARD", started_at=at(24 * 60 + 180), meter_start_wh=0),
    )
    await stopped(backend, a, 4_000)  # 3 kWh
    await stopped(backend, b, 500)
    await stopped(backend, c, 1_100)  # 1 kWh
    await stopped(backend, d, 10)  # the meter ran backwards: no energy, still a session
    finished = TransactionFilter(active=False)

    async def usage(group_by: UsageGrouping, criteria: TransactionFilter) -> list[UsageRow]:
        async with backend.open() as uow:
            return await uow.transactions.usage(criteria, group_by)

    assert await usage(UsageGrouping.CHARGE_POINT, finished) == [
        UsageRow("CP-1", 2, 3_000),
        UsageRow("CP-2", 2, 1_500),
    ]
    assert await usage(UsageGrouping.ID_TAG, finished) == [
        UsageRow("CARD", 2, 3_500),
        UsageRow("FLEET", 2, 1_000),
    ]
    assert await usage(UsageGrouping.DAY, finished) == [
        UsageRow("2026-03-01", 2, 3_500),
        UsageRow("2026-03-02", 2, 1_000),
    ]
    assert await usage(
        UsageGrouping.ID_TAG, replace(finished, charge_point_id="CP-2", started_from=at(60))
    ) == [UsageRow("CARD", 1, 500), UsageRow("FLEET", 1, 1_000)]


async def test_meter_samples_come_back_in_time_order_with_exact_values(backend: Backend) -> None:
    await stations(backend, "CP-1")
    mine, other = await committed_transactions(backend, start(), start(connector_id=2))

    def sample(transaction_id: int | None, minutes: float, value: str) -> MeterSample:
        return MeterSample(
            charge_point_id="CP-1",
            connector_id=1,
            transaction_id=transaction_id,
            timestamp=at(minutes),
            measurand="Energy.Active.Import.Register",
            raw_value=value,
            value=Decimal(value),
            unit="Wh",
            phase="L1",
            context="Sample.Periodic",
            location="Outlet",
            format="Raw",
        )

    later, earlier = sample(mine.id, 10, "1234.567"), sample(mine.id, 5, "1000")
    async with backend.open() as uow:
        await uow.transactions.add_meter_samples(
            [later, sample(other.id, 7, "1"), earlier, sample(None, 8, "2")]
        )
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.list_meter_samples(mine.id) == [earlier, later]
        with pytest.raises(backend.refused):
            await uow.transactions.add_meter_samples([sample(other.id + 1000, 1, "1")])


async def test_a_meter_sample_is_stored_once_per_natural_key(backend: Backend) -> None:
    """Stations resend unacknowledged meter values: a replay is ignored, not an error,
    and NULL phases, locations, contexts or transactions do not defeat the key."""
    await stations(backend, "CP-1")
    [mine] = await committed_transactions(backend, start())

    def sample(minutes: float, **fields: Any) -> MeterSample:
        bare = MeterSample("CP-1", 1, None, at(minutes), "Power.Active.Import", "7", None, "W")
        return replace(bare, **fields)

    first = [
        sample(0),  # every optional key field NULL
        sample(0, transaction_id=mine.id),
        sample(0, phase="L1"),
        sample(0, format="SignedData", raw_value="sig"),  # not the Raw reading's copy
    ]
    async with backend.open() as uow:
        stored = await uow.transactions.add_meter_samples([*first, sample(0, raw_value="8")])
        assert stored == first  # the same key twice in one message: the first counts
        await uow.commit()
    async with backend.open() as uow:
        replay = [sample(0, raw_value="9"), sample(0, format="Raw"), *first, sample(1)]
        assert await uow.transactions.add_meter_samples(replay) == [sample(1)]
        assert await uow.transactions.add_meter_samples(first) == []
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.list_meter_samples(mine.id) == [first[1]]
        with pytest.raises(backend.refused):  # a missing transaction is still refused
            await uow.transactions.add_meter_samples([sample(2, transaction_id=mine.id + 99)])


async def test_events_are_stored_with_their_samples_and_a_replayed_event_stores_nothing(
    backend: Backend,
) -> None:
    """2.0.1 events that only add samples are written in batches: as if one by one."""
    await stations(backend, "CP-1")
    [mine] = await committed_transactions(backend, start())

    def sample(minutes: float, **fields: Any) -> MeterSample:
        bare = MeterSample("CP-1", 1, mine.id, at(minutes), "Power.Active.Import", "7", None, "W")
        return replace(bare, **fields)

    one = RecordedEvent(tx_event(1), T0, (sample(1), sample(1, phase="L1")))
    two = RecordedEvent(tx_event(2), T0, (sample(2), sample(1)))  # one's sample again
    async with backend.open() as uow:
        record = uow.transactions.add_events_and_samples
        # The second copy of event 1 in the same batch is a replay: its sample is not kept.
        new, stored = await record([one, two, replace(one, samples=(sample(3),))])
        assert new == {tx_event(1).key, tx_event(2).key}
        assert stored == [sample(1), sample(1, phase="L1"), sample(2)]
        await uow.commit()
    async with backend.open() as uow:
        record = uow.transactions.add_events_and_samples
        replayed = replace(two, samples=(sample(4),))  # resent after a reconnect, changed
        new, stored = await record([replayed, RecordedEvent(tx_event(3), T0, (sample(5),))])
        assert new == {tx_event(3).key}
        assert stored == [sample(5)]
        await uow.commit()
    async with backend.open() as uow:
        kept = await uow.transactions.list_meter_samples(mine.id)
        assert [s.timestamp for s in kept] == [at(1), at(1), at(2), at(5)]
        assert not await uow.transactions.record_event(tx_event(3), T0)
        with pytest.raises(backend.refused):  # a missing transaction refuses the batch
            await uow.transactions.add_events_and_samples(
                [RecordedEvent(tx_event(9), T0, (sample(6, transaction_id=mine.id + 99),))]
            )
    async with backend.open() as uow:  # nothing of the refused batch was kept
        new, _ = await uow.transactions.add_events_and_samples([RecordedEvent(tx_event(9), T0, ())])
        assert new == {tx_event(9).key}


# --- station events, commands, audit -----------------------------------------------------


async def test_station_events_are_listed_newest_first_per_station(backend: Backend) -> None:
    # No station row needed: failed logins of unknown ids are events too.
    kinds = [EventKind.BOOT, EventKind.AUTH_FAILED, EventKind.SECURITY_EVENT, EventKind.BOOT]
    owners = ["CP-1", "GHOST", "CP-1", "CP-1"]
    async with backend.open() as uow:
        for minutes, (owner, kind) in enumerate(zip(owners, kinds, strict=True)):
            await uow.events.add(StationEvent(owner, kind, at(minutes), {"n": minutes}))
        await uow.commit()
    async with backend.open() as uow:
        everything = await uow.events.recent(None, 10)
        assert [e.detail["n"] for e in everything] == [3, 2, 1, 0]
        assert len({e.id for e in everything}) == 4 and None not in {e.id for e in everything}
        latest_two = await uow.events.recent("CP-1", 2)
        assert [(e.kind, e.occurred_at) for e in latest_two] == [
            (EventKind.BOOT, at(3)),
            (EventKind.SECURITY_EVENT, at(2)),
        ]


async def test_details_come_back_as_json_and_must_be_json(backend: Backend) -> None:
    detail = {"reasons": ("a", "b"), "nested": {"level": 1.5, "ok": True, "none": None}}
    async with backend.open() as uow:
        await uow.events.add(StationEvent("CP-1", EventKind.NOTIFY_EVENT, T0, detail))
        await uow.commit()
    async with backend.open() as uow:
        [event] = await uow.events.recent("CP-1", 1)
        assert event.detail == {"reasons": ["a", "b"], "nested": detail["nested"]}
    async with backend.open() as uow:
        with pytest.raises(backend.not_json):
            await uow.events.add(StationEvent("CP-1", EventKind.BOOT, T0, {"at": T0}))


async def test_the_command_log_is_newest_first_per_station(backend: Backend) -> None:
    def record(station_id: str, action: str, minutes: float) -> CommandRecord:
        return CommandRecord(
            charge_point_id=station_id,
            action=action,
            parameters={"type": "Soft", "connectors": [1, 2]},
            requested_by="rest:token",
            requested_at=at(minutes),
            completed_at=at(minutes + 1),
            outcome=CommandOutcome.ANSWERED,
            status="Accepted",
            response={"status": "Accepted"},
        )

    async with backend.open() as uow:
        added = [
            await uow.commands.add(record("CP-1", "Reset", 0)),
            await uow.commands.add(record("CP-2", "Reset", 1)),
            await uow.commands.add(record("CP-1", "UnlockConnector", 2)),
        ]
        failed = await uow.commands.add(
            replace(
                record("CP-1", "ClearCache", 3),
                outcome=CommandOutcome.TIMEOUT,
                status=None,
                response={},
                error_code="Timeout",
                error_description="no answer within 30 s",
            )
        )
        await uow.commit()
    assert all(r.id is not None for r in [*added, failed])
    async with backend.open() as uow:
        assert await uow.commands.recent("CP-1", 2) == [failed, added[2]]
        assert [r.action for r in await uow.commands.recent(None, 10)] == [
            "ClearCache",
            "UnlockConnector",
            "Reset",
            "Reset",
        ]


async def test_the_audit_log_is_newest_first_and_filtered(backend: Backend) -> None:
    entries = [
        audit("rest:token", "send_remote_reset", "rest", 0),
        audit("mcp:operator", "send_remote_reset", "mcp", 1),
        audit("chat:c-1", "remote_stop", "chat", 2),
        audit("rest:token", "remote_stop", "rest", 3),
    ]
    async with backend.open() as uow:
        added = [await uow.audit.add(e) for e in entries]
        await uow.commit()
    assert all(a.id is not None for a in added)
    assert [replace(a, id=None) for a in added] == entries
    newest = list(reversed(added))
    async with backend.open() as uow:
        recent = uow.audit.recent
        assert await recent(10) == newest
        assert await recent(2) == newest[:2]
        assert await recent(10, actor="rest:token") == [added[3], added[0]]
        assert await recent(10, tool="send_remote_reset") == [added[1], added[0]]
        assert await recent(10, channel="chat") == [added[2]]
        assert await recent(10, actor="rest:token", tool="remote_stop", channel="rest") == [
            added[3]
        ]
        assert await recent(10, actor="rest:token", channel="mcp") == []


async def test_an_audit_entry_keeps_its_outcome_error_and_client(backend: Backend) -> None:
    denied = replace(
        audit("mcp:read-token", "send_remote_reset", "mcp"),
        arguments={"charge_point_id": "CP-1", "type": "Hard", "password": "[redacted]"},
        outcome=AuditOutcome.DENIED,
        result={"allowed": False, "roles": ("operator",)},
        error="role 'viewer' may not reset",
        client="mcp-session-1",
    )
    async with backend.open() as uow:
        await uow.audit.add(denied)
        await uow.commit()
    async with backend.open() as uow:
        [stored] = await uow.audit.recent(1)
    assert replace(stored, id=None) == replace(
        denied, result={"allowed": False, "roles": ["operator"]}
    )


# --- device model ------------------------------------------------------------------------


def variable(component: str, name: str, value: str, **fields: Any) -> DeviceModelEntry:
    return DeviceModelEntry(component, name, value=value, updated_at=T0, **fields)


async def test_the_device_model_is_upserted_by_key_and_listed_in_key_order(
    backend: Backend,
) -> None:
    await stations(backend, "CP-1", "CP-2")
    power_2 = variable("EVSE", "Power", "22000", evse_id=2, mutability="ReadOnly")
    power_1 = variable("EVSE", "Power", "11000", evse_id=1, persistent=True, constant=False)
    limit_target = variable("SmartChargingCtrlr", "Limit", "16", attribute_type="Target")
    limit_actual = variable(
        "SmartChargingCtrlr", "Limit", "32", characteristics={"unit": "A", "values": [6, 32]}
    )
    async with backend.open() as uow:
        await uow.device_model.upsert("CP-1", [power_2, limit_target, power_1])
        await uow.device_model.upsert("CP-2", [variable("EVSE", "Power", "7400", evse_id=1)])
        await uow.commit()
    changed = replace(power_1, value="7400", updated_at=at(5))
    async with backend.open() as uow:
        await uow.device_model.upsert("CP-1", [changed, limit_actual])
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.device_model.all("CP-1") == [
            changed,
            power_2,
            limit_actual,
            limit_target,
        ]
        assert [e.value for e in await uow.device_model.all("CP-2")] == ["7400"]
        assert await uow.device_model.all("CP-404") == []


async def test_a_device_model_entry_without_a_time_gets_one(backend: Backend) -> None:
    await stations(backend, "CP-1")
    async with backend.open() as uow:
        await uow.device_model.upsert("CP-1", [DeviceModelEntry("ChargingStation", "Model")])
        await uow.commit()
    async with backend.open() as uow:
        [entry] = await uow.device_model.all("CP-1")
    assert entry.updated_at is not None and entry.updated_at.utcoffset() == timedelta(0)


async def test_the_device_model_of_an_unknown_station_is_refused(backend: Backend) -> None:
    async with backend.open() as uow:
        with pytest.raises(backend.refused):
            await uow.device_model.upsert("CP-404", [variable("EVSE", "Power", "1")])


# --- conversations -----------------------------------------------------------------------


def message(role: str, text: str, minutes: float) -> ChatMessage:
    return ChatMessage(role, [{"type": "text", "text": text}], at(minutes))


async def test_a_conversation_round_trips_with_its_messages_in_order(backend: Backend) -> None:
    opening = [message("user", "reset CP-1", 0), message("assistant", "Confirm?", 1)]
    chat = Conversation("c-1", T0, at(1), "Reset CP-1", opening, {"tool": "reset", "id": "t1"})
    async with backend.open() as uow:
        await uow.conversations.add(chat)
        await uow.commit()
    follow_up = [message("user", "yes", 2), message("assistant", "Done.", 3)]
    async with backend.open() as uow:
        await uow.conversations.append("c-1", follow_up)
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.conversations.get("c-1") == replace(chat, messages=[*opening, *follow_up])
        assert await uow.conversations.get("c-404") is None
        with pytest.raises(backend.refused):
            await uow.conversations.add(replace(chat, title="again"))


async def test_a_conversation_update_touches_title_time_and_pending_action_only(
    backend: Backend,
) -> None:
    chat = Conversation("c-1", T0, T0, "New chat", [message("user", "hi", 0)], {"tool": "reset"})
    async with backend.open() as uow:
        await uow.conversations.add(chat)
        await uow.commit()
    async with backend.open() as uow:
        await uow.conversations.update(
            replace(chat, title="Greeting", updated_at=at(5), pending_action=None, messages=[])
        )
        with pytest.raises(LookupError):
            await uow.conversations.update(replace(chat, id="c-404"))
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.conversations.get("c-1") == replace(
            chat, title="Greeting", updated_at=at(5), pending_action=None
        )


async def test_recent_conversations_are_newest_first_without_messages(backend: Backend) -> None:
    async with backend.open() as uow:
        for name, minutes in [("old", 0), ("newest", 20), ("middle", 10)]:
            await uow.conversations.add(
                Conversation(name, T0, at(minutes), name.title(), [message("user", name, 0)])
            )
        await uow.commit()
    async with backend.open() as uow:
        recent = await uow.conversations.recent(2)
    assert [(c.id, c.messages) for c in recent] == [("newest", []), ("middle", [])]


async def test_messages_of_an_unknown_conversation_are_refused(backend: Backend) -> None:
    async with backend.open() as uow:
        with pytest.raises(backend.refused):
            await uow.conversations.append("c-404", [message("user", "hello?", 0)])


# --- API tokens --------------------------------------------------------------------------


def token(name: str, role: Role, minutes: float, digest: str | None = None) -> ApiToken:
    return ApiToken(name, role, digest or f"sha256:{name}", at(minutes))


async def test_api_tokens_round_trip_by_name_and_digest_oldest_first(backend: Backend) -> None:
    tokens = [
        token("ci", Role.OPERATOR, 10),
        token("grafana", Role.VIEWER, 0),
        token("ops-lead", Role.ADMIN, 5),
    ]
    async with backend.open() as uow:
        for t in tokens:
            await uow.api_tokens.add(t)
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.api_tokens.get("ci") == tokens[0]
        assert await uow.api_tokens.by_digest("sha256:ops-lead") == tokens[2]
        assert await uow.api_tokens.get("nobody") is None
        assert await uow.api_tokens.by_digest("sha256:nobody") is None
        assert [t.name for t in await uow.api_tokens.all()] == ["grafana", "ops-lead", "ci"]


async def test_a_token_name_and_digest_are_taken_once_even_when_revoked(backend: Backend) -> None:
    async with backend.open() as uow:
        await uow.api_tokens.add(token("ci", Role.OPERATOR, 0))
        assert await uow.api_tokens.revoke("ci", at(1))
        await uow.commit()
    async with backend.open() as uow:
        with pytest.raises(DuplicateNameError):
            await uow.api_tokens.add(token("ci", Role.VIEWER, 2, digest="sha256:other"))
    async with backend.open() as uow:
        with pytest.raises(DuplicateNameError):
            await uow.api_tokens.add(token("copy", Role.VIEWER, 2, digest="sha256:ci"))


async def test_a_token_is_revoked_once(backend: Backend) -> None:
    async with backend.open() as uow:
        await uow.api_tokens.add(token("ci", Role.OPERATOR, 0))
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.api_tokens.revoke("ci", at(5))
        assert not await uow.api_tokens.revoke("ci", at(9))
        assert not await uow.api_tokens.revoke("nobody", at(9))
        await uow.commit()
    async with backend.open() as uow:
        revoked = await uow.api_tokens.get("ci")
    assert revoked == replace(token("ci", Role.OPERATOR, 0), revoked_at=at(5))
    assert revoked is not None and not revoked.active


# --- OCPP correctness (issue #13) ----------------------------------------------------------


async def test_each_connector_of_an_evse_keeps_its_own_status(backend: Backend) -> None:
    await stations(backend, "CP-1")
    cable_a = status(1, "Occupied", 1, evse_connector_id=1)
    cable_b = status(1, "Unavailable", 2, evse_connector_id=2)
    connector_16 = status(2, "Available", 3)  # a 1.6 connector: no connector within an EVSE
    async with backend.open() as uow:
        for connector in (cable_b, connector_16, cable_a):
            await uow.charge_points.save_connector_status("CP-1", connector)
        await uow.charge_points.save_connector_status(
            "CP-1", status(1, "Available", 4, evse_connector_id=1)
        )
        await uow.charge_points.add_status_change(
            StatusChange("CP-1", 1, "Unavailable", "NoError", at(2), at(2), evse_connector_id=2)
        )
        await uow.commit()
    async with backend.open() as uow:
        stored = await uow.charge_points.get("CP-1")
        [change] = await uow.charge_points.list_status_changes("CP-1", 1, 10)
    assert stored is not None
    assert stored.connectors == [
        status(1, "Available", 4, evse_connector_id=1),
        cable_b,
        connector_16,
    ]
    assert change.evse_connector_id == 2


async def test_a_signed_sample_keeps_its_signature(backend: Backend) -> None:
    await stations(backend, "CP-1")
    [mine] = await committed_transactions(backend, start())
    signature = SignedMeterValue("b64data", "ECDSA-secp256r1-SHA256", "OCMF", "b64key")
    signed = MeterSample(
        charge_point_id="CP-1",
        connector_id=1,
        transaction_id=mine.id,
        timestamp=at(1),
        measurand="Energy.Active.Import.Register",
        raw_value="12.5",
        value=Decimal("12500.0"),
        unit="Wh",
        context="Transaction.End",
        location="Outlet",
        format="Raw",
        signed=signature,
    )
    async with backend.open() as uow:
        await uow.transactions.add_meter_samples([signed])
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.list_meter_samples(mine.id) == [signed]


async def test_only_accepted_active_sessions_hold_a_tag(backend: Backend) -> None:
    await stations(backend, "CP-1")
    await committed_transactions(
        backend,
        start(),
        start(connector_id=2, authorization_status=AuthorizationStatus.CONCURRENT_TX),
        start(connector_id=3, authorization_status=AuthorizationStatus.INVALID),
    )
    async with backend.open() as uow:
        assert await uow.transactions.count_active_for_tag("CARD") == 1


async def test_active_transactions_of_a_connector_oldest_first(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")
    newer, older, _other_connector, _other_station, done = await committed_transactions(
        backend,
        start(started_at=at(5)),
        start(started_at=at(1), id_tag="OLD"),
        start(connector_id=2),
        start("CP-2"),
        start(started_at=at(0), id_tag="DONE"),
    )
    await stopped(backend, done, 2_000)
    async with backend.open() as uow:
        assert await uow.transactions.active_on_connector("CP-1", 1) == [older, newer]
        assert await uow.transactions.active_on_connector("CP-1", 4) == []


async def test_a_stop_and_an_update_carry_the_csms_closed_mark(backend: Backend) -> None:
    await stations(backend, "CP-1")
    [forgotten] = await committed_transactions(backend, start())
    closed = replace(
        forgotten,
        meter_stop_wh=1_500,
        stopped_at=at(60),
        stop_reason=CLOSED_BY_CSMS_REASON,
        closed_by_csms=True,
    )
    async with backend.open() as uow:
        assert await uow.transactions.stop(closed)
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.get(forgotten.id) == closed
        corrected = replace(closed, meter_stop_wh=1_700, stop_reason="Local", closed_by_csms=False)
        await uow.transactions.update(corrected)
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.get(forgotten.id) == corrected


async def test_a_remote_start_token_is_remembered_per_station(backend: Backend) -> None:
    await stations(backend, "CP-1", "CP-2")
    async with backend.open() as uow:
        await uow.transactions.remember_remote_start("CP-1", 77, "CARD", T0)
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.remote_start_tag("CP-1", 77) == "CARD"
        assert await uow.transactions.remote_start_tag("CP-2", 77) is None
        assert await uow.transactions.remote_start_tag("CP-1", 78) is None
        # The id counter of a restarted CSMS may come round again: the newest request wins.
        await uow.transactions.remember_remote_start("CP-1", 77, "OTHER", at(1))
        await uow.commit()
    async with backend.open() as uow:
        assert await uow.transactions.remote_start_tag("CP-1", 77) == "OTHER"
        with pytest.raises(backend.refused):
            await uow.transactions.remember_remote_start("CP-404", 1, "CARD", T0)


async def test_station_pages_take_the_connected_ids_of_a_large_network(backend: Backend) -> None:
    """Who is online is a set of ids from memory: ten thousand of them (most of them not
    in this table) filter and sort the same way in SQL as in the fakes."""
    async with backend.open() as uow:
        for name, vendor in (("CP-A", "Volt"), ("CP-B", None), ("CP-C", "Acme"), ("CP-D", None)):
            boot = BootInfo(vendor=vendor, model="M") if vendor else None
            await uow.charge_points.add(station(name, boot=boot, last_boot_at=T0 if boot else None))
        await uow.charge_points.save_connector_status(
            "CP-C", ConnectorStatus(1, "Faulted", "GroundFailure", T0)
        )
        await uow.charge_points.save_connector_status(
            "CP-D", ConnectorStatus(1, "Faulted", "GroundFailure", T0)
        )
        await uow.commit()
    online = frozenset({"CP-A", "CP-C"} | {f"ELSEWHERE-{n}" for n in range(10_000)})

    async def ids(**criteria: Any) -> tuple[list[str], int]:
        async with backend.open() as uow:
            page = await uow.charge_points.search(StationQuery(online_ids=online, **criteria))
        return [s.id for s in page.items], page.total

    assert await ids(status=StationFilter.ONLINE) == (["CP-A", "CP-C"], 2)
    assert await ids(status=StationFilter.OFFLINE) == (["CP-B", "CP-D"], 2)
    assert await ids(status=StationFilter.FAULTED) == (["CP-C"], 1)  # CP-D is offline
    assert await ids(sort=StationSort.ONLINE, limit=3) == (["CP-A", "CP-C", "CP-B"], 4)
    assert await ids(sort=StationSort.ONLINE, order=SortOrder.DESC, limit=1) == (["CP-D"], 4)
    assert await ids(sort=StationSort.VENDOR) == (["CP-C", "CP-A", "CP-B", "CP-D"], 4)
    assert await ids(status=StationFilter.BOOTED, text="ACM") == (["CP-C"], 1)
    async with backend.open() as uow:
        vendors = (await uow.charge_points.search(StationQuery(limit=1))).vendors
    assert vendors == ["Acme", "Volt"]
