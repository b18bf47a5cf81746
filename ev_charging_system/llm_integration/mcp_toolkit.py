"""What every MCP tool shares: the services, scope checks, error translation, the
confirmation of actions and the audit trail.

Tools themselves (mcp_tools.py) stay one service call plus a conversion; anything that
must be the same for all of them lives here, so an added tool (e.g. the energy tools)
gets it by using `Toolkit.action` / `Toolkit.perform` / `Toolkit.act_now`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import Context, Elicit, ElicitationResult, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from mcp_types.version import is_version_at_least

from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.diagnostics_service import DiagnosticsService
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.business_logic.reporting_service import ReportingService
from ev_charging_system.business_logic.transaction_service import TransactionService
from ev_charging_system.llm_integration.confirmation import (
    ConfirmAction,
    ConfirmationError,
    ConfirmationTokens,
    Gate,
    GateKind,
    gate_of,
    jsonable,
)
from ev_charging_system.llm_integration.mcp_auth import (
    OPERATE,
    Caller,
    current_caller,
    missing_scope_message,
    require,
)
from ev_charging_system.llm_integration.mcp_models import ActionOutcome
from ev_charging_system.models.audit import AuditOutcome
from ev_charging_system.models.commands import CommandResult
from ev_charging_system.models.errors import (
    CommandNotSupportedError,
    CommandQueueFullError,
    CommandTimeoutError,
    DomainError,
    NotFoundError,
    StationCallError,
    StationOfflineError,
)

logger = logging.getLogger(__name__)

# Published in each tool's _meta so clients (and our chat) know which tools are held for
# confirmation; the chat reads it instead of keeping its own list.
CONFIRMATION_META_KEY = "evcs/confirmation"
CONFIRMATION_META = {CONFIRMATION_META_KEY: "required"}
# The first protocol revision where elicitation travels in an InputRequiredResult (the
# client answers by retrying) instead of a server-to-client request we would wait on.
INPUT_REQUIRED_PROTOCOL = "2026-07-28"

Arguments = Mapping[str, Any]
Describe = Callable[[Arguments], str]
Precheck = Callable[[Arguments], Awaitable[object]]
Execute = Callable[[str], Awaitable[CommandResult]]  # receives the actor, for requested_by
_Fn = TypeVar("_Fn", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class McpServices:
    """The business services the MCP tools call: the same instances REST uses."""

    devices: DeviceManagementService
    auth: AuthService
    transactions: TransactionService
    commands: RemoteCommandService
    diagnostics: DiagnosticsService
    reporting: ReportingService
    audit: AuditService


def read_only(open_world: bool = False) -> ToolAnnotations:
    """open_world: the answer comes from a station, not only from our own records."""
    return ToolAnnotations(
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=open_world,
    )


def acting(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=True,  # a physical station carries it out
    )


def actionable(error: DomainError) -> str:
    """A domain error as a message that tells the model (and the operator) what to do."""
    text = str(error)
    if isinstance(error, NotFoundError):
        where = {
            "charge point": "list_charge_points",
            "transaction": "list_transactions",
            "id tag": "the evcs://id-tags resource",
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
    if isinstance(error, CommandQueueFullError):
        return f"{text}; too many commands are waiting for this station, retry in a few seconds"
    return text


@contextmanager
def tool_errors() -> Iterator[None]:
    """Domain errors reach the client as tool errors with their message, never a traceback."""
    try:
        yield
    except DomainError as error:
        raise ToolError(actionable(error)) from None


async def nothing_to_check(_arguments: Arguments) -> object:
    """Precheck for actions that do not address a station (e.g. the site's energy policy)."""
    return None


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    describe: Describe
    precheck: Precheck


class CsmsMcpServer(MCPServer[Any]):
    """The SDK server plus our toolkit, so module-level resolvers can reach it from a Context."""

    toolkit: Toolkit


def _requested_call(ctx: Context[Any, Any]) -> tuple[str | None, dict[str, Any]]:
    """The tool name and raw arguments of the current request (none for in-process calls)."""
    try:
        params = ctx.request_context.params or {}
    except ValueError:  # called in-process (the chat): no MCP request around us
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


async def _confirmation_gate(
    ctx: Context[Any, Any], confirm_token: str | None
) -> Elicit[ConfirmAction] | Gate:
    server = ctx.mcp_server
    if not isinstance(server, CsmsMcpServer):
        raise ToolError("confirmation is not configured on this server")
    return await server.toolkit.confirmation_gate(ctx, confirm_token)


# Every tool that needs confirmation takes `confirmation: Confirmation` (keyword-only) and a
# `confirm_token` argument. The SDK runs the resolver before the tool body, which is why
# the scope is checked there first: a read-only caller is refused before anyone is asked.
Confirmation = Annotated[ElicitationResult[Any], Resolve(_confirmation_gate)]


@dataclass
class Toolkit:
    server: CsmsMcpServer
    services: McpServices
    tokens: ConfirmationTokens
    elicitation_timeout_seconds: float
    _actions: dict[str, ActionSpec] = field(default_factory=dict)

    # --- registration ------------------------------------------------------------------

    def action(
        self,
        *,
        title: str,
        annotations: ToolAnnotations,
        describe: Describe,
        precheck: Precheck | None = None,
    ) -> Callable[[_Fn], _Fn]:
        """Register a tool that acts on a station only after explicit confirmation."""

        def register(fn: _Fn) -> _Fn:
            self._actions[fn.__name__] = ActionSpec(
                fn.__name__, describe, precheck or self.station_exists
            )
            return self.server.tool(title=title, annotations=annotations, meta=CONFIRMATION_META)(
                fn
            )

        return register

    async def station_exists(self, arguments: Arguments) -> object:
        """The usual precheck: never ask to confirm an action on a station we do not know."""
        return await self.services.devices.get_charge_point(str(arguments["charge_point_id"]))

    # --- confirmation --------------------------------------------------------------------

    async def confirmation_gate(
        self, ctx: Context[Any, Any], confirm_token: str | None
    ) -> Elicit[ConfirmAction] | Gate:
        tool, raw_arguments = _requested_call(ctx)
        caller = current_caller()
        if caller is None or not caller.may(OPERATE):
            if caller is not None and tool is not None:
                await self.audit(
                    caller,
                    tool,
                    raw_arguments,
                    AuditOutcome.DENIED,
                    error=missing_scope_message(OPERATE),
                )
            require(OPERATE)  # raises the tool error
        if confirm_token:
            return Gate(GateKind.TOKEN)
        spec = self._actions.get(tool or "")
        if spec is None or not _can_elicit(ctx):
            return Gate(GateKind.ASK_TOKEN)
        with tool_errors():
            await spec.precheck(raw_arguments)
        message = f"{spec.describe(raw_arguments)}. Do you want to do this now?"
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

    async def perform(
        self,
        tool: str,
        arguments: Arguments,
        confirmation: object,
        confirm_token: str | None,
        execute: Execute,
        answered_by: str = "the station",
    ) -> ActionOutcome:
        """Run a confirmed action, or say what confirmation is still needed.

        `execute` gets the caller's actor (for requested_by) and returns the answer of
        whoever carries the action out: a station, or e.g. the energy coordinator
        (`answered_by`), as a CommandResult(status, data)."""
        caller = require(OPERATE)
        spec = self._actions[tool]
        args = jsonable(arguments)
        summary = spec.describe(args)
        gate = gate_of(confirmation)
        if gate.kind is GateKind.DECLINED:
            await self.audit(caller, tool, args, AuditOutcome.CANCELLED)
            return ActionOutcome(
                state="cancelled", action=summary, message="Not done: the user declined."
            )
        if gate.kind is GateKind.ASK_TOKEN:
            with tool_errors():
                await spec.precheck(args)
            issued = self.tokens.issue(tool, args, caller.actor)
            await self.audit(
                caller,
                tool,
                args,
                AuditOutcome.CONFIRMATION_REQUIRED,
                result={"expires_at": issued.expires_at.isoformat()},
            )
            prefix = f"{gate.note}. " if gate.note else ""
            return ActionOutcome(
                state="confirmation_required",
                action=summary,
                message=(
                    f"{prefix}Not done yet: ask the user to confirm '{summary}'. If they agree, "
                    f"repeat exactly this call with confirm_token within {issued.ttl_seconds:g} s."
                ),
                confirm_token=issued.token,
                confirm_expires_at=issued.expires_at,
            )
        if gate.kind is GateKind.TOKEN:
            try:
                self.tokens.redeem(confirm_token or "", tool, args, caller.actor)
            except ConfirmationError as error:
                await self.audit(caller, tool, args, AuditOutcome.DENIED, error=str(error))
                raise ToolError(str(error)) from None
        return await self._run(caller, tool, args, summary, execute, answered_by)

    async def act_now(
        self,
        tool: str,
        arguments: Arguments,
        summary: str,
        execute: Execute,
        answered_by: str = "the station",
    ) -> ActionOutcome:
        """An operate-scope action harmless enough to need no confirmation (still audited)."""
        args = jsonable(arguments)
        caller = current_caller()
        if caller is None or not caller.may(OPERATE):
            if caller is not None:
                await self.audit(
                    caller, tool, args, AuditOutcome.DENIED, error=missing_scope_message(OPERATE)
                )
            require(OPERATE)
            raise AssertionError("unreachable")  # pragma: no cover - require() raised
        return await self._run(caller, tool, args, summary, execute, answered_by)

    async def _run(
        self,
        caller: Caller,
        tool: str,
        args: dict[str, Any],
        summary: str,
        execute: Execute,
        answered_by: str,
    ) -> ActionOutcome:
        try:
            result = await execute(caller.actor)
        except DomainError as error:
            message = actionable(error)
            await self.audit(caller, tool, args, AuditOutcome.ERROR, error=message)
            raise ToolError(message) from None
        data = jsonable(result.data)
        await self.audit(
            caller, tool, args, AuditOutcome.OK, result={"status": result.status, "data": data}
        )
        accepted = result.status in {"Accepted", "Unlocked", "Scheduled"}
        message = f"{answered_by[:1].upper()}{answered_by[1:]} answered {result.status}." + (
            "" if accepted else " It did not carry out the request; see data for details."
        )
        return ActionOutcome(
            state="executed",
            action=summary,
            message=message,
            status=result.status,
            data=data,
        )

    async def audit(
        self,
        caller: Caller,
        tool: str,
        arguments: Arguments,
        outcome: AuditOutcome,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        arguments = {k: v for k, v in jsonable(arguments).items() if k != "confirm_token"}
        await self.services.audit.record(
            caller.actor, caller.channel, tool, arguments, outcome, result, error
        )
