"""Long runs announce themselves: an estimate of time and memory before a large Monte Carlo run.

Above `ANNOUNCE_DRAWS` draws, `announce` solves a few draws of the scenario (`PROBE_DRAWS`), times
them and measures the size of their results, and extrapolates to the whole run: the time (draws
solved one chunk after another on this machine) and the memory of the results (held in memory, then
concatenated: twice their size at the peak). It prints the estimate on stderr, then

- refuses a run whose results could not fit in this machine's memory (`MemoryRefused`), and
- refuses a run estimated to take longer than `CONFIRM_SECONDS` unless confirmed (``--yes``).

The estimate is an extrapolation from a handful of draws (the solver's effort varies from draw to
draw), so it says "about".
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lewie.errors import InputError

ANNOUNCE_DRAWS = 10_000  # draws above which a run is estimated before it starts
PROBE_DRAWS = 64  # draws solved to measure the time and size of one draw
CONFIRM_SECONDS = 3600.0  # runs estimated longer than this need --yes
PEAK_FACTOR = 2.0  # results in memory at the peak: the chunks and their concatenation


class RunTooLarge(InputError):
    """A run whose estimated time or memory is beyond what it may start with."""


@dataclass(frozen=True)
class Estimate:
    """Extrapolated cost of draws 0..``draws`` of a scenario."""

    draws: int
    seconds: float
    peak_bytes: float
    seconds_per_draw: float
    bytes_per_draw: float

    def format(self) -> str:
        return (f"about {_duration(self.seconds)} and {_size(self.peak_bytes)} of memory for draws 0..{self.draws} "
                f"(measured on {PROBE_DRAWS} draws: {self.seconds_per_draw * 1e3:.3g} ms and "
                f"{_size(self.bytes_per_draw)} per draw)")


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def _size(b: float) -> str:
    for unit, k in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if b >= k:
            return f"{b / k:.3g} {unit}"
    return f"{b:.0f} B"


def total_memory() -> float | None:
    """Physical memory of this machine in bytes (None when it cannot be found)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def requested_draws(scenario, draws: int | None) -> int:
    """The number of draws a run of ``scenario`` will solve (``draws`` or the scenario's)."""
    if draws is not None:
        return int(draws)
    return int(scenario.montecarlo.draws)


def estimate(scenario, draws: int, *, seed: int | None = None, draws_file=None) -> Estimate:
    """Solve `PROBE_DRAWS` draws of ``scenario`` and extrapolate time and memory to draws 0..``draws``."""
    from lewie.runs.montecarlo import MonteCarlo
    sc = scenario
    if seed is not None:
        sc = sc.model_copy(update={"montecarlo": sc.montecarlo.model_copy(update={"seed": seed})})
    mc = MonteCarlo(sc, draws_file=draws_file)
    mc.solve(1, 1)  # warm-up: the first solve compiles and factors what later chunks reuse
    k = max(1, min(PROBE_DRAWS, draws - 1))
    t0 = time.perf_counter()
    ds = mc.solve(2, 1 + k)
    dt = time.perf_counter() - t0
    per_draw, per_bytes = dt / k, ds.nbytes / k
    return Estimate(draws=draws, seconds=per_draw * (draws + 1), peak_bytes=PEAK_FACTOR * per_bytes * (draws + 1),
                    seconds_per_draw=per_draw, bytes_per_draw=per_bytes)


def check(est: Estimate, *, yes: bool = False, file=None, memory: float | None = None,
          field: str = "montecarlo.draws") -> None:
    """Refuse a run whose results cannot fit in memory, or a very long one without ``yes``."""
    memory = total_memory() if memory is None else memory
    if memory is not None and est.peak_bytes > memory:
        raise RunTooLarge(f"{est.draws:,} draws would need {est.format()}, more than this machine's "
                          f"{_size(memory)} of memory; ask for fewer draws", file=file, field=field)
    if est.seconds > CONFIRM_SECONDS and not yes:
        raise RunTooLarge(f"{est.draws:,} draws would take {est.format()}; run again with --yes to start it "
                          "anyway, or ask for fewer draws", file=file, field=field)


def announce(scenario_path, *, draws: int | None = None, seed: int | None = None, draws_file=None,
             yes: bool = False, stream=None) -> Estimate | None:
    """For a run above `ANNOUNCE_DRAWS` draws: estimate it, print the estimate, and `check` it.
    Returns the estimate (None for a small run, which starts at once)."""
    from lewie.config.scenario import Scenario, load_scenario
    sc = scenario_path if isinstance(scenario_path, Scenario) else load_scenario(Path(scenario_path))
    n = requested_draws(sc, draws)
    if n < ANNOUNCE_DRAWS:
        return None
    est = estimate(sc, n, seed=seed, draws_file=draws_file)
    print(f"estimate: {est.format()}", file=stream or sys.stderr, flush=True)
    check(est, yes=yes, file=sc.source, field="--draws" if draws is not None else "montecarlo.draws")
    return est


__all__ = ["announce", "estimate", "check", "Estimate", "RunTooLarge", "ANNOUNCE_DRAWS", "CONFIRM_SECONDS"]
