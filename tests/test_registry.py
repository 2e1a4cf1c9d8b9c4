"""One registry (lewie.model.registry) of every variable and parameter: the model's declarations, the
results metadata, the dims of exports and comparisons, the GAMS names and docs/registry.md come from it."""
from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
import pytest

import lewie
from lewie.model import registry
from lewie.model.calibration import GAMS_NAMES
from lewie.model.declaration import PARAMETERS, VARIABLES
from lewie.results.dataset import OUTPUTS

REPO = Path(__file__).resolve().parents[1]
LEAD = ("variant", "draw", "state")


@pytest.fixture(scope="module")
def results():
    return {"point": lewie.run(REPO / "scenarios" / "example_village.toml"),
            "draws": lewie.run(REPO / "scenarios" / "example_workbook.toml", draws=3)}


@pytest.mark.parametrize("kind", ["point", "draws"])
def test_every_results_variable_has_a_registry_entry_and_vice_versa(results, kind):
    ds = results[kind]
    assert set(ds.data_vars) == set(registry.RESULTS)
    for name, da in ds.data_vars.items():
        e = registry.RESULTS[name]
        assert tuple(d for d in da.dims if d not in LEAD) == tuple(d for d in e.dims if d not in LEAD), name
        assert da.attrs["long_name"] == e.long_name, name
        assert da.attrs.get("units", "") == e.units, name
        assert set(da.dims) <= set(registry.RESULT_DIMS), name


def test_the_model_is_declared_from_the_registry():
    sim = lewie.Simulation(REPO / "scenarios" / "example_village.toml").load().validate().calibrate().build()
    m = sim.model
    variables = {v.name for v in m.component_objects(pyo.Var)}
    params = {p.name for p in m.component_objects(pyo.Param) if p.mutable}
    assert variables == set(registry.VARIABLES) and params == set(registry.PARAMETERS)
    for name, e in {**registry.VARIABLES, **registry.PARAMETERS}.items():
        comp = m.find_component(name)
        assert comp.doc == f"{e.long_name} [{e.gams}]", name
        if e.index is not None:
            assert comp.index_set().name == e.index, name
            dimen = comp.index_set().dimen  # (unknown for an empty set)
            assert not isinstance(dimen, int) or len(e.model_dims) == dimen, name
    assert VARIABLES == {n: (e.long_name, e.units, e.gams) for n, e in registry.VARIABLES.items()}
    assert PARAMETERS == {n: e.index for n, e in registry.PARAMETERS.items()}
    assert {o: c for o, (c, *_) in OUTPUTS.items()} == {e.output: e.name for e in registry.ENTRIES if e.output}


def test_gams_names_come_from_the_registry_and_agree_with_the_workbook_maps():
    assert GAMS_NAMES == {n: e.gams for n, e in registry.PARAMETERS.items()}
    assert registry.from_gams("FSHARE") == "factor_share" and registry.from_gams("QP") == "production"
    assert registry.from_gams("transfout") == registry.from_gams("troutsh") == "transfer_rate"
    assert registry.from_gams("nonsense") is None
    # the maps of the workbook import, of supplied draws and of the workbook's variable names are derived
    # from the registry: each is what the registry says, and the registry says what GAMS reads
    from lewie.runs.sampling import GAMS_NAMES as DRAW_NAMES, VARIED
    from lewie.sam.workbook import GAMS_PARAMETER, TABLE_PARAMETERS
    from lewie.sam.workbook_names import NAMES
    assert GAMS_PARAMETER == {p: registry.workbook_names()[p] for p in TABLE_PARAMETERS}
    assert GAMS_PARAMETER == {"factor_share": "fshare", "budget_share": "eshare", "savings_rate": "savsh",
                              "transfer_rate": "transfout", "outside_rate": "EXPROLES", "input_share": "idsh"}
    assert DRAW_NAMES == {n: p for p in VARIED for n in registry.gams_spellings(p)}
    assert {k: registry.from_gams(k) for k in DRAW_NAMES} == DRAW_NAMES
    assert set(DRAW_NAMES) == {"fshare", "eshare", "savsh", "troutsh", "transfout", "exprocsh", "exproles"}
    for p, wb in registry.workbook_names().items():
        assert NAMES[p][0] == wb, p  # the name the workbook calibration reads is the registry's
    # emin: the workbook variable GAMS reads into the minimum consumption (and its calibration sets to 0)
    assert registry.workbook_names()["min_consumption"] == "emin" and registry.from_gams("EMIN") == "min_consumption"
    assert registry.gams_spellings("transfer_rate") == ("troutsh", "transfout")


def test_docs_are_generated_from_the_registry():
    assert (REPO / "docs" / "registry.md").read_text(encoding="utf-8") == registry.markdown(), \
        "docs/registry.md is stale: python -m lewie.model.registry > docs/registry.md"
    for e in registry.ENTRIES:
        assert f"`{e.name}`" in registry.markdown()


def test_gams_draw_dumps_are_read_by_the_registry_names_and_sets():
    from lewie.model.registry import gams_label_sets
    from lewie.results.gams import GAMS_PARAMETERS
    assert GAMS_PARAMETERS == {"fshare": ("factor_share", ("g", "", "f", "h")),
                               "eshare": ("budget_share", ("g", "", "", "h")),
                               "savsh": ("savings_rate", ("", "", "", "h")),
                               "troutsh": ("transfer_rate", ("", "", "", "h")),
                               "exprocsh": ("outside_rate", ("", "", "", "h"))}
    assert gams_label_sets("input_share") == ("g", "gg", "", "h")
