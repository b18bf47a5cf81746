"""Keys are converted exactly as the `ocpp` library converts them, only faster."""

from __future__ import annotations

from typing import Any

from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case

from ev_charging_system.core.key_case import camel_case_keys, snake_case_keys

PAYLOADS: list[Any] = [
    {
        "connectorId": 1,
        "meterValue": [
            {"timestamp": "t", "sampledValue": [{"value": "1", "measurand": "Power.Offered"}]}
        ],
    },
    {"evse": {"id": 1}, "idToken": {"idToken": "A", "type": "ISO14443"}, "seqNo": 3},
    {"ocppCSMSURL": "wss://x", "customData": {"vendorId": "V", "someV2XThing": 1}},
    {"chargingRateUnit": "W", "socLimitReached": True, "evMaxV2XEnergyRequest": 2},
    {"certificateHashData": [{"hashAlgorithm": "SHA256", "issuerNameHash": "h"}]},
    [{"nestedList": [{"innerKey": 1}]}],
]


def test_snake_and_camel_keys_match_the_library_on_real_shapes() -> None:
    for payload in PAYLOADS:
        snake = camel_to_snake_case(payload)
        assert snake_case_keys(payload) == snake
        assert camel_case_keys(snake) == snake_to_camel_case(snake)
