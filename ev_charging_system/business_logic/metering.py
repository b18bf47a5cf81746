"""The one place where sampled values become canonical: units, multipliers, defaults.

OCPP 1.6 sends `unit` (default Wh); OCPP 2.0.1 sends `unitOfMeasure{unit, multiplier}`.
Both are normalised here so energy is always Wh, power W, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from ev_charging_system.models.transaction import MeterSample, RawSampledValue, SignedMeterValue

DEFAULT_MEASURAND = "Energy.Active.Import.Register"
ENERGY_REGISTER = DEFAULT_MEASURAND
SIGNED_DATA = "SignedData"  # OCPP 1.6 ValueFormat: the value is signed data, not a number

# Signed-data encodings recognisable from the data itself (OCPP 1.6 does not name them).
_ENCODING_PREFIXES = (("OCMF|", "OCMF"),)

# unit -> (canonical unit, factor)
_SCALED_UNITS: dict[str, tuple[str, Decimal]] = {
    "kWh": ("Wh", Decimal(1000)),
    "kW": ("W", Decimal(1000)),
    "kvarh": ("varh", Decimal(1000)),
    "kvar": ("var", Decimal(1000)),
    "kVA": ("VA", Decimal(1000)),
    "kVAh": ("VAh", Decimal(1000)),
}


def _default_unit(measurand: str) -> str | None:
    if measurand.startswith("Energy.Active"):
        return "Wh"
    if measurand.startswith("Energy.Reactive"):
        return "varh"
    return None


def normalise_value(
    raw_value: str, unit: str | None, multiplier: int, measurand: str
) -> tuple[Decimal | None, str | None]:
    """Return (value, unit) in canonical units; value None when it is not a number."""
    unit = unit or _default_unit(measurand)
    try:
        value = Decimal(raw_value.strip())
    except InvalidOperation:
        return None, unit
    if not value.is_finite():
        return None, unit
    if multiplier:
        value = value.scaleb(multiplier)
    if unit in _SCALED_UNITS:
        unit, factor = _SCALED_UNITS[unit]
        value *= factor
    return value, unit


def normalise_samples(
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    raw_values: Iterable[RawSampledValue],
) -> list[MeterSample]:
    samples = []
    for raw in raw_values:
        measurand = raw.measurand or DEFAULT_MEASURAND
        signed = raw.signed
        if raw.format == SIGNED_DATA:
            # 1.6: the value is the signed blob itself; the reading it signs comes (if the
            # station sends it) as a separate Raw sampled value.
            value, unit = None, raw.unit
            signed = signed_data_16(raw.value)
        else:
            # 2.0.1 sends the reading as the value and the signature beside it: both count.
            value, unit = normalise_value(raw.value, raw.unit, raw.multiplier, measurand)
        samples.append(
            MeterSample(
                charge_point_id=charge_point_id,
                connector_id=connector_id,
                transaction_id=transaction_id,
                timestamp=raw.timestamp,
                measurand=measurand,
                raw_value=raw.value,
                value=value,
                unit=unit,
                phase=raw.phase,
                context=raw.context or "Sample.Periodic",
                location=raw.location or "Outlet",
                format=raw.format or "Raw",
                signed=signed,
            )
        )
    return samples


def signed_data_16(value: str) -> SignedMeterValue:
    """A 1.6 `SignedData` value as signed meter data, its encoding recognised if possible."""
    text = value.strip()
    encoding = next((name for prefix, name in _ENCODING_PREFIXES if text.startswith(prefix)), None)
    return SignedMeterValue(signed_meter_data=value, encoding_method=encoding)


def energy_register_wh(samples: Iterable[MeterSample]) -> Decimal | None:
    """The last whole-meter (phase-less) energy register reading, in Wh."""
    reading: Decimal | None = None
    for sample in samples:
        if is_register_reading(sample):
            reading = sample.value
    return reading


def is_register_reading(sample: MeterSample) -> bool:
    """A whole-meter (phase-less) energy register reading in Wh."""
    return (
        sample.measurand == ENERGY_REGISTER
        and sample.phase is None
        and sample.value is not None
        and sample.unit == "Wh"
    )


@dataclass(frozen=True, slots=True)
class Reading:
    timestamp: datetime
    value: Decimal


@dataclass(frozen=True, slots=True)
class RegisterReadings:
    """What a transaction's begin and end registers are decided from, kept up to date
    sample by sample, so that a session's thousandth event costs what its first did.

    Readings with context Transaction.Begin / Transaction.End win; otherwise the earliest
    and the latest whole-meter register reading stand in for them. Samples must be added
    in the order they were stored: among readings with the same timestamp the first
    stored begins and the last stored ends.
    """

    first_begin: Reading | None = None  # earliest Transaction.Begin reading
    earliest: Reading | None = None
    last_end: Reading | None = None  # latest Transaction.End reading
    latest: Reading | None = None

    def add(self, samples: Iterable[MeterSample]) -> RegisterReadings:
        first_begin, earliest, last_end, latest = (
            self.first_begin,
            self.earliest,
            self.last_end,
            self.latest,
        )
        for sample in samples:
            if not is_register_reading(sample) or sample.value is None:
                continue
            reading = Reading(sample.timestamp, sample.value)
            if earliest is None or reading.timestamp < earliest.timestamp:
                earliest = reading
            if latest is None or reading.timestamp >= latest.timestamp:
                latest = reading
            if sample.context == "Transaction.Begin" and (
                first_begin is None or reading.timestamp < first_begin.timestamp
            ):
                first_begin = reading
            if sample.context == "Transaction.End" and (
                last_end is None or reading.timestamp >= last_end.timestamp
            ):
                last_end = reading
        return RegisterReadings(first_begin, earliest, last_end, latest)

    def registers(self) -> tuple[Decimal | None, Decimal | None]:
        """(begin, end) energy register of the transaction, in Wh."""
        begin = self.first_begin or self.earliest
        end = self.last_end or self.latest
        return (
            begin.value if begin is not None else None,
            end.value if end is not None else None,
        )


def transaction_registers(samples: Iterable[MeterSample]) -> tuple[Decimal | None, Decimal | None]:
    """(begin, end) energy register of a transaction, the same way for every OCPP version
    (samples in the order they were stored)."""
    return RegisterReadings().add(samples).registers()
