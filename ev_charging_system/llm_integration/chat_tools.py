"""The chat's tools: the operations catalogue, called in-process through the runner.

The model sees the same tools an MCP client sees (name, description, the input model's
JSON Schema) and every call runs the same code: validation, the role check, the
operation, the audit. The difference is how a person confirms: the chat holds an action
that needs confirmation (`prepare`) and runs it once the user says yes in the
conversation (POST /api/chat/{id}/confirm, `run_confirmed`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ev_charging_system.business_logic.operations.actor import Actor
from ev_charging_system.business_logic.operations.catalogue import AnyOperation
from ev_charging_system.business_logic.operations.runner import OperationRunner, jsonable
from ev_charging_system.llm_integration.mcp_operations import actionable, executed
from ev_charging_system.models.audit import AuditOutcome
from ev_charging_system.models.errors import DomainError

MAX_RESULT_CHARACTERS = 20_000  # what the model gets back from one tool call

Outcome = Literal["ok", "error", "confirmation_required", "cancelled"]


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    outcome: Outcome
    content: str  # what goes into the tool_result block
    arguments: dict[str, Any] | None = None  # validated, JSON-ready (held actions)
    summary: str | None = None  # the sentence the user is asked to confirm

    @property
    def is_error(self) -> bool:
        # A declined action did not happen: flag it so the model cannot mistake it for done.
        return self.outcome in ("error", "cancelled")


def _text(value: Any) -> str:
    return json.dumps(jsonable(value), default=str, separators=(",", ":"))[:MAX_RESULT_CHARACTERS]


class ChatTools:
    def __init__(self, runner: OperationRunner) -> None:
        self._runner = runner
        self._definitions = [
            {
                "name": operation.name,
                "description": operation.description,
                "input_schema": operation.input.model_json_schema(),
            }
            for operation in runner.catalogue.tools()
        ]

    def definitions(self) -> list[dict[str, Any]]:
        """Anthropic tool definitions (name, description, input_schema)."""
        return self._definitions

    def _operation(self, name: str) -> AnyOperation | None:
        try:
            operation = self._runner.operation(name)
        except DomainError:
            return None
        return operation if operation.tool else None

    def needs_confirmation(self, name: str) -> bool:
        operation = self._operation(name)
        return operation is not None and operation.needs_confirmation

    async def call(self, actor: Actor, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Run a tool, or hold it (confirmation_required) when it needs a person's yes."""
        operation = self._operation(name)
        if operation is None:
            return ToolOutcome("error", f"unknown tool {name!r}")
        try:
            validated = self._runner.validate(operation, arguments)
            if operation.needs_confirmation:
                prepared = await self._runner.prepare(operation, validated, actor)
                await self._runner.record(
                    operation, validated, actor, AuditOutcome.CONFIRMATION_REQUIRED
                )
                held = validated.model_dump(mode="json")
                return ToolOutcome(
                    "confirmation_required",
                    f"Not done yet: waiting for the user to confirm '{prepared.sentence}'.",
                    held,
                    prepared.sentence,
                )
            result = await self._runner.execute(operation, validated, actor)
        except DomainError as error:
            return ToolOutcome("error", actionable(error))
        return ToolOutcome("ok", _text(result))

    async def run_confirmed(
        self, actor: Actor, name: str, arguments: dict[str, Any]
    ) -> ToolOutcome:
        """The user said yes: run the held call (validated again, role checked again)."""
        operation = self._operation(name)
        if operation is None:
            return ToolOutcome("error", f"unknown tool {name!r}")
        try:
            validated = self._runner.validate(operation, arguments)
            result = await self._runner.execute(operation, validated, actor)
        except DomainError as error:
            return ToolOutcome("error", actionable(error))
        return ToolOutcome("ok", _text(executed(operation.sentence(validated), result)))

    async def record_declined(self, actor: Actor, name: str, arguments: dict[str, Any]) -> None:
        operation = self._operation(name)
        if operation is None:
            return
        try:
            validated = self._runner.validate(operation, arguments)
        except DomainError:
            return
        await self._runner.record(operation, validated, actor, AuditOutcome.CANCELLED)
