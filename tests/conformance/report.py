"""Write docs/conformance.md from the conformance catalogue the test modules declare.

    .venv/bin/python -m tests.conformance.report          # rewrite docs/conformance.md
    .venv/bin/python -m tests.conformance.report --check  # exit 1 if it is out of date

The document says "pass" for a case only when a test in tests/conformance claims it
(the test command runs them all); everything else is listed as not supported, with why.
tests/conformance/test_report.py fails when the document and the tests disagree.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from tests.conformance.cases import NOT_SUPPORTED, PASS, Case, Suite

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "conformance.md"
PACKAGE = "tests.conformance"
COMMAND = ".venv/bin/python -m tests.conformance.report"

INTRO = f"""\
# OCPP conformance

What the CSMS does as an OCPP 1.6J and 2.0.1 Central System, case by case. Every case
marked **pass** is played by a test in `tests/conformance/`: a station made of raw OCPP-J
frames over a real WebSocket (`tests/conformance/station.py`) talks to the running
application, on SQLite and on PostgreSQL, and the test checks the CSMS's exact answers
and the exact calls it sends when an operator asks for something through the REST API.
Every case the CSMS does not support is listed as such, with the reason.

The case ids and titles follow the Open Charge Alliance's test case documents (the OCPP
1.6 Compliancy Test Tool's Central System cases; OCPP 2.0.1 Part 6, CSMS cases). The
scenarios are this project's reading of those cases, not a run of the OCA's test tool:
this is not a certification. The OCPP-J rules at the top have no OCA ids and are
numbered here.

Run the suites with `.venv/bin/python -m pytest tests/conformance` (they are part of
`python3 dev.py test`). This file is generated from the tests: `{COMMAND}`
(`tests/conformance/test_report.py` fails when it is out of date).

Notes that apply to many cases:

- Station ids are OCPP identifierStrings (a-z A-Z 0-9 * - _ = + | @ .) of at most 48
  characters; other ids are refused at the handshake (HTTP 404) and by the REST API.
- Frames larger than `OCPP_MAX_FRAME_BYTES` (default 1048576 bytes) close the
  connection with 1009.
- Security Profiles 1, 2 and 3: `ws://` with HTTP Basic auth, and `wss://` (`OCPP_TLS_PORT`,
  TLS 1.2 or newer) with the password or with a client certificate whose common name is
  the station id. The CSMS's own CA signs station CSRs (SignCertificate) and, unless other
  files are configured, the server certificate. The TLS cases run over real TLS.
- 2.0.1 addressing: the version-neutral "connector id" of the REST API is the EVSE id;
  each connector of an EVSE keeps its own status.
"""


def load_suites() -> list[Suite]:
    """Import every test module of the conformance package; return its suites in order."""
    package = importlib.import_module(PACKAGE)
    for module in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        if module.name.rsplit(".", 1)[-1].startswith("test_"):
            importlib.import_module(module.name)
    framing = importlib.import_module(f"{PACKAGE}.test_ocpp_j_framing")
    v16 = importlib.import_module(f"{PACKAGE}.ocpp16")
    v201 = importlib.import_module(f"{PACKAGE}.ocpp201")
    return [framing.SUITE, v16.SUITE, v201.SUITE]


def _heading(suite: Suite) -> str:
    return {"1.6": "OCPP 1.6J", "2.0.1": "OCPP 2.0.1"}.get(suite.version, suite.version)


def _count(cases: list[Case], status: str) -> int:
    return sum(1 for c in cases if c.status == status)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(suites: list[Suite]) -> str:
    lines = [INTRO, "## Summary", ""]
    lines += ["| Suite | Block | Pass | Not supported |", "|---|---|---:|---:|"]
    for suite in suites:
        for block in suite.blocks:
            cases = suite.in_block(block)
            lines.append(
                f"| {_heading(suite)} | {block} | {_count(cases, PASS)} | "
                f"{_count(cases, NOT_SUPPORTED)} |"
            )
        everything = list(suite.cases.values())
        lines.append(
            f"| **{_heading(suite)}** | **all** | **{_count(everything, PASS)}** | "
            f"**{_count(everything, NOT_SUPPORTED)}** |"
        )
    for suite in suites:
        lines += ["", f"## {_heading(suite)}"]
        for block in suite.blocks:
            cases = suite.in_block(block)
            lines += ["", f"### {block}", ""]
            lines += ["| Case | Title | Status | Test, or why not supported |", "|---|---|---|---|"]
            for case in cases:
                where = (
                    "<br>".join(f"`{t}`" for t in case.tests)
                    if case.status == PASS
                    else _cell(case.reason)
                )
                lines.append(f"| {case.id} | {_cell(case.title)} | {case.status} | {where} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render(load_suites())
    if argv == ["--check"]:
        if DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
