"""Golden results: every bundled scenario, point run and 50 draws, against tests/golden (tools/golden.py).

A change that is meant to change results regenerates them (`python tools/golden.py --update`) and says
why in its commit; any other change must leave every number identical to 1e-12 relative.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("golden_tool", ROOT / "tools" / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

CASES = [pytest.param(p, d, id=f"{p.stem}-{d}",
                       marks=() if p.stem.startswith("example_") else pytest.mark.slow)  # country data: slow
         for p in golden.scenarios() for d in (0, golden.DRAWS)]


@pytest.mark.parametrize("path,draws", CASES)
def test_results_equal_golden(path, draws):
    target = golden.golden_name(path, draws)
    assert target.exists(), f"no golden results for {path.name}: run tools/golden.py --update"
    problems = golden.differences(golden.compute(path, draws), xr.load_dataset(target, engine="scipy"))
    assert not problems, "; ".join(problems)


def test_differences_catch_a_change():
    path = ROOT / "scenarios" / "example_village.toml"
    old = xr.load_dataset(golden.golden_name(path, 0), engine="scipy")
    new = old.copy(deep=True)
    var = next(v for v in new.data_vars if new[v].dtype.kind == "f" and new[v].size)
    new[var].values.flat[0] = new[var].values.flat[0] * (1 + 1e-9) + 1e-9
    assert golden.differences(new, old)
    assert not golden.differences(old, old)
