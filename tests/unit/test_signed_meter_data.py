"""Signed meter values become samples that keep both the reading and the signature."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ev_charging_system.business_logic.metering import normalise_samples, signed_data_16
from ev_charging_system.core.profiles import one_decimal
from ev_charging_system.models.transaction import RawSampledValue, SignedMeterValue

T = datetime(2026, 1, 1, tzinfo=UTC)
SIGNATURE = SignedMeterValue("b64data", "ECDSA-secp256r1-SHA256", "OCMF", "b64key")


def test_a_201_signed_reading_keeps_its_value_and_its_signature() -> None:
    [sample] = normalise_samples(
        "CP", 1, 7, [RawSampledValue(T, "12.5", unit="kWh", signed=SIGNATURE)]
    )
    assert sample.value == Decimal("12500.0") and sample.unit == "Wh"
    assert sample.signed == SIGNATURE
    assert sample.format == "Raw"


def test_a_16_signed_data_value_is_a_signature_and_no_number() -> None:
    [sample] = normalise_samples(
        "CP", 1, 7, [RawSampledValue(T, "OCMF|{}|{}", format="SignedData")]
    )
    assert sample.value is None
    assert sample.signed == SignedMeterValue("OCMF|{}|{}", encoding_method="OCMF")


def test_an_unrecognised_16_encoding_is_left_unnamed() -> None:
    assert signed_data_16("3045022100ab").encoding_method is None


def test_charging_rates_get_one_decimal_rounded_down() -> None:
    assert [one_decimal(v) for v in (16.66, 16.6, 7360, 0.05, 32.99999)] == [
        16.6,
        16.6,
        7360.0,
        0.0,
        32.9,
    ]
