"""Commands for stations held by another node: NATS request/reply to the owner.

`ClusterGateway` is the ChargerGateway port for the whole cluster. A station connected
here goes straight to the local gateway; otherwise PostgreSQL names its owner and the
command travels to that node's subject, where `CommandServer` runs it through the owner's
local gateway and answers with the station's result or the error raised there, which the
caller re-raises (same class, same message): REST and MCP map it as in one process.

Every wait is bounded: the request waits for the station's own call timeout plus a margin
for the hop. A stopped owner answers "offline" (its stations' calls fail as their sockets
close); one that dies mid-call gives a clear timeout error at that bound; one that is gone
gives "no responders" at once, reported as offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from ev_charging_system.business_logic.ports import ChargerGateway, StationPresence
from ev_charging_system.cluster import codec
from ev_charging_system.cluster.ownership import StationOwnership
from ev_charging_system.cluster.subjects import Subjects
from ev_charging_system.cluster.tasks import cancel_and_wait
from ev_charging_system.models.commands import Command, CommandResult
from ev_charging_system.models.errors import (
    CommandError,
    CommandTimeoutError,
    StationOfflineError,
)

logger = logging.getLogger(__name__)

HOP_MARGIN_SECONDS = 5.0  # on top of the station call timeout, for NATS and the owner


class OwnerNotAnsweringError(CommandTimeoutError):
    """The node holding the station did not answer in time (it may have died)."""

    def __init__(self, charge_point_id: str, node_id: str, action: str, seconds: float) -> None:
        CommandError.__init__(
            self,
            f"charge point {charge_point_id!r} is held by node {node_id!r}, which did not "
            f"answer {action} within {seconds:g} s (the node may have stopped; the station "
            "reconnects to another node)",
        )


class ClusterLookupError(CommandError):
    def __init__(self, charge_point_id: str, detail: str) -> None:
        super().__init__(f"cannot find the node holding charge point {charge_point_id!r}: {detail}")


class ClusterGateway:
    def __init__(
        self,
        local: ChargerGateway,
        local_presence: StationPresence,
        ownership: StationOwnership,
        subjects: Subjects,
        call_timeout: float,
        remote_owner: Callable[[str], str | None] = lambda _station: None,
    ) -> None:
        self._local = local
        self._local_presence = local_presence
        # What the other nodes' events said, for the moment between a station connecting
        # there and its ownership row being written.
        self._remote_owner = remote_owner
        self._ownership = ownership
        self._subjects = subjects
        self._timeout = call_timeout + HOP_MARGIN_SECONDS
        self._nats: Client | None = None
        self.forwarded = 0

    def attach(self, nats: Client) -> None:
        self._nats = nats

    async def send(self, charge_point_id: str, command: Command) -> CommandResult:
        tried: set[str] = set()
        while True:
            if self._local_presence.is_online(charge_point_id):
                return await self._local.send(charge_point_id, command)
            try:
                owner = await self._ownership.owner_of(charge_point_id)
            except Exception as error:
                raise ClusterLookupError(charge_point_id, f"the database: {error}") from error
            owner = owner or self._remote_owner(charge_point_id)
            if owner is None or owner == self._ownership.node_id:
                raise StationOfflineError(charge_point_id)
            try:
                return await self._forward(owner, charge_point_id, command)
            except StationOfflineError:
                # It may have moved on while the request travelled: one more look, once
                # per node, then the answer stands.
                tried.add(owner)
                fresh = await self._ownership.owner_of(charge_point_id)
                if fresh is None or fresh in tried:
                    raise

    async def _forward(self, owner: str, charge_point_id: str, command: Command) -> CommandResult:
        if self._nats is None or not self._nats.is_connected:
            raise StationOfflineError(
                charge_point_id, f"is held by node {owner!r}, and this node has no NATS link"
            )
        request = codec.dumps(
            {"station": charge_point_id, "command": codec.encode_command(command)}
        )
        self.forwarded += 1
        try:
            message = await self._nats.request(
                self._subjects.commands_of(owner), request, timeout=self._timeout
            )
        except NoRespondersError:
            raise StationOfflineError(
                charge_point_id, f"is held by node {owner!r}, which is not reachable"
            ) from None
        except (TimeoutError, NatsTimeoutError):
            raise OwnerNotAnsweringError(
                charge_point_id, owner, type(command).__name__, self._timeout
            ) from None
        answer = codec.loads(message.data)
        if "error" in answer:
            raise codec.decode_error(answer["error"])
        return codec.decode_result(answer["result"])


class CommandServer:
    """Runs the commands other nodes forward to this node's stations."""

    def __init__(
        self, local: ChargerGateway, node_id: str, subjects: Subjects, call_timeout: float
    ) -> None:
        self._local = local
        self._node_id = node_id
        self._subjects = subjects
        self._timeout = call_timeout + HOP_MARGIN_SECONDS
        self._subscription: Subscription | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.served = 0

    async def start(self, nats: Client) -> None:
        self._subscription = await nats.subscribe(
            self._subjects.commands_of(self._node_id), cb=self._received
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None
        await cancel_and_wait(*self._running)

    async def _received(self, message: Msg) -> None:
        # NATS runs one subscription's callbacks one after another: each command gets its
        # own task so a slow station does not hold up commands for the others.
        task = asyncio.create_task(self._serve(message))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _serve(self, message: Msg) -> None:
        answer: dict[str, object]
        try:
            request = codec.loads(message.data)
            station = str(request["station"])
            command = codec.decode_command(request["command"])
            result = await asyncio.wait_for(self._local.send(station, command), self._timeout)
            answer = {"result": codec.encode_result(result)}
        except CommandError as error:
            answer = {"error": codec.encode_error(error)}
        except (codec.CodecError, KeyError) as error:
            answer = {"error": codec.encode_error(CommandError(f"unreadable request: {error}"))}
        except TimeoutError:
            answer = {"error": codec.encode_error(CommandError("the station's node timed out"))}
        except Exception as error:
            logger.exception("cluster: forwarded command failed")
            failure = CommandError(f"node {self._node_id!r} failed: {type(error).__name__}")
            answer = {"error": codec.encode_error(failure)}
        self.served += 1
        if message.reply:
            try:
                await message.respond(codec.dumps(answer))
            except Exception as error:
                logger.warning("cluster: could not answer a forwarded command: %s", error)
