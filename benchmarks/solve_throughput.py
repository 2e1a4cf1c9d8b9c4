"""Throughput of recalibrate-and-solve: conventional per-draw IPOPT vs the native Newton solvers.

The work (issue 5): a LEWIE Monte Carlo study recalibrates the model for each parameter draw and
solves each programme variant. Here: the benchmark economy (`benchmarks/economies.py`: 5 household
groups, 8 goods, 4 factors, 2 villages), 200 draws of the shares × 6 shocks = 1,200
recalibrate-and-solve iterations, timed three ways in one run:

  (a) conventional: per draw, recalibrate and load the parameters into the Pyomo model, then one
      IPOPT solve per shock (`lewie.solvers.ipopt.IpoptBackend`, warm-started at the draw's base);
      if IPOPT is not installed, (a) is the native solver through the Pyomo model, labelled so;
  (b) native, one draw at a time: recalibrate one draw, `solve_batch` one member at a time;
  (c) native, batched: recalibrate all draws at once (`lewie.model.recalibration.recalibrate`), `solve_batch` on
      all 1,200 members, every member verified by the compiled residual of all equations, and
      member 0 plus a random sample of 8 verified by Pyomo's own evaluation of the constraints.

It prints the median of several repetitions of each and the ratios, how far the three agree, and
the peak memory of (c) for 10,000 draws (measured in a child process).

Run: .venv/bin/python benchmarks/solve_throughput.py [--draws 200] [--reps 5] [--conventional-reps 3]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.economies import SHOCKS, apply_shock, benchmark_scenario  # noqa: E402


def build():
    """The benchmark economy taken through lewie's stages up to a built (and base-checked) model."""
    import lewie
    from lewie.solvers.tape import compile_model
    folder = Path(tempfile.mkdtemp(prefix="lewie-bench-"))
    sim = lewie.Simulation(benchmark_scenario(folder)).load().validate().calibrate().build()
    system = compile_model(sim.model)
    positions = {name: system.param_positions(sim.model.find_component(name))
                 for name in {c[0] for sh in SHOCKS for c in sh.changes}}
    return sim, system, positions


def shocked(P0: np.ndarray, positions) -> np.ndarray:
    """(D, S, k): every draw's parameters with each of the S shocks applied."""
    return np.stack([apply_shock(P0, sh, positions) for sh in SHOCKS], axis=1)


def one_draw(draws, d):
    from lewie.model.calibration import ShareDraws
    return ShareDraws(**{k: (None if v is None else v[d:d + 1]) for k, v in vars(draws).items()})


def run_conventional(sim, system, positions, draws, backend):
    """(a): per draw recalibrate, then per shock load into Pyomo and solve with ``backend``."""
    from lewie.model.recalibration import recalibrate
    D, S = draws.n_draws, len(SHOCKS)
    X = np.empty((D, S, system.n))
    ok = np.zeros((D, S), dtype=bool)
    for d in range(D):
        X0, P0 = recalibrate(sim.model, sim.calibration, one_draw(draws, d), check=False)
        P = shocked(P0, positions)[0]
        for s in range(S):
            system.set_p(P[s])
            system.set_x(X0[0])
            res = backend.solve(sim.model)
            X[d, s] = system.get_x()
            ok[d, s] = res.status.ok
    return X, ok


def run_native_single(sim, system, positions, draws):
    """(b): per draw recalibrate, then one `solve_batch` call per shock (one member each)."""
    from lewie.model.recalibration import recalibrate
    from lewie.solvers.reduced_newton import solve_batch
    D, S = draws.n_draws, len(SHOCKS)
    X = np.empty((D, S, system.n))
    ok = np.zeros((D, S), dtype=bool)
    for d in range(D):
        X0, P0 = recalibrate(sim.model, sim.calibration, one_draw(draws, d))
        P = shocked(P0, positions)
        for s in range(S):
            r = solve_batch(system, X0, P0, P[:, s])
            X[d, s], ok[d, s] = r.x[0], r.ok[0]
    return X, ok


def run_native_batched(sim, system, positions, draws, *, pyomo_sample=8, seed=0):
    """(c): recalibrate every draw at once, solve every member, verify (compiled: all; Pyomo: sample)."""
    from lewie.model.recalibration import recalibrate
    from lewie.solvers.reduced_newton import solve_batch
    from lewie.runs.verify import verify_batch
    X0, P0 = recalibrate(sim.model, sim.calibration, draws)
    P = shocked(P0, positions)
    r = solve_batch(system, X0, P0, P)
    checked = verify_batch(sim.model, system, r, P, sample=pyomo_sample, rng=np.random.default_rng(seed))
    return r, checked


def timed(fn, reps):
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), times, out


def rel_diff(A, B):
    return float(np.max(np.abs(A - B) / np.maximum(1.0, np.abs(B))))


