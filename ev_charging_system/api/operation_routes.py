"""REST routes derived from the operations catalogue: one route per HTTP binding.

Path parameters, query parameters and the JSON body are cut from the operation's input
model (so OpenAPI shows each where it travels); the endpoint merges them back and hands
them to the OperationRunner, which validates against the whole model, checks the role,
performs and audits. The bearer token is the confirmation on this channel.
"""

# No `from __future__ import annotations`: endpoints are built at runtime and FastAPI
# must see real annotations in their signatures.

import inspect
import re
from collections.abc import Awaitable, Callable
from types import UnionType
from typing import Annotated, Any, Union, cast, get_args, get_origin

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo

from ev_charging_system.api.csv_export import CsvResponse, csv_columns, csv_response
from ev_charging_system.api.dependencies import RestActor, Services
from ev_charging_system.api.errors import ErrorOut, StationErrorOut, ValidationErrorOut
from ev_charging_system.business_logic.operations.actor import Actor, Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Catalogue,
    Http,
)

_PATH_PARAMETER = re.compile(r"{(\w+)}")
_STATION_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the station is offline (or a conflict)"},
    429: {"model": ErrorOut, "description": "too many commands queued for this station"},
    502: {"model": StationErrorOut, "description": "the station answered with a CALLERROR"},
    504: {"model": ErrorOut, "description": "the station did not answer in time"},
}


def _responses(operation: AnyOperation, binding: Http) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {
        401: {"model": ErrorOut, "description": "no token, or an unknown or revoked one"},
        404: {"model": ErrorOut, "description": "an id in the request names nothing we know"},
        422: {"model": ValidationErrorOut, "description": "invalid input"},
    }
    if operation.role > Role.VIEWER:
        responses[403] = {"model": ErrorOut, "description": "the token's role may not do this"}
    if binding.method in ("POST", "PUT", "PATCH"):
        responses[400] = {"model": ErrorOut, "description": "the body is not JSON"}
        responses[413] = {"model": ErrorOut, "description": "the body is too large"}
    if operation.open_world:
        responses |= _STATION_ERRORS
    elif operation.effect.value == "act":
        responses[409] = {"model": ErrorOut, "description": "conflicts with the current state"}
    return responses


def _copy_field(info: FieldInfo, alias: str | None = None) -> FieldInfo:
    copied = FieldInfo.merge_field_infos(info)
    if alias is not None:
        copied.alias = alias
        copied.validation_alias = alias
        copied.serialization_alias = alias
    return copied


def _part_model(
    operation: AnyOperation, kind: str, names: list[str], aliases: dict[str, str]
) -> type[BaseModel]:
    fields = operation.input.model_fields
    definitions: dict[str, Any] = {
        name: (fields[name].annotation, _copy_field(fields[name], aliases.get(name)))
        for name in names
    }
    model_name = "".join(part.title() for part in operation.name.split("_")) + kind
    forbid = ConfigDict(extra="forbid", populate_by_name=True)
    return create_model(model_name, __config__=forbid if kind == "Body" else None, **definitions)


def _path_field(info: FieldInfo) -> FieldInfo:
    """A field as a path parameter. A field that is optional elsewhere (`ChargePointId |
    None`: the query of a list, the path of one station's list) carries its bounds on the
    non-None arm; a path always holds a value, so those bounds are the path's."""
    if info.metadata or get_origin(info.annotation) not in (Union, UnionType):
        return info
    arms = [arm for arm in get_args(info.annotation) if arm is not type(None)]
    if len(arms) != 1:
        return info
    inner = FieldInfo.from_annotation(arms[0])
    if inner.description is None:
        inner.description = info.description
    return inner


