"""Numbers you can trust at any scale (issue 11): the example economy and its transfer scaled by
1e-12 … 1e12 give the same multipliers (nominal and real) to 1e-9, or a clear refusal where double
precision cannot carry the magnitudes (the refusals are in test_reliability_silently_wrong.py).

The smallest scales fail today because the native solver's stopping rule is absolute (it stops once
residuals are below a fixed size, which a SAM in units of 1e-12 meets at once): a unit-free residual
is being built for issue 13 (lewie/runs/verify.py and the solvers' stopping rules)."""
from __future__ import annotations

import numpy as np
import pytest

from lewie.results import analysis as A
from lewie import run
from lewie.sam.io import read_sam, write_sam

from .reliability import EXAMPLE_SAM, EXAMPLE_TEXT



def _multipliers(ds) -> np.ndarray:
    return np.concatenate([np.ravel(A.income_multiplier(ds).values),
                           np.ravel(A.income_multiplier(ds, real=True).values)])


@pytest.fixture(scope="module")
def unscaled():
    from .reliability import EXAMPLE_SCENARIO
    return _multipliers(run(EXAMPLE_SCENARIO))


@pytest.mark.parametrize("exponent", [-12, -9,
                                      -6, -3, 3, 6, 9, 12])
def test_scaled_economy_gives_the_same_multipliers(tmp_path, unscaled, exponent):
    k = 10.0 ** exponent
    write_sam(read_sam(EXAMPLE_SAM) * k, tmp_path / "sam.csv")
    text = EXAMPLE_TEXT.replace('sam = "../sam/data/example_village/sam.csv"', 'sam = "sam.csv"')
    assert "amount = 480.0" in text
    (tmp_path / "s.toml").write_text(text.replace("amount = 480.0", f"amount = {480.0 * k!r}"), encoding="utf-8")
    got = _multipliers(run(tmp_path / "s.toml"))
    np.testing.assert_allclose(got, unscaled, rtol=1e-9, atol=0)
