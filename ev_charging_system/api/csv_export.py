"""Operation answers as CSV, streamed: a paged operation is asked page by page, so an
export of any size never sits in memory whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Any, get_args

from pydantic import BaseModel
from starlette.responses import StreamingResponse

from ev_charging_system.business_logic.operations.catalogue import CsvRows

PAGE_SIZE = 500

RunPage = Callable[[dict[str, Any]], Awaitable[Any]]


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


def _rows(answer: Any, shape: CsvRows) -> list[BaseModel]:
    rows = getattr(answer, shape.items) if shape.items is not None else answer
    return list(rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    text = str(value)
    # A cell a spreadsheet would run as a formula is written as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def csv_columns(output: Any, shape: CsvRows) -> list[str]:
    """The columns: the fields of the row model in an operation's output type."""
    listing = output.model_fields[shape.items].annotation if shape.items is not None else output
    (row_type,) = get_args(listing)
    return list(row_type.model_fields)


async def csv_response(
    shape: CsvRows, columns: list[str], raw: dict[str, Any], run: RunPage
) -> CsvResponse:
    """Run the first page now (so a bad request is a 4xx, not a broken download), then
    stream it and every following page."""
    first_raw = {**raw, "limit": PAGE_SIZE, "offset": 0} if shape.paged else raw
    first = _rows(await run(first_raw), shape)

    async def lines() -> AsyncIterator[str]:
        yield _line(columns)
        rows, offset = first, 0
        while True:
            for row in rows:
                yield _line([_cell(getattr(row, name)) for name in columns])
            if not shape.paged or len(rows) < PAGE_SIZE:
                break
            offset += PAGE_SIZE
            rows = _rows(await run({**raw, "limit": PAGE_SIZE, "offset": offset}), shape)

    return CsvResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{shape.filename}"'},
    )
