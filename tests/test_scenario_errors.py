"""Bad scenario files: each gives one clear error naming the file, the key, its line and the closest
valid label."""
import re

import pytest

import lewie
from lewie.errors import InputError
from lewie.config.scenario import load_scenario

from .conftest import EXAMPLE_SAM

GOOD = f"""\
name = "errors"
sam = "{EXAMPLE_SAM}"

[villages]
north = ["eligible", "ineligible"]
south = ["traders"]

[markets]
village = ["retail", "services", "labor"]
zone = []
world = ["crops", "livestock", "outside", "inputs"]

[labour_supply]
elasticity = 100

[montecarlo]
draws = 0
seed = 1

[[interventions]]
name = "cash"
kind = "cash_transfer"
households = ["eligible"]
amount = 480.0

[[interventions]]
name = "goats"
kind = "factor_endowment"
activity = "livestock"
factor = "capital"
households = ["eligible"]
amount = 50.0

[variants]
cash = ["cash"]
"cash+goats" = ["cash", "goats"]
"""


def write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text, fragment, after=None):
    """1-based line of the first line containing ``fragment`` (after the line containing ``after``)."""
    lines = text.splitlines()
    start = next(n for n, l in enumerate(lines) if after in l) if after else 0
    return next(n for n, l in enumerate(lines) if n >= start and fragment in l) + 1


def error_of(tmp_path, text, *, run=False) -> str:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        sc = load_scenario(path)
        if run:
            lewie.run(sc)
    msg = str(err.value)
    assert msg.startswith(str(path)), msg  # names the file
    assert "\n" not in msg  # one clear line
    return msg


def test_the_good_file_runs(tmp_path):
    ds = lewie.run(write(tmp_path, GOOD, "good.toml"))
    assert list(ds["variant"].values) == ["cash", "cash+goats"]


def test_unknown_intervention_kind(tmp_path):
    text = GOOD.replace('kind = "cash_transfer"', 'kind = "cash_tranfer"')
    msg = error_of(tmp_path, text)
    n = line_of(text, "cash_tranfer")
    assert f"'interventions[0].kind' (intervention 'cash', line {n}): unknown intervention kind 'cash_tranfer' " \
           "(did you mean 'cash_transfer'?)" in msg


def test_unknown_household_in_an_intervention(tmp_path):
    text = GOOD.replace('households = ["eligible"]\namount = 480.0', 'households = ["eligble"]\namount = 480.0')
    msg = error_of(tmp_path, text, run=True)
    n = line_of(text, "eligble")
    assert f"'interventions[0].households[0]' (intervention 'cash', line {n}): unknown household 'eligble' " \
           "(did you mean 'eligible'?)" in msg


def test_unknown_good_in_an_intervention(tmp_path):
    text = GOOD + '\n[[interventions]]\nname = "food"\nkind = "in_kind_transfer"\ngood = "crosp"\n' \
                  'households = ["eligible"]\namount = 10.0\n'
    msg = error_of(tmp_path, text, run=True)
    n = line_of(text, "crosp")
    assert f"'interventions[2].good' (intervention 'food', line {n}): unknown good 'crosp' (did you mean 'crops'?)" in msg


def test_unknown_factor_in_an_intervention(tmp_path):
    text = GOOD.replace('factor = "capital"', 'factor = "captal"')
    msg = error_of(tmp_path, text, run=True)
    n = line_of(text, "captal")
    assert f"'interventions[1].factor' (intervention 'goats', line {n}): unknown factor 'captal' " \
           "(did you mean 'capital'?)" in msg


def test_unknown_key_in_an_intervention(tmp_path):
    text = GOOD.replace("amount = 480.0", "amout = 480.0")
    msg = error_of(tmp_path, text)
    n = line_of(text, "amout")
    assert f"unknown key 'interventions[0].amout' (intervention 'cash', line {n}) (did you mean 'amount'?)" in msg


def test_negative_amount_where_not_allowed(tmp_path):
    text = GOOD.replace("amount = 480.0", "amount = -480.0")
    msg = error_of(tmp_path, text)
    n = line_of(text, "-480")
    assert f"'interventions[0].amount' (intervention 'cash', line {n}): must be ≥ 0, not -480" in msg


def test_negative_factor_endowment_is_allowed_but_not_below_zero(tmp_path):
    load_scenario(write(tmp_path, GOOD.replace("amount = 50.0", "amount = -5.0\ncost = 1.0"), "ok.toml"))
    text = GOOD.replace("amount = 50.0", "amount = -1000.0\ncost = 1.0")
    msg = error_of(tmp_path, text, run=True)
    n = line_of(text, "-1000")
    assert f"'interventions[1].amount' (intervention 'goats', line {n}): activity 'livestock' of household " \
           "'eligible' would be left with -784 units of fixed factor 'capital' (base 216)" in msg


