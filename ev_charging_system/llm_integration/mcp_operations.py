"""MCP tools derived from the operations catalogue.

For every operation offered as a tool: its JSON Schema is the operation's input model,
its annotations come from what the operation does (read-only, destructive, idempotent,
carried out by a station), and the call goes to the OperationRunner, which validates,
checks the role, performs and audits exactly as for REST and the chat.

Invalid arguments are a JSON-RPC error -32602 with the field errors (checked before the
SDK runs anything, see `CsmsMcpServer.call_tool`). Operations that need confirmation take
a `confirm_token` argument and a resolver that asks the user first (elicitation) or hands
out a single-use token; the sentence asked about is rendered from the validated input.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, cast

import anyio
from mcp.server.mcpserver import Context, Elicit, ElicitationResult, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ToolAnnotations
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from ev_charging_system.business_logic.operations.catalogue import AnyOperation
from ev_charging_system.business_logic.operations.confirmation_tokens import (
    ConfirmationError,
    ConfirmationTokenStore,
)
from ev_charging_system.business_logic.operations.rate_limits import (
    RateLimitedError,
    RateLimiter,
)
from ev_charging_system.business_logic.operations.runner import OperationRunner, jsonable
from ev_charging_system.llm_integration.confirmation import (
    ConfirmAction,
    Gate,
    GateKind,
    gate_of,
)
from ev_charging_system.llm_integration.mcp_auth import current_actor
from ev_charging_system.models.audit import AuditOutcome
from ev_charging_system.models.errors import (
    CommandNotSupportedError,
    CommandQueueFullError,
    CommandTimeoutError,
    DomainError,
    InputValidationError,
    LeaderTimeoutError,
    LeaderUnavailableError,
    NotFoundError,
    StationCallError,
    StationOfflineError,
)

logger = logging.getLogger(__name__)

# Published in each tool's _meta so clients know which tools are held for confirmation.
CONFIRMATION_META_KEY = "evcs/confirmation"
CONFIRMATION_META = {CONFIRMATION_META_KEY: "required"}
# The first protocol revision where elicitation travels in an InputRequiredResult (the
# client answers by retrying) instead of a server-to-client request we would wait on.
INPUT_REQUIRED_PROTOCOL = "2026-07-28"
CONFIRM_TOKEN = "confirm_token"
ACCEPTED_STATUSES = frozenset({"Accepted", "Unlocked", "Scheduled"})

ConfirmToken = Annotated[
    str | None,
    Field(
        max_length=64,
        description=(
            "leave empty on the first call; if the answer says confirmation_required, ask the "
            "user and repeat the identical call with the confirm_token it returned"
        ),
    ),
]


class ActionOutcome(BaseModel):
    """The answer of every tool that needs confirmation."""

    state: Literal["executed", "confirmation_required", "cancelled"]
    action: str = Field(description="what the call does, in words")
    message: str = Field(description="what happened, or what to do next")
    status: str | None = Field(
        default=None,
        description="for station commands the station's own Accepted, Rejected, Unlocked ...",
    )
    data: Any = Field(default=None, description="the operation's result")
    confirm_token: str | None = Field(
        default=None, description="only with confirmation_required: pass it to the second call"
    )
    confirm_expires_at: datetime | None = None


def annotations_of(operation: AnyOperation) -> ToolAnnotations:
    if operation.read_only:
        return ToolAnnotations(
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=operation.open_world,
        )
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=operation.destructive,
        idempotent_hint=operation.idempotent,
        open_world_hint=operation.open_world,
    )


def actionable(error: DomainError) -> str:
    """A domain error as a message that tells the model (and the operator) what to do."""
    text = str(error)
    if isinstance(error, NotFoundError):
        where = {
            "charge point": "list_charge_points",
            "transaction": "list_transactions",
            "id tag": "list_id_tags",
        }.get(error.kind)
        return f"{text}; look it up with {where}" if where else text
    if isinstance(error, StationOfflineError):
        return (
            f"{text}: commands need a connected station; retry when get_charge_point_status "
            "shows it online"
        )
    if isinstance(error, CommandTimeoutError):
        return f"{text}; it may still act on it, so check its status before retrying"
    if isinstance(error, StationCallError):
        return f"{text} (the station refused the request itself)"
    if isinstance(error, CommandNotSupportedError):
        return f"not possible for this station: {text}"
    if isinstance(error, LeaderUnavailableError):
        return f"{text}; retry in {error.retry_after_seconds} s"
    if isinstance(error, LeaderTimeoutError):
        return f"{text}; read the state back before retrying"
    if isinstance(error, CommandQueueFullError):
        return f"{text}; too many commands are waiting for this station, retry in a few seconds"
    return text


def invalid_params(error: InputValidationError) -> MCPError:
    return MCPError(
        code=INVALID_PARAMS,
        message=str(error),
        data={
            "errors": [
                {"field": e.field, "message": e.message, "type": e.type} for e in error.errors
            ]
        },
    )


def _requested_call(ctx: Context[Any, Any]) -> tuple[str | None, dict[str, Any]]:
    """The tool name and raw arguments of the current request."""
    try:
        params = ctx.request_context.params or {}
    except ValueError:  # called in-process: no MCP request around us
        return None, {}
    name = params.get("name")
    arguments = params.get("arguments") or {}
    return (name if isinstance(name, str) else None), dict(arguments)


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    try:
        request = ctx.request_context
    except ValueError:
        return False
    capabilities = request.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    # A bare `elicitation: {}` means form support; url-only clients cannot show our form.
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _without_token(arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in arguments.items() if k != CONFIRM_TOKEN}


class CsmsMcpServer(MCPServer[Any]):
    """The SDK server, plus our operation tools (so resolvers can reach them)."""

    operation_tools: OperationTools | None = None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        tools = self.operation_tools
        if tools is not None and tools.offers(name):
            tools.check_arguments(name, arguments)
        return await super().call_tool(name, arguments, context)


async def _confirmation_gate(
    ctx: Context[Any, Any], confirm_token: str | None
) -> Elicit[ConfirmAction] | Gate:
    server = ctx.mcp_server
    if not isinstance(server, CsmsMcpServer) or server.operation_tools is None:
        raise ToolError("confirmation is not configured on this server")
    return await server.operation_tools.gate(ctx, confirm_token)


# The SDK runs the resolver before the tool body: the role is checked there first, so a
# read-only caller is refused before anyone is asked to confirm.
Confirmation = Annotated[ElicitationResult[Any], Resolve(_confirmation_gate)]


@dataclass
class OperationTools:
    runner: OperationRunner
    tokens: ConfirmationTokenStore
    elicitation_timeout_seconds: float
    # Acting calls (anything not read-only) per caller and minute; None: no limit.
    actions: RateLimiter | None = None

    def offers(self, name: str) -> bool:
        try:
            return self.runner.operation(name).tool
        except NotFoundError:
            return False

    def check_arguments(self, name: str, arguments: Mapping[str, Any]) -> None:
        """JSON-RPC -32602 with the field errors, before anything runs."""
        operation = self.runner.operation(name)
        token = arguments.get(CONFIRM_TOKEN)
        if token is not None and (not isinstance(token, str) or len(token) > 64):
            raise MCPError(code=INVALID_PARAMS, message="confirm_token must be a short string")
        try:
            self.runner.validate(operation, _without_token(arguments))
        except InputValidationError as error:
            raise invalid_params(error) from None

    # --- registration --------------------------------------------------------------------

    def register(self, server: CsmsMcpServer) -> None:
        server.operation_tools = self
        for operation in self.runner.catalogue.tools():
            server.add_tool(
                self._function(operation),
                name=operation.name,
                title=operation.title,
                description=operation.description,
                annotations=annotations_of(operation),
                meta=CONFIRMATION_META if operation.needs_confirmation else None,
                structured_output=True,
            )

    def _function(self, operation: AnyOperation) -> Callable[..., Awaitable[Any]]:
        """A tool function whose signature is the operation's input model."""
        parameters: list[inspect.Parameter] = []
        annotations: dict[str, Any] = {}
        for name, info in operation.input.model_fields.items():
            # The field's type with its constraints and description, as a parameter annotation.
            annotation = cast(Any, Annotated)[info.annotation, FieldInfo.merge_field_infos(info)]
            default = (
                inspect.Parameter.empty
                if info.is_required()
                else info.get_default(call_default_factory=True)
            )
            parameters.append(
                inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
            )
            annotations[name] = annotation
        if operation.needs_confirmation:
            for name, annotation, default in (
                (CONFIRM_TOKEN, ConfirmToken, None),
                ("confirmation", Confirmation, inspect.Parameter.empty),
                ("ctx", Context, inspect.Parameter.empty),
            ):
                parameters.append(
                    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
                )
                annotations[name] = annotation
            returns: Any = ActionOutcome

            async def confirmed(**kwargs: Any) -> Any:
                return await self._confirmed(operation, kwargs)

            function = confirmed
        else:
            parameters.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY))
            annotations["ctx"] = Context
            returns = _tool_output(operation.output)

            async def direct(**kwargs: Any) -> Any:
                return await self._direct(operation, kwargs)

            function = direct
        annotations["return"] = returns
        function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [p.replace(annotation=annotations[p.name]) for p in parameters],
            return_annotation=returns,
        )
        function.__annotations__ = annotations
        function.__name__ = operation.name
        function.__doc__ = operation.description
        return function

    # --- calls ---------------------------------------------------------------------------

    def _arguments(self, operation: AnyOperation, kwargs: Mapping[str, Any]) -> BaseModel:
        raw = {k: v for k, v in kwargs.items() if k in operation.input.model_fields}
        try:
            return self.runner.validate(operation, raw)
        except InputValidationError as error:
            raise invalid_params(error) from None

    async def _within_limit(self, operation: AnyOperation, actor_name: str) -> None:
        """Count an acting call of this caller (on every node, in a cluster); refuse it
        beyond the limit, before anything is asked or done."""
        if self.actions is None or operation.read_only:
            return
        try:
            decision = await self.actions.hit(f"mcp-actions:{actor_name}")
        except DomainError as error:  # a shared counter whose database is away
            raise ToolError(actionable(error)) from None
        if not decision.allowed:
            raise ToolError(str(RateLimitedError("actions", decision)))

    async def _direct(self, operation: AnyOperation, kwargs: Mapping[str, Any]) -> Any:
        actor = current_actor(kwargs.get("ctx"))
        arguments = self._arguments(operation, kwargs)
        await self._within_limit(operation, actor.name)
        try:
            result = await self.runner.execute(operation, arguments, actor)
        except DomainError as error:
            raise ToolError(actionable(error)) from None
        return result if _tool_output(operation.output) is operation.output else jsonable(result)

    async def gate(
        self, ctx: Context[Any, Any], confirm_token: str | None
    ) -> Elicit[ConfirmAction] | Gate:
        name, raw = _requested_call(ctx)
        if name is None:
            return Gate(GateKind.ASK_TOKEN)
        operation = self.runner.operation(name)
        actor = current_actor(ctx)
        arguments = self._arguments(operation, _without_token(raw))
        try:
            await self.runner.authorize(operation, arguments, actor)
            if confirm_token:
                return Gate(GateKind.TOKEN)
            if not _can_elicit(ctx):
                return Gate(GateKind.ASK_TOKEN)
            prepared = await self.runner.prepare(operation, arguments, actor)
        except DomainError as error:
            raise ToolError(actionable(error)) from None
        message = f"{prepared.sentence}. Do you want to do this now?"
        if ctx.protocol_version is not None and is_version_at_least(
            ctx.protocol_version, INPUT_REQUIRED_PROTOCOL
        ):
            # The SDK returns the question to the client; the answer arrives with the retry.
            return Elicit(message, ConfirmAction)
        return await self._elicit_now(ctx, message)

    async def _elicit_now(self, ctx: Context[Any, Any], message: str) -> Gate:
        """Handshake-era clients: ask over the back-channel, but never wait forever."""
        if not ctx.request_context.session.can_send_request:
            return Gate(GateKind.ASK_TOKEN)
        with anyio.move_on_after(self.elicitation_timeout_seconds):
            try:
                answer = await ctx.elicit(message, ConfirmAction)
            except Exception as error:  # a client that fails the form must not block the action
                logger.info("confirmation form failed (%s); falling back to a token", error)
                return Gate(GateKind.ASK_TOKEN, "the client could not show the confirmation form")
            return gate_of(answer)
        return Gate(GateKind.ASK_TOKEN, "nobody answered the confirmation form in time")

    async def _confirmed(self, operation: AnyOperation, kwargs: Mapping[str, Any]) -> ActionOutcome:
        actor = current_actor(kwargs.get("ctx"))
        arguments = self._arguments(operation, kwargs)
        sentence = operation.sentence(arguments)
        gate = gate_of(kwargs.get("confirmation"))
        bound = arguments.model_dump(mode="json")
        if gate.kind is not GateKind.DECLINED:
            await self._within_limit(operation, actor.name)
        try:
            if gate.kind is GateKind.DECLINED:
                await self.runner.record(operation, arguments, actor, AuditOutcome.CANCELLED)
                return ActionOutcome(
                    state="cancelled", action=sentence, message="Not done: the user declined."
                )
            if gate.kind is GateKind.ASK_TOKEN:
                prepared = await self.runner.prepare(operation, arguments, actor)
                issued = await self.tokens.issue(operation.name, bound, actor.name)
                await self.runner.record(
                    operation,
                    arguments,
                    actor,
                    AuditOutcome.CONFIRMATION_REQUIRED,
                    note={"expires_at": issued.expires_at.isoformat()},
                )
                prefix = f"{gate.note}. " if gate.note else ""
                return ActionOutcome(
                    state="confirmation_required",
                    action=prepared.sentence,
                    message=(
                        f"{prefix}Not done yet: ask the user to confirm '{prepared.sentence}'. "
                        "If they agree, repeat exactly this call with confirm_token within "
                        f"{issued.ttl_seconds:g} s."
                    ),
                    confirm_token=issued.token,
                    confirm_expires_at=issued.expires_at,
                )
            if gate.kind is GateKind.TOKEN:
                try:
                    await self.tokens.redeem(
                        str(kwargs.get(CONFIRM_TOKEN) or ""), operation.name, bound, actor.name
                    )
                except ConfirmationError as error:
                    await self.runner.record(
                        operation, arguments, actor, AuditOutcome.DENIED, error=str(error)
                    )
                    raise ToolError(str(error)) from None
            result = await self.runner.execute(operation, arguments, actor)
        except DomainError as error:
            raise ToolError(actionable(error)) from None
        return executed(sentence, result)


def _tool_output(output: Any) -> Any:
    """The return annotation the SDK can publish a schema for: read models and lists of them
    as they are; other classes (the energy site configuration, a dataclass) as JSON objects."""
    if isinstance(output, type) and not issubclass(output, BaseModel):
        return dict[str, Any]
    return output


def executed(sentence: str, result: Any) -> ActionOutcome:
    data = jsonable(result)
    status = data.get("status") if isinstance(data, dict) else None
    if isinstance(status, str) and set(data) <= {"status", "data"}:
        # A station command: its own answer, and whether it will carry it out.
        done = status in ACCEPTED_STATUSES
        message = f"The station answered {status}." + (
            "" if done else " It did not carry out the request; see data for details."
        )
        return ActionOutcome(
            state="executed", action=sentence, message=message, status=status, data=data["data"]
        )
    return ActionOutcome(state="executed", action=sentence, message="Done.", data=data)
