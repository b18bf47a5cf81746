"""OCPP ingestion benchmark: the CSMS against a bare websockets echo server, same run.

    .venv/bin/python -m benchmarks.ocpp_load                 # the whole suite (15-20 min)
    .venv/bin/python -m benchmarks.ocpp_load --quick         # a smoke run (~4 min)
    .venv/bin/python -m benchmarks.ocpp_load --only heartbeat,meter_values,storm

Parts (--only, --skip): heartbeat, meter_values, status, session16, session201 (closed
loop, 50 connections), long_session (TransactionEvent cost at seqNo 1, 100, 1000), storm
(2,000 stations at once, retrying like chargers), steady (10,000 stations, heartbeat
30 s, meter values 60 s: latency, RSS per connection, CPU), cluster (two nodes on NATS
and one PostgreSQL against one node, and a node failure's reconnect storm).

The CSMS is `python main.py` on a PostgreSQL database of its own (created, dropped at
the end), the echo server another process; the load generator runs in several more
(multiprocessing), never in a server's process. Progress goes to stderr, the report
(markdown tables) to stdout and, with --output, to a file. Settings for the CSMS under
test (e.g. a storm admission rate) can be passed with --csms-env NAME=VALUE.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from benchmarks.ocpp_load import suite, targets
from benchmarks.ocpp_load.limits import raise_open_files_limit
from benchmarks.ocpp_load.retry import RetryPolicy
from benchmarks.ocpp_load.suite import CLOSED_KINDS, PARTS, Context, Options, progress


def _names(text: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)} (from {allowed})")
    return names


def _setting(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


def parser() -> argparse.ArgumentParser:
    d = Options(parts=PARTS)
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.ocpp_load",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--only", type=lambda t: _names(t, PARTS), default=PARTS, help="parts")
    p.add_argument("--skip", type=lambda t: _names(t, PARTS), default=(), help="parts not run")
    p.add_argument("--quick", action="store_true", help="small numbers: a smoke run")
    p.add_argument("--output", type=Path, help="also write the report (markdown) here")
    g = p.add_argument_group("closed loop")
    g.add_argument("--connections", type=int, default=d.connections)
    g.add_argument("--workers", type=int, default=d.workers, help="load-generator processes")
    g.add_argument("--warmup", type=float, default=d.warmup, help="seconds, not measured")
    g.add_argument("--duration", type=float, default=d.duration, help="seconds measured")
    g.add_argument("--meter-values-per-session", type=int, default=d.meter_values_per_session)
    g = p.add_argument_group("long session")
    g.add_argument("--long-connections", type=int, default=d.long_connections)
    g.add_argument(
        "--seq-points",
        type=lambda t: tuple(sorted(int(x) for x in t.split(","))),
        default=d.seq_points,
        help="seqNos where the cost is read (comma-separated)",
    )
    g.add_argument("--seq-window", type=int, default=d.seq_window, help="seqNos per point")
    g.add_argument(
        "--long-limit", type=float, default=d.long_limit, help="seconds a long session may run"
    )
    g = p.add_argument_group("storm")
    g.add_argument("--storm-stations", type=int, default=d.storm_stations)
    g.add_argument("--storm-workers", type=int, default=d.storm_workers)
    g.add_argument("--storm-deadline", type=float, default=d.storm_deadline, help="seconds")
    g.add_argument("--retry-wait-minimum", type=float, default=d.policy.wait_minimum)
    g.add_argument("--retry-doublings", type=int, default=d.policy.doublings)
    g.add_argument("--retry-random-range", type=float, default=d.policy.random_range)
    g.add_argument("--open-timeout", type=float, default=d.policy.open_timeout)
    g.add_argument("--reply-timeout", type=float, default=d.policy.reply_timeout)
    g = p.add_argument_group("steady (10,000 stations)")
    g.add_argument("--steady-stations", type=int, default=d.steady_stations)
    g.add_argument("--steady-workers", type=int, default=d.steady_workers)
    g.add_argument("--steady-duration", type=float, default=d.steady_duration)
    g.add_argument("--heartbeat-interval", type=float, default=d.heartbeat_interval)
    g.add_argument("--meter-interval", type=float, default=d.meter_interval)
    g.add_argument(
        "--connect-concurrency",
        type=int,
        default=d.connect_concurrency,
        help="handshakes in flight per load-generator process while a fleet connects",
    )
    g.add_argument("--connect-deadline", type=float, default=d.connect_deadline)
    g = p.add_argument_group("cluster")
    g.add_argument(
        "--cluster-kinds",
        type=lambda t: _names(t, CLOSED_KINDS),
        default=d.cluster_kinds,
        help="closed-loop kinds run against one and two nodes",
    )
    g.add_argument("--failover-stations", type=int, default=d.failover_stations)
    g.add_argument("--nats", default=d.nats_url, help="NATS server of the cluster part")
    g = p.add_argument_group("servers")
    g.add_argument("--postgres", default=d.postgres_admin_url, help="an admin connection")
    g.add_argument(
        "--database-name",
        default=d.database_name,
        help="created (dropped first if it exists), dropped at the end; by default "
        "bench_ocpp_<run id>, so that runs side by side do not share one",
    )
    g.add_argument(
        "--csms-env",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the CSMS under test (repeatable)",
    )
    g.add_argument("--deflate", action="store_true", help="stations offer permessage-deflate")
    g.add_argument("--seed", type=int, default=d.seed, help="of the retry jitter")
    return p


def parse(argv: list[str]) -> argparse.Namespace:
    """With --quick, the QUICK numbers replace the defaults; values given on the command
    line still win (argparse leaves attributes already in the namespace alone)."""
    p = parser()
    quick = p.parse_known_args(argv)[0].quick
    return p.parse_args(argv, namespace=argparse.Namespace(**(suite.QUICK if quick else {})))


def options_from(arguments: argparse.Namespace) -> Options:
    values = {
        "parts": tuple(part for part in arguments.only if part not in arguments.skip),
        "connections": arguments.connections,
        "workers": arguments.workers,
        "warmup": arguments.warmup,
        "duration": arguments.duration,
        "meter_values_per_session": arguments.meter_values_per_session,
        "long_connections": arguments.long_connections,
        "seq_points": arguments.seq_points,
        "seq_window": arguments.seq_window,
        "long_limit": arguments.long_limit,
        "storm_stations": arguments.storm_stations,
        "storm_workers": arguments.storm_workers,
        "storm_deadline": arguments.storm_deadline,
        "steady_stations": arguments.steady_stations,
        "steady_workers": arguments.steady_workers,
        "steady_duration": arguments.steady_duration,
        "heartbeat_interval": arguments.heartbeat_interval,
        "meter_interval": arguments.meter_interval,
        "connect_concurrency": arguments.connect_concurrency,
        "connect_deadline": arguments.connect_deadline,
        "cluster_kinds": arguments.cluster_kinds,
        "failover_stations": arguments.failover_stations,
        "policy": RetryPolicy(
            wait_minimum=arguments.retry_wait_minimum,
            doublings=arguments.retry_doublings,
            random_range=arguments.retry_random_range,
            open_timeout=arguments.open_timeout,
            reply_timeout=arguments.reply_timeout,
        ),
        "deflate": arguments.deflate,
        "postgres_admin_url": arguments.postgres,
        "database_name": arguments.database_name,
        "nats_url": arguments.nats,
        "csms_env": tuple(arguments.csms_env),
        "seed": arguments.seed,
    }
    return Options(**values)


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=targets.ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                "?",
            )
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, load average {load}"


def header(options: Options, started: float) -> str:
    dirty = (
        " (uncommitted changes)" if _git("status", "--porcelain", "--untracked-files=no") else ""
    )
    command = " ".join(["python -m benchmarks.ocpp_load", *map(shlex.quote, sys.argv[1:])])
    commit = _git("rev-parse", "--short", "HEAD")
    return "\n".join(
        [
            f"## OCPP load benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}",
            "",
            f"- command: `{command}`",
            f"- code: {commit}{dirty} on branch {_git('branch', '--show-current')}",
            f"- machine: {machine()}",
            f"- Python {platform.python_version()}, websockets {version('websockets')}, "
            "PostgreSQL on 127.0.0.1 (a database of its own); one run, single figures",
        ]
    )


def main() -> int:
    arguments = parse(sys.argv[1:])
    options = options_from(arguments)
    if not options.parts:
        print("nothing to run", file=sys.stderr)
        return 2
    open_files = raise_open_files_limit()
    needed = max(options.steady_stations if "steady" in options.parts else 0, 1000) + 1000
    if open_files < needed:
        progress(f"warning: {open_files} open files allowed (ulimit -n); {needed} wanted")
    started = time.time()
    log_dir = Path(tempfile.mkdtemp(prefix="bench_ocpp_"))
    progress(f"parts: {', '.join(options.parts)}; server logs in {log_dir}")
    run_id = uuid.uuid4().hex[:4]
    database = options.database_name or f"bench_ocpp_{run_id}"
    with targets.postgres_database(options.postgres_admin_url, database) as url:
        ctx = Context(options, log_dir, url, run_id)
        echo = targets.start_echo(log_dir)
        try:
            run_parts(ctx, echo)
        finally:
            echo.stop()
    report = "\n\n".join([header(options, started), *ctx.sections])
    report += f"\n\nWhole run: {(time.time() - started) / 60:.1f} min.\n"
    print("\n" + "=" * 80 + "\n\n" + report)
    if arguments.output:
        arguments.output.write_text(report)
    return 1 if any("failed" in section.split("\n", 1)[0] for section in ctx.sections) else 0


def run_parts(ctx: Context, echo: targets.Server) -> None:
    """Each part on its own; one that fails is reported and the others still run."""
    parts = ctx.options.parts
    kinds = [kind for kind in CLOSED_KINDS if kind in parts]
    steps: list[tuple[str, Callable[[], None]]] = []
    if kinds or "long_session" in parts:
        steps.append(("closed loop and long session", lambda: _closed(ctx, echo, kinds)))
    if "storm" in parts:
        steps.append(("storm", lambda: suite.storm_part(ctx, echo)))
    if "steady" in parts:
        steps.append(("steady", lambda: suite.steady_part(ctx, echo)))
    if "cluster" in parts:
        steps.append(("cluster", lambda: suite.cluster_part(ctx, echo)))
    for name, step in steps:
        try:
            step()
        except Exception as error:
            progress(f"{name} failed: {error}")
            ctx.publish(f"### {name} failed\n\n```\n{error}\n```")
        if not echo.alive():
            raise RuntimeError("the echo server died")


def _closed(ctx: Context, echo: targets.Server, kinds: list[str]) -> None:
    with suite.running(ctx.csms("csms")) as csms:
        if kinds:
            suite.closed_loop_part(ctx, kinds, echo, csms)
        if "long_session" in ctx.options.parts:
            suite.long_session_part(ctx, echo, csms)


if __name__ == "__main__":
    sys.exit(main())
