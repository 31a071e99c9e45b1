"""Running commands for the benchmark: wall time and peak memory of a child process, first
paint in a real pseudo-terminal, alternation with a floor, and the summary statistics."""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# The terminal the console and the floor app are drawn in.
COLUMNS, ROWS = 120, 40


@dataclass(frozen=True)
class Run:
    """One child process: how long it took, its peak memory, how it ended."""

    seconds: float
    peak_rss_mib: float  # peak resident memory (first_paint: VmHWM; run: ru_maxrss)
    returncode: int
    first_paint: float | None = None  # seconds from start to the marker on screen
    rss_mib: float | None = None  # resident memory when a first_paint run was stopped


def command(name: str) -> str:
    """The installed command beside this interpreter (the virtualenv's), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"bench: {name} is not installed (pip install -e .)")
    return found


def _memory(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of a live process, in MiB.

    Read from /proc rather than the rusage at exit: a child's ru_maxrss also counts the
    parent's pages it shared between fork and exec, so it grows with the benchmark itself.
    """
    found: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    found[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found


def _reap(pid: int) -> tuple[int, float]:
    _, status, usage = os.wait4(pid, 0)
    # ru_maxrss is in KiB on Linux.
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024


def run(argv: Sequence[str], env: dict[str, str], *, check: bool = True) -> Run:
    """Run a command to its end with output discarded; wall time and peak memory."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors
        )
        code, peak = _reap(proc.pid)
        seconds = time.perf_counter() - start
        proc.returncode = code  # reaped here, so that Popen does not wait for it again
        if check and code not in (0, 1):
            errors.seek(0)
            text = errors.read().decode("utf-8", "replace").strip()
            raise SystemExit(f"bench: {' '.join(argv[1:])} exited {code}: {text}")
    return Run(seconds, peak, code)


def first_paint(
    argv: Sequence[str],
    env: dict[str, str],
    marker: bytes,
    *,
    settle: float = 1.0,
    timeout: float = 120.0,
) -> Run:
    """Start a full-screen program in a pseudo-terminal and time it to `marker` on screen.

    The program is left running `settle` seconds more (its terminal still read, as a real one
    would be), so its peak memory includes what it does straight after the first paint, then
    it is killed.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        env={**env, "COLUMNS": str(COLUMNS), "LINES": str(ROWS)},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    painted: float | None = None
    stop_at = start + timeout
    try:
        while True:
            now = time.perf_counter()
            if painted is not None and now >= painted + start + settle:
                break
            if now >= stop_at:
                break
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the program closed its terminal
                break
            if not chunk:
                break
            if painted is None:
                seen = seen[-len(marker) :] + chunk
                if marker in seen:
                    painted = time.perf_counter() - start
    finally:
        memory = _memory(proc.pid)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        code, _ = _reap(proc.pid)
        proc.returncode = code
        os.close(master)
    if painted is None:
        raise SystemExit(
            f"bench: {Path(argv[0]).name} never showed {marker!r} "
            f"(exit {code}; last output {seen[-300:]!r})"
        )
    return Run(painted, memory.get("VmHWM", 0.0), code, painted, memory.get("VmRSS", 0.0))


def alternate(rounds: int, sides: dict[str, Callable[[], T]]) -> dict[str, list[T]]:
    """Run each side once per round, alternating which goes first (ABBA...), so drift and noise
    on a shared machine fall on every side alike."""
    names = list(sides)
    found: dict[str, list[T]] = {name: [] for name in names}
    for round_number in range(rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            found[name].append(sides[name]())
    return found


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p95, best and worst of some timings, in the unit given."""
    return {
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def as_dicts(runs: Sequence[Run]) -> list[dict[str, object]]:
    """Runs as plain data for the JSON report."""
    return [asdict(r) for r in runs]
