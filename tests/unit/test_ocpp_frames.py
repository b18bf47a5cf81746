"""OCPP-J frame classification: every kind of frame, both versions, no I/O."""

from __future__ import annotations

import pytest

from ev_charging_system.core.frames import (
    CallFrame,
    ErrorFrame,
    Ignored,
    Refusal,
    ResultFrame,
    read_frame,
)


def test_well_formed_frames_are_read() -> None:
    assert read_frame('[2, "a", "Heartbeat", {}]', "1.6") == CallFrame("a", "Heartbeat", {})
    assert read_frame('[3, "a", {"x": 1}]', "2.0.1") == ResultFrame("a", {"x": 1})
    assert read_frame('[4, "a", "NotSupported", "no", {}]', "1.6") == ErrorFrame(
        "a", "NotSupported", "no", {}
    )
    # A CALLERROR without its details object is still understood.
    assert read_frame('[4, "a", "GenericError", ""]', "2.0.1") == ErrorFrame(
        "a", "GenericError", ""
    )


@pytest.mark.parametrize(
    ("raw", "v16", "v201"),
    [
        ("[2, 'a'", ("-1", "FormatViolation"), ("-1", "RpcFrameworkError")),
        ('{"a": 1}', ("-1", "ProtocolError"), ("-1", "RpcFrameworkError")),
        ("[]", ("-1", "ProtocolError"), ("-1", "RpcFrameworkError")),
        ('[2, 7, "Heartbeat", {}]', ("-1", "ProtocolError"), ("-1", "RpcFrameworkError")),
        ('[2, "", "Heartbeat", {}]', ("-1", "ProtocolError"), ("-1", "RpcFrameworkError")),
        (
            f'[2, "{"x" * 37}", "Heartbeat", {{}}]',
            ("-1", "ProtocolError"),
            ("-1", "RpcFrameworkError"),
        ),
        ('[2, "a", "Heartbeat"]', ("a", "ProtocolError"), ("a", "RpcFrameworkError")),
        ('[2, "a", 5, {}]', ("a", "ProtocolError"), ("a", "RpcFrameworkError")),
        ('[2, "a", "Heartbeat", []]', ("a", "FormatViolation"), ("a", "FormatViolation")),
    ],
)
def test_frames_that_are_no_valid_call_are_refused_with_the_right_code(
    raw: str, v16: tuple[str, str], v201: tuple[str, str]
) -> None:
    for version, (message_id, code) in (("1.6", v16), ("2.0.1", v201)):
        refusal = read_frame(raw, version)
        assert isinstance(refusal, Refusal), (version, refusal)
        assert (refusal.message_id, refusal.code) == (message_id, code)


@pytest.mark.parametrize("raw", ['[7, "a", {}]', "[5]", '[true, "a", "Heartbeat", {}]', '["2"]'])
def test_unknown_message_types_are_ignored_in_16_and_refused_in_201(raw: str) -> None:
    assert isinstance(read_frame(raw, "1.6"), Ignored)
    refusal = read_frame(raw, "2.0.1")
    assert isinstance(refusal, Refusal) and refusal.code == "MessageTypeNotSupported"


def test_the_unknown_message_type_refusal_keeps_a_readable_id() -> None:
    assert read_frame('[7, "odd", {}]', "2.0.1") == Refusal(
        "odd",
        "MessageTypeNotSupported",
        "message type 7 is not supported: use CALL, CALLRESULT or CALLERROR",
    )


@pytest.mark.parametrize(
    "raw", ["[3, 42, {}]", '[3, "a"]', '[3, "a", []]', '[4, null, "x"]', '[4, "a"]']
)
def test_malformed_replies_are_ignored(raw: str) -> None:
    assert isinstance(read_frame(raw, "2.0.1"), Ignored)
