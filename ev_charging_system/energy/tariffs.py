"""Turn any tariff into per-step import and feed-in price arrays.

Policies only ever see the arrays, so adding a tariff kind touches this module alone.
"""

from __future__ import annotations

import bisect
from datetime import datetime, tzinfo

import numpy as np
from numpy.typing import NDArray

from ev_charging_system.energy.models import (
    STEP,
    DynamicTariff,
    FlatTariff,
    Tariff,
    TimeOfUseTariff,
)

FloatArray = NDArray[np.float64]


def price_arrays(
    tariff: Tariff, start: datetime, steps: int, tz: tzinfo
) -> tuple[FloatArray, FloatArray]:
    """(import price, feed-in price) per kWh for each 15-minute step from `start`."""
    if isinstance(tariff, FlatTariff):
        return (
            np.full(steps, tariff.import_price, dtype=np.float64),
            np.full(steps, tariff.feed_in_price, dtype=np.float64),
        )
    moments = [start + k * STEP for k in range(steps)]
    if isinstance(tariff, TimeOfUseTariff):
        imports = np.empty(steps, dtype=np.float64)
        for k, moment in enumerate(moments):
            local = moment.astimezone(tz).time()
            price = tariff.default_import_price
            for window in tariff.windows:
                if window.contains(local):
                    price = window.import_price
                    break
            imports[k] = price
        return imports, np.full(steps, tariff.feed_in_price, dtype=np.float64)
    return _dynamic(tariff, moments)


def _dynamic(tariff: DynamicTariff, moments: list[datetime]) -> tuple[FloatArray, FloatArray]:
    starts = [p.start for p in tariff.points]
    imports = np.empty(len(moments), dtype=np.float64)
    feed_ins = np.empty(len(moments), dtype=np.float64)
    for k, moment in enumerate(moments):
        i = bisect.bisect_right(starts, moment) - 1
        if i < 0 or (i == len(starts) - 1 and moment - starts[i] >= STEP * 4):
            # Before the series, or more than an hour past its last point: the series
            # no longer says anything, use the fallback.
            imports[k], feed_ins[k] = tariff.fallback_import_price, tariff.feed_in_price
            continue
        point = tariff.points[i]
        imports[k] = point.import_price
        feed_ins[k] = tariff.feed_in_price if point.feed_in_price is None else point.feed_in_price
    return imports, feed_ins
