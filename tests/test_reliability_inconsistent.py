"""Inconsistent checks (issue 11): `sam check` and `lewie run` judge a SAM by one function, CSV dialect
problems are named, and a misspelt label suggests the right one."""
from __future__ import annotations

import pytest

from lewie.sam.io import read_sam, write_sam

from .reliability import EXAMPLE_SAM, assert_clean_error, lewie, scenario_text, write


def _hh_to_hh(tmp_path):
    """The example SAM with a balanced household-to-household payment of 10."""
    s = read_sam(EXAMPLE_SAM)
    s.loc["hh:ineligible", "hh:eligible"] += 10
    s.loc["out:savings", "hh:eligible"] -= 10
    s.loc["out:savings", "hh:ineligible"] += 10
    return write_sam(s, tmp_path / "hh2hh.csv")


def _commodity_to_commodity(tmp_path):
    s = read_sam(EXAMPLE_SAM)
    s.loc["com:retail", "com:services"] += 5
    s.loc["com:retail", "hh:eligible"] -= 5
    s.loc["com:services", "hh:eligible"] += 5
    return write_sam(s, tmp_path / "com2com.csv")


@pytest.mark.parametrize("make, words", [(_hh_to_hh, ("hh:ineligible", "hh:eligible", "household groups")),
                                         (_commodity_to_commodity, ("com:retail", "com:services"))],
                         ids=["household to household", "commodity to commodity"])
def test_sam_check_and_run_agree_on_unsupported_flows(tmp_path, capsys, make, words):
    sam = make(tmp_path)
    rc, out, err = lewie(capsys, "sam", "check", sam)
    assert rc == 1 and "unsupported-flow" in out and "SAM OK" not in out
    for w in words:
        assert w in out
    scen = write(tmp_path, "s.toml", scenario_text().replace(str(EXAMPLE_SAM), str(sam)))
    rc, _, err = lewie(capsys, "run", scen, "--out", tmp_path / "r.nc")
    assert_clean_error(rc, err, names=(sam.name, *words))


def test_calibration_uses_the_same_flow_rule():
    from lewie.sam.check import flow_is_supported, unsupported_flows
    s = read_sam(EXAMPLE_SAM)
    assert unsupported_flows(s) == []
    assert not flow_is_supported("hh:a", "hh:b") and flow_is_supported("com:x", "hh:a")
    s.loc["hh:ineligible", "hh:eligible"] = 10.0
    assert unsupported_flows(s) == [("hh:ineligible", "hh:eligible", 10.0)]


def _semicolon(text):
    return text.replace(",", ";")


def _semicolon_decimal_comma(text):
    return text.replace(",", ";").replace(".", ",")


def _quoted_decimal_comma(text):
    lines = text.splitlines()
    lines[1] = lines[1].replace("2400.0", '"2400,0"')
    return "\n".join(lines) + "\n"


def _tabs(text):
    return text.replace(",", "\t")


@pytest.mark.parametrize("dialect, words", [
    (_semicolon, ("semicolons",)),
    (_semicolon_decimal_comma, ("semicolons", "decimal commas")),
    (_quoted_decimal_comma, ("line 2", "act:crops:eligible", "'2400,0'", "decimal")),
    (_tabs, ("tabs",)),
], ids=["semicolon", "semicolon and decimal comma", "decimal comma", "tab"])
def test_csv_dialect_problems_are_named(tmp_path, capsys, dialect, words):
    sam = write(tmp_path, "sam.csv", dialect(EXAMPLE_SAM.read_text(encoding="utf-8")))
    for args in (["sam", "check", sam],
                 ["run", write(tmp_path, "s.toml", scenario_text().replace(str(EXAMPLE_SAM), str(sam))),
                  "--out", tmp_path / "r.nc"]):
        rc, _, err = lewie(capsys, *args)
        assert_clean_error(rc, err, names=("sam.csv", *words))


def test_a_utf8_bom_is_read(tmp_path, capsys):
    sam = write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + EXAMPLE_SAM.read_bytes())
    rc, out, err = lewie(capsys, "sam", "check", sam)
    assert rc == 0 and "SAM OK" in out, err


@pytest.mark.parametrize("typo, right", [("eligble", "eligible"), ("inelegible", "ineligible"),
                                         ("Traders", "traders"), ("ineligble", "ineligible"),
                                         ("eligibl", "eligible")])
@pytest.mark.parametrize("where", ["interventions", "villages", "shares"])
def test_a_misspelt_household_suggests_the_right_group(tmp_path, capsys, typo, right, where):
    text = scenario_text()
    if where == "interventions":
        text = text.replace('households = ["eligible"]', f'households = ["{typo}"]')
    elif where == "villages":
        h = "traders" if right == "traders" else right
        text = text.replace(f'"{h}"', f'"{typo}"', 1)
    else:
        text = text.replace('households = ["eligible"]', 'households = ["eligible"]\n'
                            f'shares = {{{typo} = 1}}')
    path = write(tmp_path, "typo.toml", text)
    rc, _, err = lewie(capsys, "run", path, "--out", tmp_path / "r.nc")
    assert_clean_error(rc, err, names=("typo.toml", typo))
    if where != "shares" or right == "eligible":
        assert f"did you mean '{right}'" in err, err


def _one_edit(word):
    letters = "abcdefghijklmnopqrstuvwxyz_"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters} | {a + c + b for a, b in splits for c in letters})


def test_suggestions_are_never_farther_than_the_group_misspelt():
    """Every household of every bundled SAM, misspelt by one keystroke: the suggestion is that group, or
    one exactly as close (e.g. 'neligible' is one edit from 'eligible' and from 'ineligible')."""
    import re
    from lewie.errors import _edit_distance, did_you_mean
    from lewie.model.sets import sam_sets
    from .reliability import REPO
    for sam_file in sorted((REPO / "sam" / "data").glob("*/sam.csv")):
        households = sam_sets(read_sam(sam_file))["households"]
        for h in households:
            for typo in _one_edit(h) - set(households):
                m = re.search(r"did you mean '([^']+)'", did_you_mean(typo, households))
                assert m is not None, (sam_file.parent.name, h, typo)
                assert _edit_distance(typo, m.group(1)) <= _edit_distance(typo, h), (sam_file.parent.name, h, typo,
                                                                                     m.group(1))
