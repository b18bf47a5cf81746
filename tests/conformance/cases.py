"""The catalogue of conformance cases, filled by the test modules themselves.

A test claims OCA test cases with `@SUITE.case(...)`; a case the CSMS does not support is
declared with `SUITE.not_supported(...)` and a reason. docs/conformance.md is generated
from this catalogue (tests/conformance/report.py), so the document lists exactly what the
tests show: a case is "pass" only when a test claims it, and the test command runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

Test = TypeVar("Test", bound=Callable[..., Any])

PASS = "pass"
NOT_SUPPORTED = "not supported"


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    title: str
    block: str
    status: str
    reason: str = ""  # why a case is not supported
    tests: tuple[str, ...] = ()  # module::function of the tests that play it


@dataclass
class Suite:
    """The cases of one OCPP version, in the order of its blocks."""

    version: str
    blocks: tuple[str, ...]
    cases: dict[str, Case] = field(default_factory=dict)

    def _add(self, case: Case) -> None:
        if case.block not in self.blocks:
            raise ValueError(f"{case.id}: unknown block {case.block!r}")
        known = self.cases.get(case.id)
        if known is None:
            self.cases[case.id] = case
            return
        if known.status != PASS or case.status != PASS or known.title != case.title:
            raise ValueError(f"{case.id} is declared twice in different ways")
        # Several tests may play parts of one case.
        self.cases[case.id] = Case(
            known.id, known.title, known.block, PASS, tests=known.tests + case.tests
        )

    def case(self, case_id: str, title: str, block: str) -> Callable[[Test], Test]:
        """Mark a test as playing the OCA case `case_id` (a test may play several)."""

        def register(test: Test) -> Test:
            if not test.__name__.startswith("test_"):
                raise ValueError(f"{case_id}: {test.__name__} is not a test pytest would run")
            self._add(Case(case_id, title, block, PASS, tests=(_where(test),)))
            return test

        return register

    def not_supported(self, case_id: str, title: str, block: str, reason: str) -> None:
        if not reason:
            raise ValueError(f"{case_id}: say why it is not supported")
        self._add(Case(case_id, title, block, NOT_SUPPORTED, reason=reason))

    def in_block(self, block: str) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.block == block), key=_order)


def _where(test: Callable[..., Any]) -> str:
    return f"{test.__module__.replace('.', '/')}.py::{test.__name__}"


def _order(case: Case) -> tuple[Any, ...]:
    """TC_B_2_CSMS before TC_B_10_CSMS, TC_043_1 before TC_043_10."""
    parts = case.id.split("_")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
