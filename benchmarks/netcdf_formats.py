"""Which netCDF format `lewie.results.dataset.save_results` should write: time to write and read, and size.

Writes the results of a Monte Carlo run (default: the example workbook with 599 draws, 1,200 solves)
in each candidate format and reads them back with `load_results`, several times; prints the medians,
the file sizes and whether the round trip gives identical results (values, dtypes and attributes).

Run: .venv/bin/python benchmarks/netcdf_formats.py [--scenario S] [--draws 599] [--reps 5]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def candidates(ds):
    """name -> function writing ds to a path."""
    import xarray as xr  # noqa: F401
    comp = {v: {"zlib": True, "complevel": 1, "shuffle": True} for v in ds.data_vars
            if ds[v].dtype.kind == "f" and ds[v].size > 1}
    return {
        "netCDF4 (h5netcdf)": lambda p: ds.to_netcdf(p, engine="h5netcdf"),
        "netCDF4 zlib-1 (h5netcdf)": lambda p: ds.to_netcdf(p, engine="h5netcdf", encoding=comp),
        "netCDF3 64-bit offset (scipy)": lambda p: ds.to_netcdf(p, engine="scipy", format="NETCDF3_64BIT"),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/example_workbook.toml")
    ap.add_argument("--draws", type=int, default=599)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    import lewie
    from lewie.results.dataset import load_results, save_results
    ds = lewie.run(args.scenario, draws=args.draws)
    folder = Path(tempfile.mkdtemp(prefix="lewie-nc-"))
    print(f"{args.scenario}, {args.draws} draws: {len(ds.data_vars)} variables, "
          f"{sum(v.nbytes for v in ds.data_vars.values()) / 1e6:.1f} MB in memory; load {open('/proc/loadavg').read().split()[:3]}")
    print(f"{'format':32s} {'write s':>8s} {'read s':>8s} {'size MB':>8s}  round trip")
    for name, write in candidates(ds).items():
        path = folder / (name.split()[0] + str(abs(hash(name))) + ".nc")
        tw, tr = [], []
        for _ in range(args.reps):
            t = time.perf_counter()
            write(path)
            tw.append(time.perf_counter() - t)
            t = time.perf_counter()
            back = load_results(path)
            tr.append(time.perf_counter() - t)
        same = back.identical(ds) and all(back[v].dtype == ds[v].dtype for v in ds.variables)
        print(f"{name:32s} {np.median(tw):8.3f} {np.median(tr):8.3f} {path.stat().st_size / 1e6:8.2f}  "
              f"{'identical' if same else 'DIFFERS'}")
    path = folder / "lewie.nc"
    tw = []
    for _ in range(args.reps):
        t = time.perf_counter()
        save_results(ds, path)
        tw.append(time.perf_counter() - t)
    print(f"{'save_results (chosen)':32s} {np.median(tw):8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
