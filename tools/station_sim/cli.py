"""The command line both simulators share: run `--count` stations, each charging once.

    python -m tools.simulated_charge_point --url ws://localhost:9000 --id CP --count 3

runs CP-1, CP-2 and CP-3 at once (a single station keeps the id as given). With
`--stay` the stations stay connected afterwards and answer the CSMS's calls until Ctrl-C.
The password (HTTP Basic, the same for every station) can come from the environment
variable STATION_PASSWORD instead of `--password`, which keeps it out of the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import ssl
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.exceptions import InvalidStatus, WebSocketException

from tools.station_sim.adapter import StationAdapter
from tools.station_sim.session import SessionPlan, charge_once

PASSWORD_VARIABLE = "STATION_PASSWORD"
MAX_STATIONS = 10_000

Connect = Callable[..., AbstractAsyncContextManager[StationAdapter[Any]]]
"""connected_station / connected_station_201: (url, station_id, password=...)."""


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_STATIONS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_STATIONS}, not {value}")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def build_parser(description: str, default_id: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", default="ws://localhost:9000", help="the CSMS's OCPP endpoint")
    parser.add_argument(
        "--id", default=default_id, help="station id (suffixed -1, -2 ... with --count)"
    )
    parser.add_argument(
        "--password",
        default=os.environ.get(PASSWORD_VARIABLE),
        help=f"HTTP Basic password of the stations (default: ${PASSWORD_VARIABLE})",
    )
    parser.add_argument("--count", type=_positive, default=1, help="how many stations to run")
    parser.add_argument(
        "--id-tag", default="RFID-0001", help="the id tag every station charges for"
    )
    parser.add_argument(
        "--energy-wh", type=_not_negative, default=7400, help="energy charged per session"
    )
    parser.add_argument("--samples", type=_positive, default=5, help="meter readings per session")
    parser.add_argument(
        "--stay", action="store_true", help="stay connected afterwards, answering remote commands"
    )
    parser.add_argument(
        "--ca",
        type=Path,
        help="wss://: the CSMS root certificate to trust (e.g. data/ca/ca.pem); "
        "default: the system's trusted CAs",
    )
    parser.add_argument(
        "--cert", type=Path, help="wss://: client certificate chain (security profile 3)"
    )
    parser.add_argument("--key", type=Path, help="wss://: the client certificate's key")
    return parser


def tls_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The TLS a station uses on wss://: whom it trusts, and its own certificate."""
    if not args.url.startswith("wss://"):
        return None
    context = ssl.create_default_context(cafile=args.ca)
    if args.cert is not None:
        context.load_cert_chain(args.cert, args.key)
    return context


def parse(argv: Sequence[str] | None, description: str, default_id: str) -> argparse.Namespace:
    parser = build_parser(description, default_id)
    args = parser.parse_args(argv)
    if not args.url.startswith(("ws://", "wss://")):
        parser.error(f"--url must start with ws:// or wss://, not {args.url!r}")
    if not args.id or "/" in args.id:
        parser.error("--id must be a non-empty station id without '/'")
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")
    if (args.ca or args.cert) and not args.url.startswith("wss://"):
        parser.error("--ca, --cert and --key are for a wss:// --url")
    for name in ("ca", "cert", "key"):
        path = getattr(args, name)
        if path is not None and not path.is_file():
            parser.error(f"--{name}: {path} is not a file")
    return args


def station_ids(base: str, count: int) -> list[str]:
    """`base` itself for one station; base-1 ... base-N for several."""
    return [base] if count == 1 else [f"{base}-{n}" for n in range(1, count + 1)]


async def run_station(
    connect: Connect,
    url: str,
    station_id: str,
    password: str | None,
    plan: SessionPlan,
    stay: bool,
    tls: ssl.SSLContext | None = None,
) -> bool:
    """One station's session; False (and the reason on stderr) when it failed."""

    def say(line: str) -> None:
        print(f"{station_id}: {line}", flush=True)

    try:
        async with connect(url, station_id, password=password, tls=tls) as station:
            charged = await charge_once(station, plan, say)
            if stay:
                say("Staying connected and answering the CSMS's calls; Ctrl-C to leave.")
                await station.websocket.wait_closed()
                say("The CSMS closed the connection.")
            return charged
    except InvalidStatus as refused:
        code = refused.response.status_code
        _fail(
            station_id,
            f"the CSMS refused the connection (HTTP {code}): check --id, --password and, for "
            "security profile 3, --cert/--key",
        )
    except (OSError, TimeoutError, WebSocketException, OCPPError) as error:
        _fail(station_id, f"{type(error).__name__}: {error}")
    return False


def _fail(station_id: str, reason: str) -> None:
    print(f"{station_id}: failed: {reason}", file=sys.stderr, flush=True)


async def run(connect: Connect, args: argparse.Namespace) -> int:
    """Run every station at once; the exit status (1 if any station failed)."""
    plan = SessionPlan(id_tag=args.id_tag, energy_wh=args.energy_wh, samples=args.samples)
    tls = tls_context(args)
    sessions = [
        run_station(connect, args.url, station_id, args.password, plan, args.stay, tls)
        for station_id in station_ids(args.id, args.count)
    ]
    results = await asyncio.gather(*sessions)
    return 0 if all(results) else 1


def main(
    connect: Connect, description: str, default_id: str, argv: Sequence[str] | None = None
) -> int:
    args = parse(argv, description, default_id)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: how --stay ends
        return asyncio.run(run(connect, args))
    return 0
