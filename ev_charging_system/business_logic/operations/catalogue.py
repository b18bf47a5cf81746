"""The operations catalogue: every operator action and query, declared once.

An `Operation` says what it is called, what it takes (a pydantic input model with its
bounds and enums), what it returns (a read model), who may call it, whether it changes
anything and how badly, how to say in one sentence what a given call will do (rendered
from the *validated* input), and the one service call that performs it.

The channels are derived from it: REST routes (api/operation_routes.py), MCP tools
(llm_integration/mcp_operations.py) and the chat's tool list (llm_integration/chat_tools.py).
Validation, role checks, confirmation of destructive actions and the audit record happen
in `OperationRunner` for every channel alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from ev_charging_system.business_logic.operations.actor import Actor, Role
from ev_charging_system.models.errors import NotFoundError

if TYPE_CHECKING:
    from ev_charging_system.business_logic.operations.services import OperationServices

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out")

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class Effect(StrEnum):
    READ = "read"  # changes nothing anywhere
    ACT = "act"  # changes the network, a station or the site: audited


@dataclass(frozen=True, slots=True)
class Http:
    """Where the REST API offers an operation.

    Path parameters (`{charge_point_id}`) are input fields; the other fields travel as query
    parameters (GET, DELETE) or as the JSON body. `query_aliases` renames query parameters
    (e.g. `started_from` is `from` on the URL); `body_field` makes one field the whole
    body (PUT /energy/config takes the site configuration itself). A `deprecated` binding
    is an older URL kept working for scripts.
    """

    method: HttpMethod
    path: str
    status_code: int = 200
    query_aliases: Mapping[str, str] = field(default_factory=dict)
    query_fields: tuple[str, ...] = ()  # fields sent on the URL even with a JSON body
    body_field: str | None = None  # the request body is this field's value, not an object
    deprecated: bool = False
    csv: CsvRows | None = None  # answered as CSV (streamed) instead of JSON


@dataclass(frozen=True, slots=True)
class CsvRows:
    """How an operation's answer becomes CSV rows: `items` names the list in a page object
    (None: the answer is the list). A `paged` operation is asked page after page
    (`limit`/`offset` are then not URL parameters): the export holds every row."""

    items: str | None = None
    paged: bool = False
    filename: str = "export.csv"


@dataclass(frozen=True, slots=True)
class OperationContext:
    services: OperationServices
    actor: Actor


Perform = Callable[[OperationContext, In], Awaitable[Out]]
Check = Callable[[OperationContext, In], Awaitable[None]]
Describe = Callable[[In], str]


@dataclass(frozen=True, slots=True)
class Operation(Generic[In, Out]):
    name: str  # snake_case; the MCP/chat tool name
    title: str
    description: str  # for people and for the model: what it does, when to use it
    input: type[In]
    output: Any  # a read model class or a type expression such as list[X]; None: no body
    role: Role
    perform: Perform[In, Out]
    effect: Effect = Effect.READ
    destructive: bool = False  # may undo or end something; asked for confirmation first
    confirm: bool = False  # ask for confirmation even though nothing is undone (start a session)
    idempotent: bool = True
    open_world: bool = False  # carried out by a station (it may refuse, time out ...)
    describe: Describe[In] | None = None  # "Soft reset of CP-1": confirmation and audit text
    precheck: Check[In] | None = None  # what must hold before anyone is asked to confirm
    http: tuple[Http, ...] = ()
    tool: bool = True  # offered to MCP clients and to the chat
    aliases: tuple[str, ...] = ()  # older tool names that still work
    audited: bool = True  # actions only; measurement feeds (many a minute) opt out
    # Reads or changes what only the running energy planner holds in memory: in a
    # cluster it is performed on the leader, whichever node the caller used.
    on_leader: bool = False

    @property
    def read_only(self) -> bool:
        return self.effect is Effect.READ

    @property
    def recorded(self) -> bool:
        """Whether calls leave an audit record."""
        return self.effect is Effect.ACT and self.audited

    @property
    def needs_confirmation(self) -> bool:
        return self.effect is Effect.ACT and (self.destructive or self.confirm)

    def sentence(self, arguments: In) -> str:
        """What this call does, in words, from its validated input."""
        return self.describe(arguments) if self.describe is not None else self.title


AnyOperation = Operation[Any, Any]


class Catalogue:
    def __init__(self, operations: Iterable[AnyOperation]) -> None:
        self._by_name: dict[str, AnyOperation] = {}
        self._aliases: dict[str, str] = {}
        for operation in operations:
            if operation.name in self._by_name or operation.name in self._aliases:
                raise ValueError(f"operation {operation.name!r} is declared twice")
            if operation.effect is Effect.ACT and operation.describe is None:
                raise ValueError(f"operation {operation.name!r} acts but cannot describe itself")
            self._by_name[operation.name] = operation
            for alias in operation.aliases:
                if alias in self._by_name or alias in self._aliases:
                    raise ValueError(f"alias {alias!r} of {operation.name!r} is taken")
                self._aliases[alias] = operation.name

    def __iter__(self) -> Iterator[AnyOperation]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> AnyOperation:
        """The operation called `name` (or an older alias of it)."""
        operation = self._by_name.get(self._aliases.get(name, name))
        if operation is None:
            raise NotFoundError("operation", name)
        return operation

    def tools(self) -> list[AnyOperation]:
        return [operation for operation in self if operation.tool]

    def aliases_of(self, name: str) -> tuple[str, ...]:
        return self.get(name).aliases
