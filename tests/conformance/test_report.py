"""docs/conformance.md says exactly what the conformance tests show."""

from __future__ import annotations

import pytest

from tests.conformance.cases import NOT_SUPPORTED, PASS, Suite
from tests.conformance.report import COMMAND, DOCUMENT, load_suites, render


@pytest.fixture(scope="module")
def suites() -> list[Suite]:
    return load_suites()


def test_the_document_is_up_to_date(suites: list[Suite]) -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(suites), f"run {COMMAND}"


def test_every_case_is_either_played_by_a_test_or_explained(suites: list[Suite]) -> None:
    for suite in suites:
        assert suite.cases, suite.version
        for case in suite.cases.values():
            if case.status == PASS:
                assert case.tests and not case.reason, case
                assert all("::test_" in t for t in case.tests), case
            else:
                assert case.status == NOT_SUPPORTED and case.reason and not case.tests, case


def test_the_suites_cover_the_blocks_the_issue_names(suites: list[Suite]) -> None:
    names = {suite.version: set(suite.blocks) for suite in suites}
    assert {
        "Core",
        "Firmware Management",
        "Local Auth List Management",
        "Reservation",
        "Smart Charging",
        "Remote Trigger",
        "Security (whitepaper)",
    } <= names["1.6"]
    for letter in "ABCDEFGHIJKLNOP":
        assert any(block.startswith(f"{letter}. ") for block in names["2.0.1"]), letter
    for suite in suites:
        for block in suite.blocks:
            assert suite.in_block(block), f"{suite.version} {block} has no case"
