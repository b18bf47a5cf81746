"""Runs catalogue operations the same way for every channel.

validate (input model) -> authorize (role) -> [precheck + confirmation, by the channel] ->
perform (the service call) -> audit (actions only: actor, channel, client, redacted
arguments, outcome, result).

REST confirms by role: an operator's request is the confirmation. MCP and the chat ask a
person first (`prepare` gives them the sentence to show) and then `execute`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.bounded import DeadlineExceededError, within
from ev_charging_system.business_logic.observability import NO_OBSERVER, Observer
from ev_charging_system.business_logic.operations.actor import Actor, Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Catalogue,
    OperationContext,
)
from ev_charging_system.business_logic.operations.leader_route import (
    ForwardedCall,
    LeaderRoute,
    Stage,
)
from ev_charging_system.business_logic.operations.services import OperationServices
from ev_charging_system.business_logic.redaction import redact_value, redacted_dump
from ev_charging_system.models.audit import AuditOutcome
from ev_charging_system.models.errors import (
    DomainError,
    FieldProblem,
    InputValidationError,
    PermissionDeniedError,
    StorageUnavailableError,
)


def field_problems(error: ValidationError) -> list[FieldProblem]:
    """Pydantic's errors as field path + message (never the rejected value: it may be secret)."""
    return [
        FieldProblem(
            field=".".join(str(part) for part in problem["loc"]),
            message=problem["msg"].removeprefix("Value error, "),
            type=problem["type"],
        )
        for problem in error.errors(include_url=False, include_input=False)
    ]


