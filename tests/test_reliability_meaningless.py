"""Accepted but meaningless (issue 11): every such input is refused before any work, naming the file,
the key and its line, with exit code 1 and no traceback."""
from __future__ import annotations

import pytest

from lewie.runs.estimate import Estimate, RunTooLarge, check

from .reliability import assert_clean_error, lewie, scenario_text, write

MC = "[montecarlo]\n{}\n[labour_supply]"

CASES = [
    # (id, replacements, field named, words of the message)
    ("negative elasticity", {"elasticity": "elasticity = -5"}, "labour_supply.elasticity", "≥ 0, not -5"),
    ("nan elasticity", {"elasticity": "elasticity = nan"}, "labour_supply.elasticity", "finite number, not nan"),
    ("inf elasticity", {"elasticity": "elasticity = inf"}, "labour_supply.elasticity", "finite number, not inf"),
    ("bool elasticity", {"elasticity": "elasticity = true"}, "labour_supply.elasticity", "not true"),
    ("bool in elasticity table", {"elasticity": "elasticity = {eligible = true, ineligible = 1, traders = 1}"},
     "labour_supply.elasticity.eligible", "not true"),
    ("amount true", {"amount": "amount = true"}, "interventions[0].amount", "not true"),
    ("amount string", {"amount": 'amount = "480"'}, "interventions[0].amount", 'not the text "480"'),
    ("amount nan", {"amount": "amount = nan"}, "interventions[0].amount", "finite number"),
    ("cost inf", {"amount": "amount = 480.0\ncost = inf"}, "interventions[0].cost", "finite number, not inf"),
    ("cost negative", {"amount": "amount = 480.0\ncost = -1"}, "interventions[0].cost", "≥ 0, not -1"),
    ("cost zero", {"amount": "amount = 480.0\ncost = 0"}, "interventions[0].cost", "costs 0"),
    ("amount zero", {"amount": "amount = 0.0"}, "interventions[0].cost", "costs 0"),
    ("seed negative", {"labour": MC.format("seed = -5")}, "montecarlo.seed", "≥ 0, not -5"),
    ("seed float", {"labour": MC.format("seed = 1.5")}, "montecarlo.seed", "whole number, not 1.5"),
    ("draws bool", {"labour": MC.format("draws = true")}, "montecarlo.draws", "not true"),
    ("draws negative", {"labour": MC.format("draws = -3")}, "montecarlo.draws", "≥ 0, not -3"),
    ("input budget share > 1", {"amount": "amount = 480.0\ninput_budget_share = 1.5"},
     "interventions[0].input_budget_share", "≤ 1, not 1.5"),
]


@pytest.mark.parametrize("replace, field, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_meaningless_input_is_refused_naming_file_and_field(tmp_path, capsys, replace, field, words):
    path = write(tmp_path, "bad.toml", scenario_text(**replace))
    rc, out, err = lewie(capsys, "run", path, "--out", tmp_path / "res.nc")
    assert_clean_error(rc, err, names=("bad.toml", f"'{field}'", words))
    assert "(line " in err  # the line of the key
    assert not (tmp_path / "res.nc").exists()


def test_string_for_a_flag_is_refused(tmp_path, capsys):
    text = scenario_text().replace("[villages]", 'gams_compat = "yes"\n\n[villages]')
    path = write(tmp_path, "bad.toml", text)
    rc, _, err = lewie(capsys, "run", path, "--out", tmp_path / "res.nc")
    assert_clean_error(rc, err, names=("bad.toml", "'gams_compat'", "true or false, not the text \"yes\""))


def test_a_sweep_value_that_is_not_finite_is_refused(tmp_path, capsys):
    path = write(tmp_path, "bad.toml", scenario_text(elasticity="elasticity = [0, 1, nan]"))
    rc, _, err = lewie(capsys, "run", path, "--out", tmp_path / "res.nc")
    assert_clean_error(rc, err, names=("bad.toml", "'labour_supply.elasticity'", "finite number, not nan"))


def test_ten_million_draws_are_estimated_and_refused(tmp_path, capsys, monkeypatch):
    """`draws = 10000000`: an estimate of time and memory before anything runs, then a refusal (the
    results would not fit in this machine's memory, set here to 8 GiB so the test does not depend on
    the machine)."""
    import lewie.runs.estimate as E
    monkeypatch.setattr(E, "total_memory", lambda: 8 * 2.0 ** 30)
    path = write(tmp_path, "big.toml", scenario_text(labour=MC.format("draws = 10000000")))
    rc, out, err = lewie(capsys, "run", path, "--out", tmp_path / "res.nc")
    assert_clean_error(rc, err, names=("big.toml", "field 'montecarlo.draws'", "estimate: about", "of memory", "ask for fewer draws"))
    assert not (tmp_path / "res.nc").exists()


def test_long_runs_need_confirmation_and_huge_ones_are_refused():
    long = Estimate(draws=10 ** 7, seconds=5 * 3600.0, peak_bytes=1e9, seconds_per_draw=1.8e-3, bytes_per_draw=50.0)
    with pytest.raises(RunTooLarge, match="--yes"):
        check(long, memory=1e12)
    check(long, yes=True, memory=1e12)  # confirmed
    huge = Estimate(draws=10 ** 9, seconds=10.0, peak_bytes=1e13, seconds_per_draw=1e-8, bytes_per_draw=1e4)
    with pytest.raises(RunTooLarge, match="more than this machine's"):
        check(huge, yes=True, memory=1e12)  # no flag makes it fit
    check(Estimate(draws=10, seconds=1.0, peak_bytes=1e3, seconds_per_draw=0.1, bytes_per_draw=100.0), memory=1e9)


def test_small_runs_start_without_an_estimate(tmp_path):
    from lewie.runs.estimate import announce
    from .reliability import EXAMPLE_SCENARIO
    assert announce(EXAMPLE_SCENARIO, draws=10) is None


def _number_fields():
    """(model, field) of every number in the scenario schema, including fields and intervention kinds
    added later: each must refuse true, "480", nan and inf."""
    import typing
    from pydantic import BaseModel
    from lewie.config import scenario as S
    from lewie.config import settings as ST
    from lewie.config.intervention_kinds import INTERVENTION_KINDS

    def numeric(ann):
        if ann in (float, int):
            return True
        if typing.get_origin(ann) is typing.Annotated:
            return numeric(typing.get_args(ann)[0])
        if typing.get_origin(ann) in (typing.Union, __import__("types").UnionType):
            return any(numeric(a) for a in typing.get_args(ann))
        return False
    out = []
    for model in (S.Scenario, ST.MonteCarloSettings, ST.LabourSupply, ST.InputBudget, ST.Markets, ST.Dashboard,
                  *INTERVENTION_KINDS):
        for name, f in model.model_fields.items():
            if numeric(f.annotation) and not (isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)):
                out.append((model, name))
    return out


@pytest.mark.parametrize("model, name", _number_fields(), ids=lambda x: getattr(x, "__name__", x))
@pytest.mark.parametrize("bad", [True, "480", float("nan"), float("inf")], ids=["true", "string", "nan", "inf"])
def test_every_number_of_the_schema_refuses_coercion_and_non_finite_values(model, name, bad):
    from pydantic import ValidationError
    with pytest.raises(ValidationError) as info:
        model.model_validate({name: bad})
    assert any(e["loc"][:1] == (name,) for e in info.value.errors()), info.value.errors()
