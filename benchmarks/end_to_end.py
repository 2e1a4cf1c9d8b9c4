"""Speed as the user waits for it: `lewie run` of 1,200 draw-solves end to end, side by side with the
batched core alone and with Pyomo+IPOPT one solve per draw, on this machine, in one run.

Timed here (medians of ``--reps`` runs; the machine's load average is printed before and after,
since the machine may be shared):

  (1) start-up: ``lewie --help`` as a subprocess;
  (2) end to end: ``lewie run SCENARIO --draws N --out TMP`` as a subprocess, as a user runs it
      (default: the example workbook, 2 dashboard sims × 600 draws = 1,200 solves): imports,
      workbook, calibration, model build, draws, recalibration, solve, verification, results
      written, summary printed;
  (3) the batched core alone, on the Aqua-size benchmark economy of `benchmarks/economies.py`
      (5 groups × 8 goods × 4 factors, 2 villages): recalibrate 200 draws and solve their
      200 × 6 shocks = 1,200 members (`lewie.model.recalibration.recalibrate` + `lewie.solvers.reduced_newton.solve_batch`),
      after one warm-up call (the model is built and compiled once, as in a run);
  (4) the baseline, Pyomo + IPOPT one solve per draw and shock on the same economy
      (`benchmarks/solve_throughput.run_conventional`): a sample of ``--ipopt-draws`` draws × 6
      shocks is timed and extrapolated to 1,200 solves (said so in the output);
  (5) scale: the 40-group, 4-village economy (`benchmarks.economies.scaled_economy`): its tearing
      (core/explicit partition) and 200 × 6 = 1,200 solves, against the same at 5 groups, with the
      growth exponents of both from 5 to 40 groups (time ∝ size^e, size = number of variables);
  (6) memory: peak resident memory (RSS) of ``lewie run SCENARIO --draws ``--memory-draws``
      (default 9,999: 10,000 draws × 2 sims), as a subprocess.

It prints the ratios: end to end vs GAMS+PATH's 551 s for the 1,200 (measured by the issue's
author on the Aqua study), vs the IPOPT baseline, and how much of the run the core is.

Run: .venv/bin/python benchmarks/end_to_end.py [--reps 5] [--scenario S --draws N]
     [--ipopt-draws 2] [--memory-draws 9999] [--skip-scale] [--skip-memory]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GAMS_SECONDS = 551.0  # GAMS + PATH for 1,200 Aqua draw-solves (issue 14)
LEWIE = [sys.executable, "-m", "lewie.cli.main"]


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def median_of(fn, reps: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), times


CPU: list[float] = []  # CPU seconds (user + system) of each lewie child process, in order


def run_cli(args: list[str]) -> None:
    """Run a lewie command as a child process; its CPU time goes to CPU (on a shared machine the CPU
    time of this single-threaded work is what the wall time would be on an idle one)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(LEWIE + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def peak_rss_mib(args: list[str]) -> float:
    """Peak RSS of a lewie command run as a child process (MiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run_cli(args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:  # ru_maxrss of children is the largest child so far: run alone to be sure
        out = subprocess.run([sys.executable, "-c", (
            "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"), *LEWIE, *args],
            check=True, capture_output=True, text=True, cwd=REPO)
        after = int(out.stdout.strip())
    return after / 1024.0


def economy(folder: Path, copies: int | None):
    """A built benchmark economy (copies=None: the 5-group one), its compiled system and shock positions."""
    import lewie
    from benchmarks.economies import SHOCKS, benchmark_scenario, scaled_scenario
    from lewie.solvers.tape import compile_model
    if copies is None:
        sc, shocks = benchmark_scenario(folder), SHOCKS
    else:
        sc, shocks = scaled_scenario(folder, copies=copies, village_pairs=2)
    sim = lewie.Simulation(sc).load().validate().calibrate().build()
    system = compile_model(sim.model)
    positions = {name: system.param_positions(sim.model.find_component(name))
                 for name in {c[0] for sh in shocks for c in sh.changes}}
    return sim, system, positions, shocks


def core(sim, system, positions, shocks, draws):
    """Recalibrate every draw and solve draws × shocks (the batched core)."""
    from benchmarks.economies import apply_shock
    from lewie.model.recalibration import recalibrate
    from lewie.solvers.reduced_newton import solve_batch
    X0, P0 = recalibrate(sim.model, sim.calibration, draws)
    P = np.stack([apply_shock(P0, sh, positions) for sh in shocks], axis=1)
    return solve_batch(system, X0, P0, P)


def tearing_seconds(system) -> float:
    from lewie.solvers.tearing import Explicit
    t = time.perf_counter()
    Explicit.build(system)
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/example_workbook.toml")
    ap.add_argument("--draws", type=int, default=599, help="draws besides draw 0 (599 × 2 sims + 2 = 1,200 solves)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--ipopt-draws", type=int, default=2, help="draws of the IPOPT sample (× 6 shocks)")
    ap.add_argument("--memory-draws", type=int, default=9999)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lewie-e2e-"))
    print(f"lewie end to end on {os.cpu_count()} cores; load average {load()} at start; medians of {args.reps}")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set: modules without a cached .pyc (lewie's own, in an editable "
              "install) are compiled at every start (~0.05 s of each run)")

    # (1) start-up and (2) end to end, interleaved so that both see the same load
    out = tmp / "run.nc"
    cli_args = ["run", args.scenario, "--draws", str(args.draws), "--out", str(out)]
    run_cli(cli_args)  # warm the file cache and check it runs
    import xarray as xr
    from lewie.results.dataset import load_results
    ds = load_results(out)
    solves = int(ds["status"].size)
    ok = int((ds["status"] == "converged").sum())
    t_help, t_run, c_help, c_run = [], [], [], []
    for _ in range(args.reps):
        t_help.append(median_of(lambda: run_cli(["--help"]), 1)[0])
        c_help.append(CPU[-1])
        t_run.append(median_of(lambda: run_cli(cli_args), 1)[0])
        c_run.append(CPU[-1])
    help_s, run_s = float(np.median(t_help)), float(np.median(t_run))
    print(f"(1) lewie --help                           {help_s:7.3f} s   (runs: {', '.join(f'{t:.2f}' for t in t_help)}; "
          f"CPU median {np.median(c_help):.3f} s)")
    print(f"(2) lewie run {Path(args.scenario).name} --draws {args.draws}: {solves} solves ({ok} converged)")
    print(f"    end to end                             {run_s:7.3f} s   (runs: {', '.join(f'{t:.2f}' for t in t_run)}; "
          f"CPU median {np.median(c_run):.3f} s)")
    del ds, xr

    # (3) the batched core alone on the Aqua-size benchmark economy
    from lewie.model.recalibration import perturb_shares
    sim, system, positions, shocks = economy(tmp / "bench5", None)
    draws = perturb_shares(sim.calibration, 200, rng=np.random.default_rng(1))
    r = core(sim, system, positions, shocks, draws)  # warm-up: tearing, recalibration maps
    core_s, core_t = median_of(lambda: core(sim, system, positions, shocks, draws), args.reps)
    print(f"(3) batched core, Aqua-size economy ({system.n} variables), 200 draws × {len(shocks)} shocks = "
          f"{r.x.shape[0]} solves ({int(r.ok.sum())} converged)")
    print(f"    recalibrate + solve_batch              {core_s:7.3f} s   (runs: {', '.join(f'{t:.2f}' for t in core_t)})")

    # (4) Pyomo + IPOPT, one solve per draw and shock: a sample, extrapolated
    ipopt_s = None
    try:
        from benchmarks.solve_throughput import one_draw, run_conventional
        from lewie.solvers import get_backend
        backend = get_backend("ipopt")
        sample = one_draw(draws, 0) if args.ipopt_draws == 1 else type(draws)(
            **{k: (None if v is None else v[:args.ipopt_draws]) for k, v in vars(draws).items()})
        t = time.perf_counter()
        X, okc = run_conventional(sim, system, positions, sample, backend)
        n = X.shape[0] * X.shape[1]
        ipopt_s = (time.perf_counter() - t) / n * 1200
        print(f"(4) Pyomo + IPOPT one solve per draw: {n} solves timed ({int(okc.sum())} converged), "
              f"extrapolated to 1,200: {ipopt_s:7.1f} s")
    except Exception as exc:  # IPOPT not installed here
        print(f"(4) Pyomo + IPOPT baseline not run: {type(exc).__name__}: {exc}")

    # (5) scale: 40 groups, 4 villages, against 5 groups
    if not args.skip_scale:
        tear5 = tearing_seconds(system)
        sim40, system40, pos40, shocks40 = economy(tmp / "bench40", 8)
        tear40 = tearing_seconds(system40)
        d40 = perturb_shares(sim40.calibration, 200, rng=np.random.default_rng(1))
        r40 = core(sim40, system40, pos40, shocks40, d40)
        s40, t40 = median_of(lambda: core(sim40, system40, pos40, shocks40, d40), max(3, args.reps // 2))
        grow = np.log(system40.n / system.n)
        from lewie.solvers.reduced_newton import explicit_for
        print(f"(5) 40 groups, 4 villages ({system40.n} variables, core "
              f"{explicit_for(system40).part.n_core}): 200 draws × 6 shocks = "
              f"{r40.x.shape[0]} solves ({int(r40.ok.sum())} converged)")
        print(f"    recalibrate + solve_batch              {s40:7.3f} s   (runs: {', '.join(f'{t:.2f}' for t in t40)})")
        print(f"    tearing (partition, explicit levels)   {tear40:7.3f} s   (5 groups: {tear5:.3f} s)")
        print(f"    growth from {system.n} to {system40.n} variables: solve ∝ n^{np.log(s40 / core_s) / grow:.2f}, "
              f"tearing ∝ n^{np.log(tear40 / tear5) / grow:.2f}")
        print(f"    goal 1,200 solves <= 1.5 s: {'met' if s40 <= 1.5 else 'NOT met'}")
        del sim40, system40

    # (6) memory
    if not args.skip_memory:
        mem_out = tmp / "memory.nc"
        t = time.perf_counter()
        mib = peak_rss_mib(["run", args.scenario, "--draws", str(args.memory_draws), "--out", str(mem_out)])
        print(f"(6) peak RSS of lewie run --draws {args.memory_draws}: {mib:7.1f} MiB "
              f"({time.perf_counter() - t:.1f} s)")

    print("ratios:")
    print(f"    end to end vs GAMS+PATH (551 s):       {GAMS_SECONDS / run_s:7.0f}x faster")
    if ipopt_s is not None:
        print(f"    end to end vs Pyomo+IPOPT per draw:    {ipopt_s / run_s:7.1f}x faster "
              f"(core alone: {ipopt_s / core_s:.0f}x)")
    print(f"    batched core / end to end:             {core_s / run_s:7.1%}")
    print(f"goals: end to end <= 1.5 s: {'met' if run_s <= 1.5 else 'NOT met'} ({run_s:.2f} s); core <= 0.15 s: "
          f"{'met' if core_s <= 0.15 else 'NOT met'} ({core_s:.3f} s); load average {load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
