"""Who may charge: authorization decisions on hand-made id tags."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ev_charging_system.business_logic.auth_service import AuthService, IdTagChanges
from ev_charging_system.models.errors import ConflictError, InvalidInputError, NotFoundError
from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.listing import IdTagQuery
from tests.unit.fakes import FakeClock, FakeStore, FakeUnitOfWork


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def auth(clock: FakeClock) -> AuthService:
    store = FakeStore()
    return AuthService(lambda: FakeUnitOfWork(store), clock)


async def test_an_unknown_tag_is_invalid(auth: AuthService) -> None:
    assert (await auth.authorize("NOBODY")).status is AuthorizationStatus.INVALID


async def test_a_tag_expires_at_its_expiry_date(auth: AuthService, clock: FakeClock) -> None:
    await auth.create_id_tag("CARD", expiry_date=clock.now + timedelta(minutes=1))
    assert (await auth.authorize("CARD")).status is AuthorizationStatus.ACCEPTED
    clock.advance(minutes=1)
    info = await auth.authorize("CARD")
    assert info.status is AuthorizationStatus.EXPIRED
    assert info.expiry_date == clock.now


async def test_a_child_follows_its_expired_parent(auth: AuthService, clock: FakeClock) -> None:
    await auth.create_id_tag("FLEET", expiry_date=clock.now - timedelta(seconds=1))
    await auth.create_id_tag("DRIVER", parent_id_tag="FLEET")
    info = await auth.authorize("DRIVER")
    assert info.status is AuthorizationStatus.BLOCKED
    assert info.parent_id_tag == "FLEET"


async def test_stored_status_wins_over_expiry(auth: AuthService, clock: FakeClock) -> None:
    await auth.create_id_tag(
        "CARD", status=AuthorizationStatus.BLOCKED, expiry_date=clock.now - timedelta(days=1)
    )
    assert (await auth.authorize("CARD")).status is AuthorizationStatus.BLOCKED


async def test_update_clears_fields_only_when_asked(auth: AuthService, clock: FakeClock) -> None:
    await auth.create_id_tag("P")
    await auth.create_id_tag("CARD", parent_id_tag="P", expiry_date=clock.now, name="Ann")
    renamed = await auth.update_id_tag("CARD", IdTagChanges(name="Anna"))
    assert (renamed.parent_id_tag, renamed.expiry_date) == ("P", clock.now)
    cleared = await auth.update_id_tag(
        "CARD", IdTagChanges(clear_parent_id_tag=True, clear_expiry_date=True)
    )
    assert (cleared.parent_id_tag, cleared.expiry_date, cleared.name) == (None, None, "Anna")


async def test_bad_tags_are_refused_and_nothing_is_stored(auth: AuthService) -> None:
    with pytest.raises(InvalidInputError):
        await auth.create_id_tag(" padded ")
    with pytest.raises(InvalidInputError):
        await auth.create_id_tag("SELF", parent_id_tag="SELF")
    with pytest.raises(NotFoundError):  # a parent that is not there: nothing to point at
        await auth.create_id_tag("ORPHAN", parent_id_tag="MISSING")
    assert (await auth.list_id_tags(IdTagQuery(limit=10)))[1] == 0
    await auth.create_id_tag("ONCE")
    with pytest.raises(ConflictError):
        await auth.create_id_tag("ONCE")
    with pytest.raises(NotFoundError):
        await auth.delete_id_tag("NEVER")
