"""Bad input gives one clear error naming the file, the field and the label."""
import pytest

import lewie
from lewie.errors import CalibrationError, InputError, SAMError
from lewie.sam.io import read_sam, write_sam
from lewie.config.scenario import load_scenario, scenario_from_dict

from .conftest import EXAMPLE_SAM, example_dict


def run_dict(data):
    return lewie.run(scenario_from_dict(data))


def test_sam_not_square(tmp_path):
    sam = read_sam(EXAMPLE_SAM).drop(columns=["out:spending"])
    path = tmp_path / "sam.csv"
    sam.to_csv(path)
    with pytest.raises(SAMError, match=r"sam\.csv.*not square"):
        read_sam(path)


def test_unbalanced_account_names_the_worst_accounts_and_amounts(tmp_path):
    sam = read_sam(EXAMPLE_SAM)
    sam.at["com:crops", "hh:eligible"] += 250.0
    sam.at["com:retail", "hh:traders"] += 10.0
    path = write_sam(sam, tmp_path / "sam.csv")
    with pytest.raises(SAMError) as err:
        run_dict(example_dict(sam=str(path)))
    msg = str(err.value)
    assert "sam.csv" in msg and "hh:eligible" in msg and "250" in msg
    assert msg.index("hh:eligible") < msg.index("hh:traders")  # worst first


def test_negative_flow_where_none_is_allowed(tmp_path):
    sam = read_sam(EXAMPLE_SAM)
    sam.at["fac:labor", "act:crops:eligible"] *= -1
    path = write_sam(sam, tmp_path / "sam.csv")
    with pytest.raises(SAMError, match=r"negative.*fac:labor.*act:crops:eligible"):
        run_dict(example_dict(sam=str(path)))


def test_missing_sam_file(tmp_path):
    with pytest.raises(SAMError, match=r"nowhere\.csv.*not found"):
        run_dict(example_dict(sam=str(tmp_path / "nowhere.csv")))


def test_missing_scenario_file(tmp_path):
    with pytest.raises(InputError, match=r"absent\.toml.*not found"):
        load_scenario(tmp_path / "absent.toml")


def test_unknown_household_in_intervention_suggests_the_closest():
    data = example_dict()
    data["interventions"][0]["households"] = ["eligble"]
    with pytest.raises(InputError, match=r"interventions\[0\]\.households\[0\].*unknown household 'eligble' "
                                         r"\(did you mean 'eligible'\?\)"):
        run_dict(data)


def test_unknown_good_in_markets_suggests_the_closest():
    data = example_dict(markets={"village": ["retial", "services", "labor"], "zone": [],
                                 "world": ["crops", "livestock", "outside", "inputs"]})
    with pytest.raises(InputError, match=r"markets\.village\[0\].*'retial' \(did you mean 'retail'\?\)"):
        run_dict(data)


def test_closure_leaving_a_market_without_a_price_says_which():
    data = example_dict(markets={"village": ["services", "labor"], "zone": [],
                                 "world": ["crops", "livestock", "outside", "inputs"]})
    with pytest.raises(InputError, match=r"no market level for good\(s\) \['retail'\]"):
        run_dict(data)


def test_good_in_two_market_levels():
    data = example_dict(markets={"village": ["retail", "services", "labor"], "zone": ["retail"],
                                 "world": ["crops", "livestock", "outside", "inputs"]})
    with pytest.raises(InputError, match=r"'retail' is assigned to two market levels"):
        run_dict(data)


def test_household_in_no_village():
    with pytest.raises(InputError, match=r"\['traders'\] are in no village"):
        run_dict(example_dict(villages={"north": ["eligible", "ineligible"]}))


def test_unknown_key_in_scenario_file_names_line_and_suggestion(tmp_path):
    text = (EXAMPLE_SAM.parents[3] / "scenarios" / "example_village.toml").read_text()
    text = text.replace("[labour_supply]\nelasticity", "[labour_supply]\nelastcity")
    text = text.replace('"../sam/', '"' + str(EXAMPLE_SAM.parents[2]) + "/")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=r"bad\.toml.*unknown key 'labour_supply\.elastcity' \(line \d+\) "
                                         r"\(did you mean 'elasticity'\?\)"):
        load_scenario(path)


def test_unknown_intervention_kind(tmp_path):
    data = example_dict()
    data["interventions"][0]["kind"] = "cash_tranfer"
    with pytest.raises(InputError, match=r"unknown intervention kind 'cash_tranfer' \(did you mean 'cash_transfer'\?\)"):
        scenario_from_dict(data)


def test_negative_amount_rejected():
    data = example_dict()
    data["interventions"][0]["amount"] = -5
    with pytest.raises(InputError, match=r"interventions\[0\]\.amount.*must be ≥ 0, not -5"):
        scenario_from_dict(data)


def test_fixed_factor_rent_paid_to_another_household(tmp_path):
    sam = read_sam(EXAMPLE_SAM)
    sam.at["hh:eligible", "fac:land"] -= 10
    sam.at["hh:ineligible", "fac:land"] += 10
    sam.at["hh:eligible", "out:world"] += 10  # keep every account balanced
    sam.at["hh:ineligible", "out:world"] -= 10
    path = write_sam(sam, tmp_path / "sam.csv")
    with pytest.raises(CalibrationError, match=r"fixed factor 'land'.*'hh:eligible' should receive"):
        run_dict(example_dict(sam=str(path)))
