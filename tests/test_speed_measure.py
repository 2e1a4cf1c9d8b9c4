"""Speed without changing a number (issue 14 after the merge): the magnitude plan evaluated in blocks
with fewer passes gives the same bits as the plain fixed point; chunk bytes without Dask are the
bytes of ``to_netcdf``; the run path imports neither Dask nor scipy.linalg."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import lewie
from lewie.solvers.tape import compile_model
from lewie.solvers.residuals import ROUNDING, Magnitudes, measure_for

from .conftest import EXAMPLE_SCENARIO


@pytest.fixture(scope="module")
def example():
    return lewie.Simulation(EXAMPLE_SCENARIO).load().validate().calibrate().build()


def _plain_fixed_point(mg: Magnitudes, XT, PT):
    """Test oracle: the magnitude fixed point as first written (every pass over the whole plan,
    ``maximum.at`` for variables with several definitions, every point in one array)."""
    s = mg.system
    V = s.run(s.new_values(XT, PT), mg._plan)
    M = np.empty_like(V)
    with np.errstate(all="ignore"):
        M[mg._leaves] = np.abs(V[mg._leaves])
        own = M[mg._def_vars]
        for _ in range(mg.MAX_PASSES):
            mg._magnitude(V, M)
            rhs = (M[mg._def_nodes] - mg._def_w * M[mg._def_vars]) / mg._def_w
            rhs = np.where(np.isfinite(rhs), np.maximum(rhs, 0.0), 0.0)
            target = M[: s.n].copy()
            np.maximum.at(target, mg._def_vars, np.maximum(own, rhs))
            if np.array_equal(target[mg._def_vars], M[mg._def_vars]):
                break
            M[: s.n] = target
        Mr = M[s.residual_nodes]
        top = np.zeros((mg._n_blocks, Mr.shape[1]))
        np.maximum.at(top, mg._block, np.where(np.isfinite(Mr), Mr, 0.0))
        top = np.maximum(top, ROUNDING * top.max(axis=0, keepdims=True))
        Mr = np.maximum(Mr, ROUNDING * top[mg._block])
    return V[s.residual_nodes], Mr


def _points(system, B, seed):
    rng = np.random.default_rng(seed)
    x, p = system.get_x(), system.get_p()
    XT = x[:, None] * (1 + 0.2 * rng.standard_normal((system.n, B)))
    PT = np.repeat(p[:, None], B, axis=1)
    XT[:, :3] = x[:, None]  # the calibrated base itself
    XT[rng.random(XT.shape) < 0.05] = 0.0  # quantities at 0, a few NaN and negative ones
    XT[rng.random(XT.shape) < 0.01] = np.nan
    XT[rng.random(XT.shape) < 0.02] *= -1
    return XT, PT


def _bits(a):
    return np.ascontiguousarray(a).view(np.int64)


def test_magnitudes_are_the_plain_fixed_point_to_the_bit(example, monkeypatch):
    system = compile_model(example.model)
    mg = measure_for(system)
    XT, PT = _points(system, 70, seed=4)
    F0, M0 = _plain_fixed_point(mg, XT, PT)
    F, M = mg.evaluate_T(XT, PT)
    assert np.array_equal(_bits(F), _bits(F0)) and np.array_equal(_bits(M), _bits(M0))
    # in blocks of 16 points, each with its own number of passes: the same bits
    monkeypatch.setattr(Magnitudes, "BLOCK_BYTES", 1)
    Fb, Mb = mg.evaluate_T(XT, PT)
    assert np.array_equal(_bits(Fb), _bits(F0)) and np.array_equal(_bits(Mb), _bits(M0))
    # a point's magnitudes do not depend on the points evaluated with it
    F1, M1 = mg.evaluate_T(XT[:, 5:6], PT[:, 5:6])
    assert np.array_equal(_bits(M1[:, 0]), _bits(M0[:, 5]))


def test_repeated_passes_only_touch_what_depends_on_definitions(example):
    mg = measure_for(compile_model(example.model))
    every = {int(i) for g in mg._plan for i in np.arange(mg.system.n_nodes)[g.out]}
    again = {int(i) for g in mg._repeat_plan for i in np.arange(mg.system.n_nodes)[g.out]}
    assert again < every
    # a defined variable's own magnitude feeds its definition's equation, which is re-evaluated
    assert set(mg._def_nodes.tolist()) <= again


def test_chunk_bytes_without_dask_are_those_of_to_netcdf(example):
    from lewie.results.dataset import netcdf3_bytes
    ds = lewie.run(EXAMPLE_SCENARIO, draws=3)
    ds = ds[[k for k in ds.data_vars if ds[k].dtype.kind != "O"]]  # the scipy engine's types
    assert netcdf3_bytes(ds) == bytes(ds.to_netcdf(engine="scipy"))


def test_lewie_run_imports_neither_dask_nor_scipy_linalg(tmp_path):
    code = ("import sys, io, contextlib; from lewie.cli.main import main; sys.argv = ['lewie', 'run', sys.argv[1], "
            "'--draws', '3', '--out', sys.argv[2]]\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main()\n"
            "    except SystemExit as e: assert not e.code, e.code\n"
            "print(','.join(m for m in ('dask', 'distributed', 'scipy.linalg', 'scipy.sparse.linalg', 'scipy.stats') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(EXAMPLE_SCENARIO), str(tmp_path / "r.nc")],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert (tmp_path / "r.nc").exists()
    assert out == ""
