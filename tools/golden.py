"""Record (or check) golden results of every bundled scenario: the point run and 50 Monte Carlo draws.

    python tools/golden.py            # check the current code against tests/golden/*.nc
    python tools/golden.py --update   # record them anew (say why in the commit)

The test suite checks the same files (tests/test_golden.py): a refactoring must leave every number
identical to 1e-12 relative; a deliberate change of results regenerates them with an explanation.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr

from lewie.testing import results_differences

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
DRAWS = 50
SEED = 20261130


def scenarios() -> list[Path]:
    return sorted((ROOT / "scenarios").glob("*.toml"))


def compute(path: Path, draws: int) -> xr.Dataset:
    import lewie
    ds = lewie.run(path, draws=draws, seed=SEED)
    keep = [v for v in ds.data_vars if np.issubdtype(ds[v].dtype, np.number)]
    out = ds[keep]
    out.attrs = {}
    for v in out.data_vars:
        out[v].attrs = {}
    return out.load()


def golden_name(path: Path, draws: int) -> Path:
    return GOLDEN / f"{path.stem}_{'point' if draws == 0 else f'mc{draws}'}.nc"


def differences(new: xr.Dataset, old: xr.Dataset, rtol: float = 1e-12) -> list[str]:
    """How the new results differ from the golden ones (`lewie.testing.results_differences`)."""
    return results_differences(new, old, rtol=rtol)


def main(argv: list[str]) -> int:
    update = "--update" in argv
    GOLDEN.mkdir(parents=True, exist_ok=True)
    bad = 0
    for path in scenarios():
        for draws in (0, DRAWS):
            ds = compute(path, draws)
            target = golden_name(path, draws)
            if update:
                ds.to_netcdf(target, engine="scipy")
                print(f"wrote {target.relative_to(ROOT)}")
            else:
                problems = (differences(ds, xr.load_dataset(target, engine="scipy")) if target.exists()
                            else ["no golden file (a new scenario: record it with --update)"])
                bad += bool(problems)
                print(f"{target.name}: {'OK' if not problems else '; '.join(problems)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
