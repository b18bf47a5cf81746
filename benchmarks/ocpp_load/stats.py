"""Pure helpers of the benchmark: percentiles, summaries and the markdown tables it prints."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0 < fraction <= 1) of unsorted values.

    Nearest rank, not interpolation: p99 of 100 samples is the 99th smallest, a value
    that was actually measured.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    ordered = sorted(values)
    rank = math.ceil(fraction * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True, slots=True)
class Summary:
    """Latencies of one kind of call, in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Summary | None:
        if not seconds:
            return None
        ms = [value * 1000 for value in seconds]
        return cls(
            count=len(ms),
            p50=percentile(ms, 0.50),
            p95=percentile(ms, 0.95),
            p99=percentile(ms, 0.99),
            max=max(ms),
        )


def ms(value: float | None) -> str:
    """Milliseconds to 2 significant decimals below 10, whole numbers above."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def share(part: float | None, whole: float | None) -> str:
    """part as a percentage of whole ("43%"), "-" when either is unknown or whole is 0."""
    if part is None or not whole:
        return "-"
    return f"{100 * part / whole:.1f}%" if part < whole / 10 else f"{100 * part / whole:.0f}%"


def ratio(part: float | None, whole: float | None) -> str:
    if part is None or not whole:
        return "-"
    return f"{part / whole:.2f}x"


def counts(counter: dict[str, int]) -> str:
    """{"HTTP 503": 12, "close 1013": 3} -> "HTTP 503: 12, close 1013: 3"; "0" when empty."""
    items = [(key, value) for key, value in counter.items() if value]
    if not items:
        return "0"
    return ", ".join(f"{key}: {value:,}" for key, value in sorted(items))


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int = 1) -> str:
    """A GitHub markdown table; columns from `numeric_from` on are right-aligned.

    Cells are padded so the table also reads well in a terminal.
    """
    body = [list(row) for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"row {row} has {len(row)} cells, the table {len(headers)}")
    widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if i >= numeric_from else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if i >= numeric_from else "-" * w for i, w in enumerate(widths)]
    return "\n".join([line(headers), "| " + " | ".join(rule) + " |", *map(line, body)])
