"""Operations on the energy planner, from any node, performed on the leader.

Only the leader runs the planner, and the planner holds its state in memory (measurements,
manual setpoints, deferrable loads' progress, the current plan). So the runner of a node
that does not lead sends an `on_leader` operation here (`LeaderRoute`), and it travels as
a NATS request to `<cluster>.leader.calls`. Only the leader subscribes to that subject
(from the moment it is elected until it steps down; a queue group, so a message is never
taken by two nodes even in the instant a subscription is being replaced); it performs the
call with its own runner and answers with the operation's JSON answer or the domain error
raised there, which the caller re-raises: REST and MCP answer exactly as on the leader.

Nobody leads (leadership is moving, the leader died): NATS says "no responders" at once,
reported as 503 with Retry-After. The leader took the call but did not answer within the
bound (it died mid-call, or hangs): 504. A node that lost the leadership while the call
was on its way answers 503 too. Never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.business_logic.operations.leader_route import ForwardedCall, Stage
from ev_charging_system.cluster import codec
from ev_charging_system.cluster.subjects import Subjects
from ev_charging_system.cluster.tasks import cancel_and_wait
from ev_charging_system.models.errors import (
    DomainError,
    LeaderTimeoutError,
    LeaderUnavailableError,
)

logger = logging.getLogger(__name__)

QUEUE_GROUP = "leader"
Perform = Callable[[ForwardedCall], Awaitable[bytes]]


class LeaderCalls:
    def __init__(
        self,
        node_id: str,
        subjects: Subjects,
        timeout_seconds: float,
        is_leader: Callable[[], bool],
        retry_after_seconds: float,
    ) -> None:
        self._node_id = node_id
        self._subjects = subjects
        self._timeout = timeout_seconds
        self._is_leader = is_leader
        self._retry_after = max(1, math.ceil(retry_after_seconds))
        self._nats: Client | None = None
        self._perform: Perform | None = None
        self._subscription: Subscription | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.forwarded = 0
        self.served = 0

    # ---------------------------------------------------------------- any node: the route

    def runs_here(self) -> bool:
        return self._is_leader()

    async def call(self, forwarded: ForwardedCall) -> bytes:
        if self._nats is None or not self._nats.is_connected:
            raise LeaderUnavailableError(
                f"{forwarded.operation} runs on the node that leads the cluster (the energy "
                "planner's), and this node has no NATS link to it",
                self._retry_after,
            )
        self.forwarded += 1
        try:
            message = await self._nats.request(
                self._subjects.leader_calls, codec.dumps(_encode(forwarded)), timeout=self._timeout
            )
        except NoRespondersError:
            raise LeaderUnavailableError(
                f"{forwarded.operation} runs on the node that leads the cluster (the energy "
                "planner's), and no node leads at this moment (the leadership is moving)",
                self._retry_after,
            ) from None
        except (TimeoutError, NatsTimeoutError):
            raise LeaderTimeoutError(
                f"the node leading the cluster did not answer {forwarded.operation} within "
                f"{self._timeout:g} s (it may have stopped; another node takes over)"
            ) from None
        answer = codec.loads(message.data)
        if "error" in answer:
            raise codec.decode_domain_error(answer["error"])
        result = answer.get("result")
        if not isinstance(result, str):
            raise DomainError(
                f"the leading node sent an unreadable answer to {forwarded.operation}"
            )
        return result.encode()

    def attach(self, nats: Client) -> None:
        self._nats = nats

    # ------------------------------------------------------------------- the leader: serve

    def serve(self, perform: Perform) -> None:
        """`perform(call)` runs a forwarded call on this node (the operation runner)."""
        self._perform = perform

    async def elected(self) -> None:
        """This node leads now: take the calls (after its planner started)."""
        if self._nats is None or self._subscription is not None:
            return
        self._subscription = await self._nats.subscribe(
            self._subjects.leader_calls, queue=QUEUE_GROUP, cb=self._received
        )
        with contextlib.suppress(Exception):  # registered before anyone relies on it
            await self._nats.flush(timeout=2)

    async def deposed(self) -> None:
        """No longer the leader: stop taking calls, finish (bounded) the ones running."""
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None
        await cancel_and_wait(*self._running, bound=self._timeout)

    async def _received(self, message: Msg) -> None:
        # One subscription's callbacks run one after another: a slow plan must not hold
        # up a status read, so each call gets its own task.
        task = asyncio.create_task(self._answer(message), name="cluster-leader-call")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(self, message: Msg) -> None:
        answer: dict[str, object]
        try:
            forwarded = _decode(codec.loads(message.data))
            if not self._is_leader() or self._perform is None:
                raise LeaderUnavailableError(
                    f"node {self._node_id!r} no longer leads the cluster; retry",
                    self._retry_after,
                )
            result = await asyncio.wait_for(self._perform(forwarded), self._timeout)
            answer = {"result": result.decode()}
        except DomainError as error:
            answer = {"error": codec.encode_domain_error(error)}
        except asyncio.CancelledError:
            # Stepping down mid-call: say so now rather than let the caller wait out its bound.
            stopped = LeaderUnavailableError(
                f"node {self._node_id!r} stopped leading during the call; read the state "
                "back before retrying",
                self._retry_after,
            )
            if message.reply:
                with contextlib.suppress(Exception):
                    error_answer = {"error": codec.encode_domain_error(stopped)}
                    await message.respond(codec.dumps(error_answer))
            raise
        except (codec.CodecError, KeyError, ValueError) as error:
            answer = {"error": codec.encode_domain_error(DomainError(f"unreadable call: {error}"))}
        except TimeoutError:
            failure: DomainError = LeaderTimeoutError(
                f"the leading node could not finish the call within {self._timeout:g} s"
            )
            answer = {"error": codec.encode_domain_error(failure)}
        except Exception as error:
            logger.exception("cluster: a call forwarded to the leader failed")
            failure = DomainError(
                f"the leading node {self._node_id!r} failed: {type(error).__name__}"
            )
            answer = {"error": codec.encode_domain_error(failure)}
        self.served += 1
        if message.reply:
            try:
                await message.respond(codec.dumps(answer))
            except Exception as error:
                logger.warning("cluster: could not answer a forwarded call: %s", error)


def _encode(forwarded: ForwardedCall) -> dict[str, object]:
    actor = forwarded.actor
    return {
        "operation": forwarded.operation,
        "stage": forwarded.stage.value,
        "arguments": forwarded.arguments,
        "actor": {
            "name": actor.name,
            "channel": actor.channel.value,
            "role": actor.role.name,
            "client": actor.client,
            "authenticated": actor.authenticated,
        },
    }


def _decode(document: dict[str, object]) -> ForwardedCall:
    actor = document["actor"]
    arguments = document["arguments"]
    if not isinstance(actor, dict) or not isinstance(arguments, dict):
        raise codec.CodecError(f"not a forwarded call: {document!r:.200}")
    client = actor.get("client")
    return ForwardedCall(
        operation=str(document["operation"]),
        stage=Stage(str(document["stage"])),
        arguments=arguments,
        actor=Actor(
            name=str(actor["name"]),
            channel=Channel(str(actor["channel"])),
            role=Role[str(actor["role"])],
            client=None if client is None else str(client),
            authenticated=bool(actor["authenticated"]),
        ),
    )
