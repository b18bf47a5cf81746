"""How an MCP caller says "yes" to an action that needs confirmation.

Two ways, chosen per call by the confirmation gate (mcp_operations.py):
- MCP elicitation, when the client declares it can show a form: the user answers in the
  client and the tool runs in the same call;
- otherwise a two-step confirm token (business_logic/operations/confirmation_tokens.py),
  valid MCP_CONFIRMATION_TTL_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mcp.server.mcpserver import AcceptedElicitation
from pydantic import BaseModel, Field


class ConfirmAction(BaseModel):
    """The form an eliciting client shows: one checkbox."""

    confirm: bool = Field(title="Carry out this action", description="Tick to confirm")


class GateKind(StrEnum):
    CONFIRMED = "confirmed"  # the user said yes in an elicitation form
    DECLINED = "declined"  # the user said no or dismissed the form
    TOKEN = "token"  # the caller presents a confirm token: check it
    ASK_TOKEN = "ask_token"  # no way to ask now: hand out a confirm token


@dataclass(frozen=True, slots=True)
class Gate:
    kind: GateKind
    note: str | None = None


def gate_of(outcome: object) -> Gate:
    """Normalise what the resolver produced (an elicitation outcome or a Gate)."""
    if isinstance(outcome, AcceptedElicitation):
        data = outcome.data
        if isinstance(data, Gate):
            return data
        if isinstance(data, ConfirmAction):
            return Gate(GateKind.CONFIRMED if data.confirm else GateKind.DECLINED)
    if isinstance(outcome, Gate):
        return outcome
    # DeclinedElicitation / CancelledElicitation
    return Gate(GateKind.DECLINED)