def memory_child(n_draws: int) -> None:
    """Run (c) for ``n_draws`` draws and print JSON: time, statuses, tracemalloc peak of (c)."""
    from lewie.model.recalibration import perturb_shares
    sim, system, positions = build()
    draws = perturb_shares(sim.calibration, n_draws, rng=np.random.default_rng(7))
    from lewie.solvers.reduced_newton import explicit_for
    explicit_for(system)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t = time.perf_counter()
    r, checked = run_native_batched(sim, system, positions, draws)
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"draws": n_draws, "members": int(r.x.shape[0]), "seconds": elapsed,
                      "converged": int(r.ok.sum()), "tracemalloc_peak": peak,
                      "rss_before_kib": rss_before,
                      "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5, help="repetitions of (b) and (c)")
    ap.add_argument("--conventional-reps", type=int, default=3, help="repetitions of (a)")
    ap.add_argument("--memory-draws", type=int, default=10_000, help="draws for the memory check of (c)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    if args.memory_child:
        memory_child(args.memory_child)
        return 0

    from lewie.model.recalibration import perturb_shares
    from lewie.solvers import registry
    from lewie.solvers.reduced_newton import explicit_for

    sim, system, positions = build()
    ex = explicit_for(system)
    s = sim.structure
    print(f"benchmark economy: {len(s.households)} household groups, {len(s.goods)} goods, "
          f"{len(s.factors)} factors, {len(s.villages)} villages")
    print(f"model: {ex.part.describe(system)}")
    D, S = args.draws, len(SHOCKS)
    print(f"work: {D} draws x {S} shocks = {D * S} recalibrate-and-solve iterations "
          f"({', '.join(sh.name for sh in SHOCKS)})")
    draws = perturb_shares(sim.calibration, D, rng=np.random.default_rng(args.seed))

    ipopt = next((r for r in registry() if r.name == "ipopt"), None)
    if ipopt is not None and ipopt.available:
        from lewie.solvers.ipopt import IpoptBackend
        conv_backend = IpoptBackend()
        conv_label = f"(a) conventional: Pyomo + IPOPT {ipopt.version}, one solve per draw"
    else:
        from lewie.solvers.newton import NewtonBackend
        conv_backend = NewtonBackend()
        conv_label = ("(a) BASELINE WITHOUT IPOPT (not installed: " + (ipopt.reason if ipopt else "?")
                      + "): Pyomo model + native Newton, one solve per draw")

    t_c, times_c, (res_c, checked) = timed(lambda: run_native_batched(sim, system, positions, draws), args.reps)
    t_b, times_b, (X_b, ok_b) = timed(lambda: run_native_single(sim, system, positions, draws), args.reps)
    t_a, times_a, (X_a, ok_a) = timed(lambda: run_conventional(sim, system, positions, draws, conv_backend),
                                      args.conventional_reps)
    X_c = res_c.x.reshape(D, S, system.n)
    print()
    print(f"{conv_label}")
    print(f"    median {t_a:8.3f} s over {len(times_a)} runs  ({1e3 * t_a / (D * S):.2f} ms per solve; "
          f"converged {int(ok_a.sum())}/{D * S})")
    print("(b) native reduced-space Newton, one draw and one shock at a time")
    print(f"    median {t_b:8.3f} s over {len(times_b)} runs  ({1e3 * t_b / (D * S):.2f} ms per solve; "
          f"converged {int(ok_b.sum())}/{D * S})")
    print("(c) native batched: vectorised recalibration, solve_batch, every member verified by the compiled")
    print(f"    residual, {len(checked)} members by Pyomo's own constraint evaluation")
    print(f"    median {t_c:8.3f} s over {len(times_c)} runs  ({1e3 * t_c / (D * S):.3f} ms per solve; "
          f"converged {int(res_c.ok.sum())}/{D * S}; worst full residual {res_c.max_residual.max():.2g}; "
          f"worst Pyomo-checked {checked['max_relative_residual'].max():.2g})")
    print(f"    iterations per member: median {np.median(res_c.iterations):.0f}, max {res_c.iterations.max()}; "
          f"reduced Jacobians formed: {res_c.details['refreshes']} (+{D} at the draws' bases); "
          f"continued: {res_c.details['continued']}")
    print(f"    all times (s): a {np.round(times_a, 3).tolist()}  b {np.round(times_b, 3).tolist()}  "
          f"c {np.round(times_c, 3).tolist()}")
    print()
    print(f"ratios of medians: (a)/(c) = {t_a / t_c:.0f}x   (b)/(c) = {t_b / t_c:.1f}x   (a)/(b) = {t_a / t_b:.1f}x")
    print(f"targets: (c) <= 5 s: {'yes' if t_c <= 5 else 'NO'};  (a)/(c) >= 50: {'yes' if t_a / t_c >= 50 else 'NO'}")
    both = ok_a & res_c.ok.reshape(D, S)
    print(f"agreement (max relative difference of all variables, converged members): "
          f"(a) vs (c) {rel_diff(X_a[both], X_c[both]):.2g}; (b) vs (c) {rel_diff(X_b[ok_b], X_c[ok_b]):.2g}")
    if not res_c.ok.all():
        print("non-converged members of (c):")
        print(res_c.failures().to_string())

    if args.memory_draws:
        cmd = [sys.executable, __file__, "--memory-child", str(args.memory_draws)]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ}, check=True)
        info = json.loads(out.stdout.strip().splitlines()[-1])
        print()
        print(f"(c) for {info['draws']} draws ({info['members']} solves, in a child process): "
              f"{info['seconds']:.2f} s, converged {info['converged']}/{info['members']}; "
              f"peak memory allocated by (c) (tracemalloc) {info['tracemalloc_peak'] / 2**20:.0f} MiB; "
              f"process peak RSS {info['rss_peak_kib'] / 2**20:.2f} GiB "
              f"(before (c): {info['rss_before_kib'] / 2**20:.2f} GiB); target < 2 GiB: "
              f"{'yes' if info['rss_peak_kib'] < 2 * 2**20 else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
