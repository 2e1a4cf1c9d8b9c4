"""Hypothesis fuzzing (issue 11): random TOML values anywhere in a scenario, random cells and labels in a
SAM. Every outcome is success or a `LewieError` with a message; never another exception."""
from __future__ import annotations

import json
import math
import tomllib

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lewie.errors import LewieError
from lewie.runs.stages import Simulation
from lewie.sam.check import check_sam
from lewie.sam.io import read_sam
from lewie.config.scenario import load_scenario

from .reliability import EXAMPLE_SAM, scenario_text

BASE = tomllib.loads(scenario_text())


def _toml(v) -> str:
    """A value as TOML (inline tables and arrays)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dump(data: dict) -> str:
    return "\n".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in data.items()) + "\n"


LABELS = ["eligible", "ineligible", "traders", "crops", "retail", "labor", "land", "north", "south", "cash",
          "cash_transfer", "productivity", "in_kind_transfer", "local_procurement", "factor_endowment",
          "labour_supply", "input_budget", "x"]
scalars = st.one_of(
    st.booleans(), st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(LABELS),
    st.text(max_size=8), st.sampled_from([0, 1, -1, 0.0, 1e-300, 1e300, 480.0, "480", "true", ""]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(LABELS + ["amount", "cost", "kind"]), inner,
                                                 max_size=4)), max_leaves=8)


def _paths(data, prefix=()):
    """Every key path of a nested dict/list document."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append(prefix + (i,))
            out.extend(_paths(v, prefix + (i,)))
    return out


PATHS = _paths(BASE) + [("montecarlo",), ("montecarlo", "draws"), ("montecarlo", "seed"), ("variants",),
                        ("interventions", 0, "cost"), ("interventions", 0, "shares"), ("input_budget",),
                        ("labour_supply", "elasticity", "eligible"), ("gams_compat",), ("extra_key",)]


def _set(data, path, value):
    d = data
    for p in path[:-1]:
        if isinstance(d, dict):
            d = d.setdefault(p, {})
        elif isinstance(d, list) and isinstance(p, int) and p < len(d):
            d = d[p]
        else:
            return
        if not isinstance(d, (dict, list)):
            return
    if isinstance(d, dict):
        d[path[-1]] = value
    elif isinstance(d, list) and isinstance(path[-1], int) and path[-1] < len(d):
        d[path[-1]] = value


def _copy(x):
    return json.loads(json.dumps(x))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=3))
def test_random_scenario_values_are_accepted_or_refused_clearly(tmp_path, edits):
    data = _copy(BASE)
    for path, value in edits:
        _set(data, path, value)
    path = tmp_path / "fuzz.toml"
    path.write_text(dump(data), encoding="utf-8", errors="surrogatepass")
    try:
        sc = load_scenario(path)
        if sc.montecarlo.draws <= 5:  # what a run does before solving
            Simulation(sc).load().validate().calibrate()
    except LewieError as exc:
        assert str(exc).strip()


SAM_TEXT = EXAMPLE_SAM.read_text(encoding="utf-8")
SAM_LINES = SAM_TEXT.splitlines()
cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e999", "-0", "1,5", '"1,5"', "1.5.2", "0x10",
                     "1e-320", "1e308", "-1e308", "true", "N/A", "—", "١٢", ";", '"', "\t"]),
    st.text(max_size=6))
labels = st.one_of(st.sampled_from(["hh:eligible", "hh:", "xx:yy", "act:crops", "com:", "out:nowhere", ":",
                                    "", "act:crops:nobody", "fac:labor"]), st.text(max_size=10))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, len(SAM_LINES) - 1), st.integers(0, 40), st.one_of(cells, labels)),
                      min_size=1, max_size=4),
       separator=st.sampled_from([",", ",", ",", ";", "\t"]))
def test_random_sam_cells_are_read_or_refused_clearly(tmp_path, edits, separator):
    rows = [line.split(",") for line in SAM_LINES]
    for r, c, v in edits:
        row = rows[r]
        row[c % len(row)] = v
    text = "\n".join(separator.join(row) for row in rows) + "\n"
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        sam = read_sam(path)
        report = check_sam(sam, file=path)
        assert isinstance(report.format(), str)
        report.raise_if_errors(path)
    except LewieError as exc:
        assert str(exc).strip()


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4), st.none(),
                                 st.booleans()), min_size=9, max_size=9))
def test_check_sam_never_raises_on_a_random_frame(values):
    frame = pd.DataFrame([values[0:3], values[3:6], values[6:9]], index=["hh:a", "com:x", "out:world"],
                         columns=["hh:a", "com:x", "out:world"], dtype=object)
    report = check_sam(frame)
    assert isinstance(report.format(), str)


numbers = st.one_of(st.integers(min_value=-10 ** 6, max_value=10 ** 6),
                    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(elasticity=numbers, amount=numbers, cost=st.one_of(st.none(), numbers), seed=st.integers(-5, 2 ** 40))
def test_random_numbers_in_the_right_places_run_or_are_refused_clearly(tmp_path, elasticity, amount, cost, seed):
    """Plausible files (numbers where numbers go) go on through validation and calibration."""
    data = _copy(BASE)
    data["labour_supply"]["elasticity"] = elasticity
    data["interventions"][0]["amount"] = amount
    if cost is not None:
        data["interventions"][0]["cost"] = cost
    data["montecarlo"] = {"seed": seed}
    path = tmp_path / "fuzz.toml"
    path.write_text(dump(data), encoding="utf-8")
    try:
        Simulation(load_scenario(path)).load().validate().calibrate()
    except LewieError as exc:
        assert str(exc).strip()