def test_good_assigned_to_two_market_levels(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("zone = []", 'zone = ["retail"]'), run=True)
    assert "markets.zone" in msg and "'retail' is assigned to two market levels: 'village' and 'zone'" in msg


def test_good_assigned_to_no_market_level(tmp_path):
    msg = error_of(tmp_path, GOOD.replace('village = ["retail", "services", "labor"]',
                                          'village = ["services", "labor"]'), run=True)
    assert "markets" in msg and "no market level for good(s) ['retail']" in msg


def test_household_in_no_village(tmp_path):
    msg = error_of(tmp_path, GOOD.replace('south = ["traders"]\n', ""), run=True)
    assert "villages" in msg and "['traders'] are in no village" in msg


def test_workbook_and_sam_both_given(tmp_path):
    text = GOOD.replace('name = "errors"', 'name = "errors"\nworkbook = "book.xlsx"')
    msg = error_of(tmp_path, text)
    assert f"'workbook' (line {line_of(text, 'workbook =')}): give the economy as a SAM" in msg and "not both" in msg


def test_no_economy_given(tmp_path):
    text = "\n".join(l for l in GOOD.splitlines() if not l.startswith("sam ="))
    msg = error_of(tmp_path, text)
    assert "'sam': no economy: give 'sam'" in msg


def test_productivity_without_cost_names_the_intervention(tmp_path):
    text = GOOD + '\n[[interventions]]\nname = "shop"\nkind = "productivity"\nactivity = "retail"\n' \
                  'households = ["traders"]\nchange = 0.05\n'
    msg = error_of(tmp_path, text)
    n = line_of(text, "[[interventions]]", after='name = "goats"')
    assert f"missing key 'interventions[2].cost' (intervention 'shop', line {n}): a productivity intervention " \
           "transfers no value, so its cost" in msg


def test_amount_and_amount_per_household_both_given(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("amount = 480.0", "amount = 480.0\namount_per_household = 2.0"))
    assert "'interventions[0]' (intervention 'cash', line" in msg
    assert "give exactly one of 'amount' (a total) and 'amount_per_household'" in msg


def test_amount_for_several_groups_needs_shares(tmp_path):
    msg = error_of(tmp_path, GOOD.replace('households = ["eligible"]\namount = 480.0',
                                          'households = ["eligible", "traders"]\namount = 480.0'))
    assert "needs 'shares'" in msg


def test_amount_per_household_needs_household_counts(tmp_path):
    text = GOOD.replace("amount = 480.0", "amount_per_household = 2.0")
    msg = error_of(tmp_path, text, run=True)
    assert f"'interventions[0].amount_per_household' (intervention 'cash', line {line_of(text, 'amount_per_household')}): " \
           "amount_per_household needs the number of households of group(s) ['eligible']" in msg


def test_variant_listing_an_undefined_intervention(tmp_path):
    text = GOOD.replace('"cash+goats" = ["cash", "goats"]', '"cash+goats" = ["cash", "gaots"]')
    msg = error_of(tmp_path, text)
    n = line_of(text, '"cash+goats" =')
    assert f"'variants.cash+goats[1]' (line {n}): unknown intervention 'gaots' (did you mean 'goats'?)" in msg


def test_intervention_names_are_unique_and_required_with_variants(tmp_path):
    msg = error_of(tmp_path, GOOD.replace('name = "goats"', 'name = "cash"'))
    assert "'interventions[1].name'" in msg and "intervention name 'cash' is used twice" in msg
    msg = error_of(tmp_path, GOOD.replace('name = "goats"\n', ""))
    assert re.search(r"'interventions\[1\]' \(line \d+\): this factor_endowment intervention has no 'name'", msg)


def test_productivity_for_a_group_that_does_not_run_the_activity(tmp_path):
    text = GOOD + '\n[[interventions]]\nname = "shop"\nkind = "productivity"\nactivity = "crops"\n' \
                  'households = ["traders"]\nchange = 0.05\ncost = 1.0\n'
    msg = error_of(tmp_path, text, run=True)
    assert "'interventions[2].households[0]'" in msg and "household 'traders' does not run activity 'crops'" in msg


def test_montecarlo_draws_must_not_be_negative(tmp_path):
    text = GOOD.replace("draws = 0", "draws = -1")
    msg = error_of(tmp_path, text)
    assert f"'montecarlo.draws' (line {line_of(text, 'draws =')}): must be ≥ 0, not -1" in msg
