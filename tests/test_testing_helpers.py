"""`lewie.testing`: the assertions users put in their own tests catch a wrong number and name where it is."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import lewie
from lewie.testing import assert_results_equal, assert_sam_balanced, results_differences, sam_imbalances

from .conftest import REPO as ROOT


@pytest.fixture(scope="module")
def results():
    return lewie.run(ROOT / "scenarios" / "example_village.toml")


def test_results_equal_themselves_and_a_copy(results):
    assert_results_equal(results, results.copy(deep=True))


def test_a_changed_value_is_named_with_its_labels(results):
    changed = results.copy(deep=True)
    changed["income"].loc[{"household": "eligible"}] *= 1 + 1e-9
    with pytest.raises(AssertionError, match=r"income: differs .*household='eligible'"):
        assert_results_equal(changed, results)
    assert_results_equal(changed, results, rtol=1e-8)  # within a looser tolerance


def test_a_missing_variable_and_other_coordinates_are_reported(results):
    assert results_differences(results.drop_vars("income"), results) == ["income: only in expected results"]
    fewer = results.isel(household=slice(0, 1))
    assert any("coordinates differ" in p for p in results_differences(fewer, results, variables=["income"]))


def test_nan_where_the_expected_has_a_number_is_a_difference(results):
    changed = results.copy(deep=True)
    changed["income"].values.flat[0] = np.nan
    assert results_differences(changed, results, variables=["income"])


def test_a_near_zero_change_is_judged_on_its_variable_scale():
    expected = xr.Dataset({"x": ("i", [1e6, 0.0])})
    assert not results_differences(xr.Dataset({"x": ("i", [1e6, 1e-19])}), expected)  # within 1e-12 of 1e-12·max
    assert results_differences(xr.Dataset({"x": ("i", [1e6, 1e-15])}), expected)


def test_sam_balance_is_unit_free():
    from lewie.sam import read_sam
    sam = read_sam(ROOT / "sam" / "data" / "example_village" / "sam.csv")
    for factor in (1e-6, 1.0, 1e6):
        assert_sam_balanced(sam * factor)
    bad = sam.copy()
    bad.iloc[0, 1] += 1e-6 * abs(bad.to_numpy()).max()
    for factor in (1e-6, 1.0, 1e6):
        gaps = sam_imbalances(bad * factor)
        assert list(gaps.index) == list(sam_imbalances(bad).index) and len(gaps) == 2  # the row's and the column's
    with pytest.raises(AssertionError, match=str(bad.index[0])):
        assert_sam_balanced(bad)


def test_a_non_square_table_is_not_a_sam():
    import pandas as pd
    with pytest.raises(AssertionError, match="square"):
        assert_sam_balanced(pd.DataFrame([[1.0, 2.0]], index=["a"], columns=["a", "b"]))


def test_testing_is_a_lazy_attribute_of_the_package():
    assert lewie.testing.assert_results_equal is assert_results_equal
