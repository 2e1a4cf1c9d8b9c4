"""Throughput of `lewie batch` with 1 and 2 local Dask workers, against a plain in-process run.

The work: every variant of the given scenarios (default: the whole bundled library) for draws
0..N, timed three ways in one run on this machine:

  (a) in-process: for each scenario, `lewie.runs.montecarlo.run_draws` (one batched solve of all draws)
      and `lewie.results.dataset.save_results` — no Dask, no chunk files;
  (b) `lewie.runs.dask_batch.run_batch` on a LocalCluster of 1 worker process;
  (c) the same on 2 worker processes.

For (b) and (c) the cluster is `lewie batch`'s own (`lewie.runs.dask_batch.dask_client`: single-threaded
worker processes, each bound to a CPU of its own). Its start-up (processes spawned, lewie imported,
workers set up) is timed apart from the batch itself (the client validating every scenario while the
workers solve those already validated, chunks written, merged into one file per scenario). (a) reads and calibrates each scenario once, as
the batch does (its validation), and runs in one process: so with 1 worker the batch uses two cores
while the client validates (the client and the worker), and the speed-up from 1 to 2 workers is
bounded by 2 / (1 + C/W) for client CPU C and workers' CPU W.
It prints draws per second (a draw = one recalibrated economy with every variant solved), the
overhead of the distributed layer against (a), the speed-up from 1 to 2 workers, and checks that
the three give identical results. With ``--repeat`` it keeps the fastest run of each configuration for
the details and prints the medians and every run's time. For each worker it prints when the first
chunk began, the share of the batch it spent in chunks and how far apart the workers finished (from
the chunks' start and end times). The machine's load average is printed too: other work running on
the same cores slows every configuration. CPU seconds (client, workers, and inside the chunk tasks:
build+solve, chunk writes) are printed beside wall times: other work on the machine inflates wall
time much more than CPU time, so they show where a batch spends its work even on a busy machine.

Run: .venv/bin/python benchmarks/batch_scaling.py [--draws 100] [--chunk-size 25] [--repeat 3] [SCENARIO ...]
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


SETTLE = 0.5  # seconds left to the machine before each timed run


def _settle() -> None:
    """Before a timed run: this process's garbage collected, and a pause for what the previous run left
    behind (a closed cluster's processes exiting and freeing their memory) to finish."""
    gc.collect()
    time.sleep(SETTLE)


def in_process(plan, folder: Path) -> tuple[float, float]:
    """Wall time and CPU time of the in-process run."""
    from lewie.runs.montecarlo import run_draws
    from lewie.results.dataset import save_results
    _settle()
    t0, c0 = time.perf_counter(), time.process_time()
    for sp in plan.scenarios:
        save_results(run_draws(sp.scenario), folder / f"{sp.stem}.nc")
    return time.perf_counter() - t0, time.process_time() - c0


def batched(files, draws: int, chunk_size: int | None, workers: int, folder: Path) -> tuple[float, float, int, dict]:
    """Start-up, wall time of the batch, chunks computed, and where the time went: ``plan`` (the
    client validating every scenario), ``solve`` and ``write`` (summed over the workers' chunks:
    building each scenario once, solving, writing chunk files), ``merge`` (the client merging
    each scenario's chunks into its results file), ``tail`` (from the last chunk done to the end),
    and CPU seconds: ``cpu_client`` and ``cpu_workers`` (summed), which other work on the machine
    does not inflate as it does wall time."""
    import lewie.runs.dask_batch as B
    t0 = time.perf_counter()
    parts = {"plan": 0.0, "solve": 0.0, "write": 0.0, "merge": 0.0, "builds": 0, "last_chunk": 0.0,
             "solve_cpu": 0.0, "write_cpu": 0.0}

    def timed(fn, key):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                parts[key] += time.perf_counter() - t
        return wrapper

    parts["timeline"] = []  # (pid, started, ended, seconds in the chunk's tasks) of each chunk (time.time())

    def on_chunk(report):
        if "started" in report and "ended" in report:
            parts["timeline"].append((report["pid"], report["started"], report["ended"], report["seconds"]))
        parts["solve"] += report.get("solve_seconds", 0.0)
        parts["write"] += report.get("write_seconds", 0.0)
        parts["solve_cpu"] += report.get("solve_cpu", 0.0)
        parts["write_cpu"] += report.get("write_cpu", 0.0)
        parts["builds"] += int(bool(report.get("built", False)))
        parts["last_chunk"] = time.perf_counter()

    saved = B.plan_batch, B.merge_scenario
    B.plan_batch, B.merge_scenario = timed(B.plan_batch, "plan"), timed(B.merge_scenario, "merge")
    try:
        with B._quiet_dask():
            with B.dask_client(n_workers=workers) as client:  # `lewie batch`'s local cluster, workers set up
                startup = time.perf_counter() - t0
                _settle()
                cpu0 = sum(client.run(time.process_time).values())
                t1, c1, parts["t_start"] = time.perf_counter(), time.process_time(), time.time()
                outcome = B.run_batch(files, folder, draws=draws, chunk_size=chunk_size, client=client,
                                      progress=False, on_chunk=on_chunk)
                work, t2 = time.perf_counter() - t1, time.perf_counter()
                parts["cpu_client"] = time.process_time() - c1
                parts["cpu_workers"] = sum(client.run(time.process_time).values()) - cpu0
                parts["tail"] = t2 - parts["last_chunk"]
    finally:
        B.plan_batch, B.merge_scenario = saved
    return startup, work, len(outcome.computed), parts


def _timeline(parts: dict) -> str:
    """When the workers worked, from their chunks' start and end times: how long after the batch began
    the first chunk started, the share of the batch each worker spent in chunks, how far apart they
    finished."""
    t0 = parts["t_start"]
    pids = sorted({p for p, *_ in parts["timeline"]})
    first = min(s for _, s, _, _ in parts["timeline"]) - t0
    ends = [max(e for p2, _, e, _ in parts["timeline"] if p2 == p) - t0 for p in pids]
    busy = [sum(b for p2, _, _, b in parts["timeline"] if p2 == p) for p in pids]
    span = max(ends)
    return (f"workers: first chunk began {first:.2f} s into the batch; in chunks "
            + ", ".join(f"{100 * b / span:.0f}%" for b in busy) + f" of the {span:.2f} s to the last chunk's end"
            + (f"; finished {max(ends) - min(ends):.2f} s apart" if len(ends) > 1 else ""))


def identical(a: Path, b: Path) -> bool:
    import xarray as xr
    from lewie.results.dataset import load_results
    for path in sorted(a.glob("*.nc")):
        x, y = load_results(path), load_results(b / path.name)
        for d in (x, y):
            for k in ("scenario_key", "batch_draws"):
                d.attrs.pop(k, None)
        try:
            xr.testing.assert_identical(x, y)
        except AssertionError:
            return False
    return True


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", type=Path, help="scenario files (default: scenarios/*.toml)")
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each configuration this many times, in turn, and keep the fastest of each (other "
                         "work on a shared machine only ever slows a run)")
    args = ap.parse_args(argv)
    from lewie.runs.batch_plan import plan_batch
    files = args.scenarios or sorted((REPO / "scenarios").glob("*.toml"))
    tmp = Path(tempfile.mkdtemp(prefix="lewie-batch-bench-"))
    plan = plan_batch(files, tmp / "plan", draws=args.draws, chunk_size=args.chunk_size, workers=2)
    n_draws = len(plan.scenarios) * (args.draws + 1)
    n_variants = sum(len(sp.variants) for sp in plan.scenarios)
    n_solves = sum((args.draws + 1) * len(sp.variants) for sp in plan.scenarios)
    print(f"{len(plan.scenarios)} scenarios, {n_variants} variants, draws 0..{args.draws}: {n_draws} draws, "
          f"{n_solves} solves, chunks of "
          f"{plan.chunk_size} draws; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    best_in, best, walls = None, {}, {0: [], 1: [], 2: []}
    for r in range(max(1, args.repeat)):
        folder = tmp / f"inproc{r}"
        folder.mkdir()
        t_in, cpu_in = in_process(plan, folder)
        walls[0].append(t_in)
        if best_in is None or t_in < best_in[0]:
            if best_in is not None:
                shutil.rmtree(best_in[2], ignore_errors=True)
            best_in = (t_in, cpu_in, folder)
        else:  # only the fastest run's results are kept (compared at the end): the others are removed at
            shutil.rmtree(folder, ignore_errors=True)  # once, before the kernel writes them to disk meanwhile
        for w in (1, 2):
            out = tmp / f"w{w}-{r}"
            startup, work, chunks, parts = batched(files, args.draws, args.chunk_size, w, out)
            walls[w].append(work)
            if w not in best or work < best[w][1]:
                if w in best:
                    shutil.rmtree(best[w][4], ignore_errors=True)
                best[w] = (startup, work, chunks, parts, out)
            else:
                shutil.rmtree(out, ignore_errors=True)
    t_in, cpu_in, inproc = best_in
    runs = f"fastest of {args.repeat} runs" if args.repeat > 1 else "one run"
    print(f"  in-process (run_draws + save_results)   {t_in:7.1f} s   {n_draws / t_in:7.1f} draws/s   "
          f"(CPU {cpu_in:.1f} s; {runs} of each)")
    cpu = {}
    rows = {}
    for w in (1, 2):
        startup, work, chunks, parts, _ = best[w]
        rows[w] = (startup, work)
        print(f"  batch, {w} worker{'s' if w > 1 else ' '} ({chunks} chunks)           {work:7.1f} s   "
              f"{n_draws / work:7.1f} draws/s   (+ {startup:.1f} s cluster start-up)")
        print(f"      client: plan {parts['plan']:.1f} s, merge {parts['merge']:.1f} s, after the last chunk "
              f"{parts['tail']:.1f} s; workers (summed): build+solve {parts['solve']:.1f} s ({parts['builds']} "
              f"scenario builds), chunk writes {parts['write']:.1f} s")
        if parts["timeline"]:
            print("      " + _timeline(parts))
        cpu[w] = parts["cpu_client"] + parts["cpu_workers"]
        print(f"      CPU: client {parts['cpu_client']:.1f} s, workers {parts['cpu_workers']:.1f} s (in tasks: "
              f"build+solve {parts['solve_cpu']:.1f} s, chunk writes {parts['write_cpu']:.1f} s): "
              f"{100 * (cpu[w] / cpu_in - 1):+.0f}% against in-process")
    s1, w1 = rows[1]
    s2, w2 = rows[2]
    print(f"overhead of the distributed layer, 1 worker vs in-process: {100 * (w1 / t_in - 1):+.0f}% "
          f"({100 * ((w1 + s1) / t_in - 1):+.0f}% with start-up)")
    print(f"speed-up 1 -> 2 workers: {w1 / w2:.2f}x ({(w1 + s1) / (w2 + s2):.2f}x with start-up)")
    if args.repeat > 1:
        med = {w: statistics.median(v) for w, v in walls.items()}
        print(f"medians of {args.repeat} runs: in-process {med[0]:.2f} s, 1 worker {med[1]:.2f} s, 2 workers "
              f"{med[2]:.2f} s: overhead {100 * (med[1] / med[0] - 1):+.0f}%, speed-up 1 -> 2 workers "
              f"{med[1] / med[2]:.2f}x (all runs: " + "; ".join(
                  f"{name} " + ", ".join(f"{x:.2f}" for x in walls[w])
                  for w, name in ((0, "in-process"), (1, "1 worker"), (2, "2 workers"))) + ")")
    same = identical(inproc, best[1][4]) and identical(inproc, best[2][4])
    print(f"results identical (in-process, 1 worker, 2 workers): {'yes' if same else 'NO'}; "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    if not same:
        print(f"(the results are kept in {tmp})")
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)  # every run's results (hundreds of MB)


if __name__ == "__main__":
    main()