def _endpoint(operation: AnyOperation, binding: Http) -> Callable[..., Awaitable[Any]]:
    fields = operation.input.model_fields
    path_names = _PATH_PARAMETER.findall(binding.path)
    with_body = binding.method in ("POST", "PUT", "PATCH")
    paging = ("limit", "offset") if binding.csv is not None and binding.csv.paged else ()
    rest = [name for name in fields if name not in path_names and name not in paging]
    query_names = [n for n in rest if not with_body or n in binding.query_fields]
    body_names = [n for n in rest if with_body and n not in binding.query_fields]

    parameters = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("services", inspect.Parameter.KEYWORD_ONLY, annotation=Services),
        inspect.Parameter("actor", inspect.Parameter.KEYWORD_ONLY, annotation=RestActor),
    ]
    for name in path_names:
        # The field's own type and bounds, so OpenAPI shows what the path may hold.
        info = _path_field(fields[name])
        kind = int if info.annotation in (int, int | None) else str
        annotation = cast(Any, Annotated)[
            (kind, *info.metadata, Path(description=info.description))
        ]
        parameters.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
        )
    query_model = None
    if query_names:
        query_model = _part_model(operation, "Query", query_names, dict(binding.query_aliases))
        parameters.append(
            inspect.Parameter(
                "query",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[query_model, Query()],
            )
        )
    body_type: Any = None
    if binding.body_field is not None:
        body_type = fields[binding.body_field].annotation
    elif body_names:
        body_type = _part_model(operation, "Body", body_names, {})
    if body_type is not None:
        required = binding.body_field is not None or any(
            fields[n].is_required() for n in body_names
        )
        parameters.append(
            inspect.Parameter(
                "body",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[body_type, Body()],
                default=inspect.Parameter.empty if required else None,
            )
        )

    async def endpoint(**kwargs: Any) -> Any:
        services = kwargs["services"]
        actor: Actor = kwargs["actor"]
        raw: dict[str, Any] = {name: kwargs[name] for name in path_names}
        query = kwargs.get("query")
        if isinstance(query, BaseModel):
            raw |= query.model_dump(exclude_unset=True)
        body = kwargs.get("body")
        if binding.body_field is not None:
            raw[binding.body_field] = body
        elif isinstance(body, BaseModel):
            raw |= body.model_dump(exclude_unset=True)
        if binding.csv is not None:

            async def page(arguments: dict[str, Any]) -> Any:
                return await services.operations.run(operation.name, arguments, actor)

            columns = csv_columns(operation.output, binding.csv)
            return await csv_response(binding.csv, columns, raw, page)
        result = await services.operations.run(operation.name, raw, actor)
        if operation.output is None:
            return Response(status_code=binding.status_code)
        return result

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = operation.name
    return endpoint


def operation_router(catalogue: Catalogue) -> APIRouter:
    router = APIRouter()
    for operation in catalogue:
        for binding in operation.http:
            responses = _responses(operation, binding)
            if binding.csv is not None:
                # Errors stay JSON (the route's default class); only success is CSV.
                responses[200] = {
                    "description": "the rows as CSV (a header line, then one line each)",
                    "content": {CsvResponse.media_type: {"schema": {"type": "string"}}},
                }
            router.add_api_route(
                binding.path,
                _endpoint(operation, binding),
                methods=[binding.method],
                response_model=None if binding.csv is not None else operation.output,
                status_code=binding.status_code,
                responses=responses,
                summary=operation.title,
                description=operation.description,
                name=operation.name if binding is operation.http[0] else None,
                operation_id=operation.name
                if binding is operation.http[0]
                else f"{operation.name}_{len(binding.path)}",
                tags=[_tag(binding.path)],
                deprecated=binding.deprecated,
            )
    return router


def _tag(path: str) -> str:
    parts = path.split("/")
    if parts[1] == "energy":
        return "energy"
    if "/commands/" in path:
        return "remote operation"
    return {
        "charge-points": "charge points",
        "connectors": "charge points",
        "errors": "charge points",
        "transactions": "transactions",
        "id-tags": "id tags",
        "reports": "insight",
        "audit": "insight",
        "commands": "remote operation",
    }.get(parts[2], "other")