def denial(operation: AnyOperation, actor: Actor) -> PermissionDeniedError:
    if not actor.authenticated or actor.role is Role.ANONYMOUS:
        return PermissionDeniedError(
            f"{operation.name} needs a signed-in {operation.role.label}: send "
            "'Authorization: Bearer <token>'",
            authenticated=False,
        )
    return PermissionDeniedError(
        f"{operation.name} needs the {operation.role.label} role; {actor.name} is "
        f"{actor.role.label}",
        authenticated=True,
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated, authorised call and the sentence a person is asked to confirm."""

    operation: AnyOperation
    arguments: BaseModel
    sentence: str


def jsonable(value: Any) -> Any:
    """Any read model or value as plain JSON data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if value is None:
        return None
    return TypeAdapter(type(value)).dump_python(value, mode="json")


class OperationRunner:
    def __init__(
        self,
        catalogue: Catalogue,
        services: OperationServices,
        audit: AuditService,
        observer: Observer = NO_OBSERVER,
        read_timeout_seconds: float | None = None,
    ) -> None:
        self.catalogue = catalogue
        self._read_timeout = read_timeout_seconds
        self._observer = observer
        self._services = services
        self._audit = audit
        self._leader: LeaderRoute | None = None

    def route_to_leader(self, route: LeaderRoute) -> None:
        """In a cluster: `on_leader` operations are performed on the leading node."""
        self._leader = route

    def operation(self, name: str) -> AnyOperation:
        return self.catalogue.get(name)

    def validate(self, operation: AnyOperation, raw: Mapping[str, Any]) -> BaseModel:
        """The input model of `raw`, or InputValidationError naming each bad field."""
        try:
            arguments: BaseModel = operation.input.model_validate(dict(raw))
        except ValidationError as error:
            raise InputValidationError(operation.name, field_problems(error)) from None
        return arguments

    async def authorize(
        self, operation: AnyOperation, arguments: BaseModel | None, actor: Actor
    ) -> None:
        if actor.may(operation.role):
            return
        error = denial(operation, actor)
        self._observer.operation_called(actor.channel.value, operation.name, "denied")
        if operation.recorded:
            await self.record(operation, arguments, actor, AuditOutcome.DENIED, error=str(error))
        raise error

    async def prepare(
        self, operation: AnyOperation, arguments: BaseModel, actor: Actor
    ) -> Prepared:
        """Authorise and check a call before a person is asked to confirm it."""
        await self.authorize(operation, arguments, actor)
        if operation.precheck is not None:
            if self._elsewhere(operation):
                await self._forward(operation, Stage.PRECHECK, arguments, actor)
            else:
                await operation.precheck(self._context(actor), arguments)
        return Prepared(operation, arguments, operation.sentence(arguments))

    async def execute(self, operation: AnyOperation, arguments: BaseModel, actor: Actor) -> Any:
        """Perform a (confirmed, where the channel asks) call; actions are audited."""
        await self.authorize(operation, arguments, actor)
        try:
            result = await self._perform(operation, arguments, actor)
        except DomainError as error:
            self._observer.operation_called(actor.channel.value, operation.name, "error")
            if operation.recorded:
                await self.record(operation, arguments, actor, AuditOutcome.ERROR, error=str(error))
            raise
        self._observer.operation_called(actor.channel.value, operation.name, "ok")
        if operation.recorded:
            await self.record(operation, arguments, actor, AuditOutcome.OK, result=result)
        return result

    async def _perform(self, operation: AnyOperation, arguments: BaseModel, actor: Actor) -> Any:
        """A read of our own data answers within the read timeout, even when the database
        hangs (503 then; the read is simply asked again). Actions are not cut short: one
        may have committed when the deadline passes, and station calls have their own.
        An `on_leader` operation on a node that does not lead goes to the leader, bounded
        by the route."""
        if self._elsewhere(operation):
            answer = await self._forward(operation, Stage.PERFORM, arguments, actor)
            if operation.output is None:
                return None
            # The declared output type, revived from the leader's JSON: every channel
            # renders it exactly as the leader's own result.
            return _adapter(operation.output).validate_json(answer)
        work = operation.perform(self._context(actor), arguments)
        if self._read_timeout is None or not operation.read_only or operation.open_world:
            return await work
        try:
            return await within(self._read_timeout, work)
        except DeadlineExceededError as error:
            raise StorageUnavailableError(f"{operation.name} waited: {error}") from error

    def _elsewhere(self, operation: AnyOperation) -> bool:
        return operation.on_leader and self._leader is not None and not self._leader.runs_here()

    async def _forward(
        self, operation: AnyOperation, stage: Stage, arguments: BaseModel, actor: Actor
    ) -> bytes:
        assert self._leader is not None
        return await self._leader.call(
            ForwardedCall(operation.name, stage, arguments.model_dump(mode="json"), actor)
        )

    async def perform_forwarded(self, forwarded: ForwardedCall) -> bytes:
        """On the leader: a call another node validated, authorised (and had confirmed);
        its answer as JSON of the operation's declared output (`null` for none)."""
        operation = self.operation(forwarded.operation)
        arguments = self.validate(operation, forwarded.arguments)
        context = self._context(forwarded.actor)
        if forwarded.stage is Stage.PRECHECK:
            if operation.precheck is not None:
                await operation.precheck(context, arguments)
            return b"null"
        result = await operation.perform(context, arguments)
        if operation.output is None:
            return b"null"
        return _adapter(operation.output).dump_json(result)

    async def run(self, name: str, raw: Mapping[str, Any], actor: Actor) -> Any:
        """Validate and execute in one go (REST, system jobs: no one else to ask)."""
        operation = self.operation(name)
        return await self.execute(operation, self.validate(operation, raw), actor)

    async def record(
        self,
        operation: AnyOperation,
        arguments: BaseModel | None,
        actor: Actor,
        outcome: AuditOutcome,
        result: Any = None,
        error: str | None = None,
        note: Mapping[str, Any] | None = None,
    ) -> None:
        """One audit record; the channels add confirmation_required / cancelled ones."""
        recorded = dict(note or {})
        if result is not None:
            recorded |= _as_result(result)
        await self._audit.record(
            actor=actor.name,
            channel=actor.channel.value,
            client=actor.client,
            tool=operation.name,
            arguments=redacted_dump(arguments) if arguments is not None else {},
            outcome=outcome,
            result=redact_value(recorded),
            error=error,
        )

    def _context(self, actor: Actor) -> OperationContext:
        return OperationContext(self._services, actor)


_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _adapter(output: Any) -> TypeAdapter[Any]:
    """One adapter per declared output type (building one costs milliseconds)."""
    key = repr(output)
    adapter = _ADAPTERS.get(key)
    if adapter is None:
        adapter = _ADAPTERS[key] = TypeAdapter(output)
    return adapter


def _as_result(result: Any) -> dict[str, Any]:
    data = jsonable(result)
    if isinstance(data, dict):
        return data
    return {"items": data} if isinstance(data, list) else {"value": json.loads(json.dumps(data))}
