"""Write docs/operations.md: every operation of the catalogue, where it is offered, who may
call it and whether it is confirmed. Generated so that it cannot drift from the code
(tests/unit/test_operations_catalogue.py compares).

    python -m tools.operations_doc            # rewrite docs/operations.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from ev_charging_system.business_logic.operations import build_catalogue
from ev_charging_system.business_logic.operations.catalogue import AnyOperation

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"

HEADER = """# Operations

Every operator action and query, declared once in `business_logic/operations/` and
offered by REST, MCP and the chat alike (see docs/ARCHITECTURE.md, "The operations
catalogue"). This page is generated: `python -m tools.operations_doc`.

- **role**: the least role that may call it (`viewer` < `operator` < `admin`). MCP's
  `read` token is a viewer, its `operate` token an operator; the chat acts with at most
  the role of the person chatting.
- **effect**: `read` changes nothing; `act` is audited (`GET /api/audit`), except
  measurement feeds marked *not audited*.
- **confirmed**: MCP and the chat ask a person first (REST: the token's role is the
  confirmation).
- **tool**: offered to MCP clients and to the chat under this name.

"""


def _row(operation: AnyOperation) -> str:
    routes = "<br>".join(f"`{h.method} {h.path}`" for h in operation.http) or "-"
    effect = operation.effect.value
    if operation.effect.value == "act" and not operation.audited:
        effect += " (not audited)"
    if operation.open_world:
        effect += ", station"
    confirmed = "yes" if operation.needs_confirmation else "-"
    tool = f"`{operation.name}`" if operation.tool else "-"
    return (
        f"| {operation.title} | {tool} | {routes} | {operation.role.label} | {effect} "
        f"| {confirmed} |"
    )


def render() -> str:
    lines = [
        HEADER.rstrip("\n"),
        "",
        "| operation | tool | REST | role | effect | confirmed |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(operation) for operation in build_catalogue()]
    return "\n".join(lines) + "\n"


def main() -> int:
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
