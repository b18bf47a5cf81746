"""Process limits and /proc readings of the benchmark (Linux)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (children inherit it);
    10,000 stations need 10,000 sockets on each side. Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS), KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass(frozen=True, slots=True)
class CpuReading:
    """CPU time a process (all its threads) has used, and when it was read."""

    cpu_seconds: float
    wall: float

    def percent_until(self, later: CpuReading) -> float:
        """CPU % between two readings: 100 = one core busy all the time."""
        elapsed = later.wall - self.wall
        return 100 * (later.cpu_seconds - self.cpu_seconds) / elapsed if elapsed > 0 else 0.0


def cpu_reading(pid: int, wall: float) -> CpuReading:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # Fields after the command name (which may contain spaces, hence the rsplit):
        # utime and stime are fields 14 and 15 of the line, 12 and 13 after ")".
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return CpuReading(cpu_seconds=ticks / os.sysconf("SC_CLK_TCK"), wall=wall)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send `sig` to this process when its parent dies: a benchmark killed
    midway must not leave servers and load generators running (best effort: a no-op
    where prctl is missing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
