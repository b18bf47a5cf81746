"""Units are normalised in one place: energy in Wh, power in W, whatever the station sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ev_charging_system.business_logic.metering import (
    RegisterReadings,
    energy_register_wh,
    normalise_samples,
    normalise_value,
    transaction_registers,
)
from ev_charging_system.models.transaction import MeterSample, RawSampledValue

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_kwh_becomes_wh_and_kw_becomes_w() -> None:
    assert normalise_value("1.234", "kWh", 0, "Energy.Active.Import.Register") == (
        Decimal("1234.000"),
        "Wh",
    )
    assert normalise_value("7.2", "kW", 0, "Power.Active.Import") == (Decimal("7200.0"), "W")


def test_energy_without_a_unit_is_wh_as_ocpp_says() -> None:
    assert normalise_value("42", None, 0, "Energy.Active.Import.Register") == (Decimal(42), "Wh")


def test_an_ocpp201_multiplier_scales_the_value() -> None:
    value, unit = normalise_value("15", "Wh", 3, "Energy.Active.Import.Register")
    assert (value, unit) == (Decimal("15000"), "Wh")


def test_values_that_are_not_numbers_are_kept_raw() -> None:
    [sample] = normalise_samples(
        "CP",
        1,
        None,
        [
            RawSampledValue(timestamp=AT, value="NaN"),
        ],
    )
    assert sample.value is None and sample.raw_value == "NaN"
    [signed] = normalise_samples(
        "CP", 1, None, [RawSampledValue(timestamp=AT, value="ab12==", format="SignedData")]
    )
    assert signed.value is None and signed.format == "SignedData"


def test_defaults_follow_the_specification() -> None:
    [sample] = normalise_samples("CP", 1, 7, [RawSampledValue(timestamp=AT, value="10")])
    assert sample.measurand == "Energy.Active.Import.Register"
    assert (sample.context, sample.location, sample.format) == ("Sample.Periodic", "Outlet", "Raw")


def test_the_register_reading_ignores_per_phase_values() -> None:
    samples = normalise_samples(
        "CP",
        1,
        None,
        [
            RawSampledValue(timestamp=AT, value="5", unit="kWh"),
            RawSampledValue(timestamp=AT, value="1", unit="kWh", phase="L1"),
        ],
    )
    assert energy_register_wh(samples) == Decimal(5000)


@given(st.decimals(min_value=0, max_value=10**6, places=3))
def test_kwh_and_wh_readings_of_the_same_energy_agree(kwh: Decimal) -> None:
    from_kwh, _ = normalise_value(str(kwh), "kWh", 0, "Energy.Active.Import.Register")
    from_wh, _ = normalise_value(str(kwh * 1000), "Wh", 0, "Energy.Active.Import.Register")
    assert from_kwh == from_wh


# --- a session's registers, sample by sample -----------------------------------------


def _reference_registers(samples: list[MeterSample]) -> tuple[Decimal | None, Decimal | None]:
    """The rule stated once more, the plain way: sort by time (stable), Begin/End win."""
    readings = sorted(
        (
            s
            for s in samples
            if s.measurand == "Energy.Active.Import.Register"
            and s.phase is None
            and s.value is not None
            and s.unit == "Wh"
        ),
        key=lambda s: s.timestamp,
    )
    if not readings:
        return None, None
    begin = next((s for s in readings if s.context == "Transaction.Begin"), readings[0])
    end = next((s for s in reversed(readings) if s.context == "Transaction.End"), readings[-1])
    return begin.value, end.value


_sample = st.builds(
    lambda minute, value, measurand, phase, context: MeterSample(
        charge_point_id="CP",
        connector_id=1,
        transaction_id=1,
        timestamp=AT + timedelta(minutes=minute),
        measurand=measurand,
        raw_value=str(value),
        value=Decimal(value),
        unit="Wh",
        phase=phase,
        context=context,
    ),
    st.integers(0, 20),  # few minutes: many equal timestamps
    st.integers(0, 10**6),
    st.sampled_from(["Energy.Active.Import.Register", "Power.Active.Import"]),
    st.sampled_from([None, None, "L1"]),
    st.sampled_from(["Sample.Periodic", "Transaction.Begin", "Transaction.End"]),
)


@given(st.lists(_sample, max_size=30), st.integers(1, 7))
def test_registers_kept_message_by_message_equal_reading_all_samples_again(
    samples: list[MeterSample], chunk: int
) -> None:
    readings = RegisterReadings()
    for start in range(0, len(samples), chunk):
        readings = readings.add(samples[start : start + chunk])
    assert readings.registers() == _reference_registers(samples)
    assert transaction_registers(samples) == _reference_registers(samples)
