"""Variants: named sets of interventions solved side by side, and the synergy of combined ones."""
import numpy as np
import pytest
import xarray as xr

import lewie
from lewie.results import analysis as A
from lewie.errors import InputError
from lewie.results.dataset import load_results, save_results
from lewie.config.scenario import scenario_from_dict

from .conftest import example_dict, write_scenario
from .test_interventions import WORLD, world_economy

CASH = {"name": "cash", "kind": "cash_transfer", "households": ["eligible"], "amount": 480.0}
GOATS = {"name": "goats", "kind": "factor_endowment", "activity": "livestock", "factor": "capital",
         "households": ["eligible"], "amount": 50.0}
SHOP = {"name": "shop", "kind": "productivity", "activity": "retail", "households": ["traders"],
        "change": 0.05, "cost": 100.0}
VARIANTS = {"cash": ["cash"], "goats": ["goats"], "shop": ["shop"], "cash+goats": ["cash", "goats"],
            "everything": ["cash", "goats", "shop"]}
STATE_VARS = ("income", "real_income", "production", "consumption", "price", "wage", "factor_demand")


@pytest.fixture(scope="module")
def ds():
    return lewie.run(scenario_from_dict(example_dict(interventions=[CASH, GOATS, SHOP], variants=VARIANTS)))


def test_variants_are_a_dim_in_file_order_with_their_costs_and_beneficiaries(ds):
    assert list(ds["variant"].values) == list(VARIANTS)
    assert list(ds["intervention"].values) == ["cash", "goats", "shop"]
    assert ds["income"].dims == ("variant", "draw", "state", "household")
    assert ds["cost"].sel(variant=["cash", "goats", "shop", "cash+goats", "everything"]).values.tolist() \
        == [480.0, 50.0, 100.0, 530.0, 630.0]
    assert ds["includes"].sel(variant="cash+goats").values.tolist() == [True, True, False]
    assert ds["beneficiary"].sel(variant="shop").values.tolist() == [False, False, True]
    assert ds["beneficiary"].sel(variant="everything").values.tolist() == [True, False, True]
    # the base is the same for every variant
    base = ds["income"].sel(state="base")
    assert bool((base == base.isel(variant=0)).all())
    assert A.income_multiplier(ds).dims == ("variant", "draw")


def test_applying_interventions_together_equals_the_combined_variant(ds):
    together = lewie.run(scenario_from_dict(example_dict(interventions=[CASH, GOATS]))).sel(variant="all")
    combined = ds.sel(variant="cash+goats")
    for var in STATE_VARS:
        np.testing.assert_allclose(A.change(together, var).values, A.change(combined, var).values,
                                   rtol=1e-9, atol=1e-9, err_msg=var)
    assert float(together["cost"]) == float(combined["cost"])


def test_a_variant_does_not_depend_on_which_variants_ran_before_it():
    sc = scenario_from_dict(example_dict(interventions=[CASH, GOATS, SHOP], variants=VARIANTS))
    sim = lewie.Simulation(sc).load().validate().calibrate().build()
    sim.solve(["everything", "shop", "cash"])
    alone = lewie.Simulation(sc).load().validate().calibrate().build().solve(["cash"])
    for name, values in alone.solutions["cash"].items():
        if isinstance(values, dict):
            for k, v in values.items():
                assert sim.solutions["cash"][name][k] == pytest.approx(v, rel=1e-10, abs=1e-10), (name, k)


def test_synergy_is_the_combination_minus_the_sum_of_its_parts(ds):
    parts = A.combinations_of(ds)
    assert parts == {"cash+goats": ("cash", "goats"), "everything": ("shop", "cash+goats")}
    syn = A.synergy(ds)
    assert list(syn["variant"].values) == ["cash+goats", "everything"]
    assert list(syn["parts"].values) == ["cash + goats", "shop + cash+goats"]
    d = A.change(ds, "income")
    by_hand = d.sel(variant="cash+goats") - d.sel(variant="cash") - d.sel(variant="goats")
    np.testing.assert_allclose(syn.sel(variant="cash+goats").values, by_hand.values, rtol=0, atol=1e-12)
    real = A.synergy(ds, real=True, by="total").sel(draw=0)
    dr = A.change(ds, "real_income").sum("household").sel(draw=0)
    expected = dr.sel(variant="everything") - dr.sel(variant="shop") - dr.sel(variant="cash+goats")
    assert float(real.sel(variant="everything")) == pytest.approx(float(expected), abs=1e-9)
    # local prices respond to both programmes, so the effects do not simply add up
    assert float(abs(syn.sel(variant="cash+goats")).max()) > 1e-6


def test_synergy_of_programmes_that_do_not_interact_is_zero(tmp_path):
    """With every price fixed outside, cash transfers to two groups do not interact."""
    sc = write_scenario(tmp_path, world_economy(), **WORLD,
                        interventions=[{"name": "a", "kind": "cash_transfer", "households": ["owner"], "amount": 5.0},
                                       {"name": "b", "kind": "cash_transfer", "households": ["other"], "amount": 7.0}],
                        variants={"a": ["a"], "b": ["b"], "a+b": ["a", "b"]})
    ds = lewie.run(sc)
    assert float(abs(A.synergy(ds)).max()) <= 1e-10
    assert float(abs(A.synergy(ds, real=True, by="total")).max()) <= 1e-10


def test_no_combined_variant_gives_an_empty_synergy(tmp_path):
    sc = write_scenario(tmp_path, world_economy(), **WORLD,
                        interventions=[{"kind": "cash_transfer", "households": ["owner"], "amount": 5.0}])
    ds = lewie.run(sc)
    assert list(ds["variant"].values) == ["all"]
    assert A.synergy(ds).sizes["variant"] == 0


def test_unnamed_interventions_are_called_by_their_kind():
    sc = scenario_from_dict(example_dict(interventions=[
        {"kind": "cash_transfer", "households": ["eligible"], "amount": 1.0},
        {"kind": "cash_transfer", "households": ["traders"], "amount": 1.0}, SHOP]))
    assert sc.intervention_names() == ["cash_transfer_1", "cash_transfer_2", "shop"]
    assert sc.variant_map() == {"all": [0, 1, 2]}


def test_a_variant_listing_an_undefined_intervention_is_an_error():
    with pytest.raises(InputError, match=r"'variants\.cash\+goats\[1\]': unknown intervention 'gaots' "
                                         r"\(did you mean 'goats'\?\)"):
        scenario_from_dict(example_dict(interventions=[CASH, GOATS], variants={"cash+goats": ["cash", "gaots"]}))


def test_variants_round_trip_through_netcdf(ds, tmp_path):
    path = save_results(ds, tmp_path / "variants.nc")
    back = load_results(path)
    xr.testing.assert_identical(back, ds)
    assert back["beneficiary"].dtype == bool
    for v in ds.attrs.values():
        assert isinstance(v, (str, int, float))


def test_summary_reports_each_variant_and_the_synergy(ds):
    from lewie.report.text_summary import summary
    text = summary(ds)
    for v in VARIANTS:
        assert f"== variant '{v}'" in text
    assert "Variants side by side" in text
    assert "Synergy of 'cash+goats' (its income change minus that of cash + goats)" in text
