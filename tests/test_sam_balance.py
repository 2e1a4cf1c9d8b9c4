"""Tests of lewie.sam.balance: RAS (GRAS) and cross-entropy balancing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lewie.errors import SAMError
from lewie.sam import BalanceResult, check_sam, cross_entropy, ras, read_sam

EXAMPLE = Path(__file__).parent.parent / "sam" / "data" / "example_village" / "sam.csv"
METHODS = {"ras": ras, "cross-entropy": cross_entropy}
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return read_sam(EXAMPLE)


def _example() -> pd.DataFrame:
    return read_sam(EXAMPLE)


# --------------------------------------------------------------------------------------------
# random SAMs with a valid lewie account structure
# --------------------------------------------------------------------------------------------

def random_sam(seed: int, n_goods: int, n_hh: int, n_fac: int, negatives: bool) -> pd.DataFrame:
    """A balanced SAM built as a sum of payment circuits that respect lewie's structure.

    Money flows column -> row; every circuit adds the same amount to the row and the column
    total of each account on it, so the sum is balanced.  With ``negatives`` some circuits
    run through negative cells of the out:world row or column (net trade, net factor income).
    """
    rng = np.random.default_rng(seed)
    goods = [f"g{i}" for i in range(n_goods)]
    hhs = [f"h{i}" for i in range(n_hh)]
    facs = [f"f{i}" for i in range(n_fac)]
    acts = [f"act:{g}:{h}" for g in goods for h in hhs if rng.random() < 0.7 or h == hhs[0]]
    labels = (acts + [f"com:{g}" for g in goods] + ["com:outside"] + [f"fac:{f}" for f in facs]
              + [f"hh:{h}" for h in hhs] + ["out:world", "out:savings", "out:transfers", "out:spending"])
    ix = {lab: i for i, lab in enumerate(labels)}
    x = np.zeros((len(labels), len(labels)))
    pick = lambda seq: seq[rng.integers(len(seq))]  # noqa: E731

    def circuit(*path: str, sign_at: int | None = None) -> None:
        """Add a circuit path[0] -> path[1] -> ... -> path[0] (payer -> payee)."""
        v = rng.uniform(1, 100)
        for k, payer in enumerate(path):
            payee = path[(k + 1) % len(path)]
            if k == sign_at:  # the same flow written as a negative cell the other way round
                x[ix[payer], ix[payee]] -= v
            else:
                x[ix[payee], ix[payer]] += v

    def act_good(a: str) -> str:
        return "com:" + a.split(":")[1]

    for a in acts:  # every activity pays every factor, every factor pays households
        for f in facs:
            h = pick(hhs)
            circuit(f"hh:{h}", act_good(a), a, f"fac:{f}")
        circuit("out:world", act_good(a), a, "com:outside")  # exports pay imported inputs
    for h in hhs:
        circuit(f"hh:{h}", "com:outside", "out:world")  # imports, remittances
        for leak in ("out:savings", "out:transfers", "out:spending"):
            circuit(f"hh:{h}", leak, "out:world")
        for g in goods:  # consumption
            a = pick([a for a in acts if act_good(a) == f"com:{g}"])
            circuit(f"hh:{h}", f"com:{g}", a, f"fac:{pick(facs)}")
    for _ in range(len(acts)):  # intermediate purchases
        a, b = pick(acts), pick(acts)
        circuit(a, act_good(b), b, f"fac:{pick(facs)}", f"hh:{pick(hhs)}", act_good(a))
    circuit("out:world", f"fac:{pick(facs)}", f"hh:{pick(hhs)}", "out:savings")
    if negatives:
        # a good flowing out as negative net exports, and negative outside factor income
        g = pick(goods)
        circuit(f"hh:{pick(hhs)}", f"com:{g}", "out:world", sign_at=1)
        circuit("out:world", f"fac:{pick(facs)}", f"hh:{pick(hhs)}", "out:savings", sign_at=0)
    return pd.DataFrame(x, index=pd.Index(labels, name="row"), columns=pd.Index(labels, name="column"))


def perturb(sam: pd.DataFrame, seed: int, sigma: float) -> pd.DataFrame:
    """Multiply every nonzero cell by exp(N(0, sigma))."""
    rng = np.random.default_rng(seed)
    return sam * np.exp(rng.normal(0.0, sigma, sam.shape))


def max_relative_gap(sam: pd.DataFrame) -> float:
    x = sam.loc[sam.index, sam.index].to_numpy()
    gap = np.abs(x.sum(axis=1) - x.sum(axis=0))
    gross = np.maximum(np.abs(x).sum(axis=1), np.abs(x).sum(axis=0))
    return float(np.max(gap / np.maximum(gross, 1e-300)))


def assert_same(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9) -> None:
    assert list(a.index) == list(b.index) and list(a.columns) == list(b.columns)
    scale = np.abs(b.to_numpy()).max()
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=rtol, atol=rtol * scale)


sam_shapes = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 3),
                       st.integers(1, 3), st.booleans())


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

def test_random_sams_are_valid_and_balanced():
    for seed in range(5):
        sam = random_sam(seed, 2, 2, 2, negatives=bool(seed % 2))
        report = check_sam(sam)
        assert report.ok, report.format()


@pytest.mark.parametrize("method", METHODS)
def test_balanced_example_unchanged(example, method):
    result = METHODS[method](example)
    assert result.converged
    assert_same(result.sam, example)
    assert result.report().empty


@FEW
@given(shape=sam_shapes)
def test_balanced_sam_unchanged_by_either_method(shape):
    sam = random_sam(*shape)
    for method in METHODS.values():
        result = method(sam)
        assert result.converged
        assert_same(result.sam, sam)


@FEW
@given(seed=st.integers(0, 2**32 - 1), sigma=st.floats(0.01, 0.5))
def test_perturbed_example_comes_back_balanced(seed, sigma):
    sam = perturb(_example(), seed, sigma)
    assert not check_sam(sam).ok
    for method in METHODS.values():
        result = method(sam)
        assert result.converged, result.summary()
        assert max_relative_gap(result.sam) <= 1e-9
        assert check_sam(result.sam).ok


@FEW
@given(shape=sam_shapes, seed=st.integers(0, 2**32 - 1), sigma=st.floats(0.05, 0.8))
def test_perturbed_random_sam_comes_back_balanced(shape, seed, sigma):
    sam = perturb(random_sam(*shape), seed, sigma)
    for method in METHODS.values():
        result = method(sam)
        assert result.converged, result.summary()
        assert max_relative_gap(result.sam) <= 1e-9


@FEW
@given(shape=sam_shapes, seed=st.integers(0, 2**32 - 1), sigma=st.floats(0.05, 0.8))
def test_ras_keeps_zeros_and_signs(shape, seed, sigma):
    sam = perturb(random_sam(*shape[:4], True), seed, sigma)
    for result in (ras(sam), cross_entropy(sam)):
        before, after = sam.to_numpy(), result.sam.to_numpy()
        assert np.array_equal(before == 0, after == 0)
        assert np.array_equal(np.sign(before), np.sign(after))


@FEW
@given(shape=sam_shapes, seed=st.integers(0, 2**32 - 1), k=st.floats(1e-3, 1e4))
def test_scaling_the_sam_scales_the_result(shape, seed, k):
    sam = perturb(random_sam(*shape), seed, 0.3)
    for method in METHODS.values():
        assert_same(method(sam * k).sam, method(sam).sam * k, rtol=1e-8)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.floats(1e-2, 1e3))
def test_scaling_the_example_scales_the_result(seed, k):
    sam = perturb(_example(), seed, 0.2)
    for method in METHODS.values():
        assert_same(method(sam * k).sam, method(sam).sam * k, rtol=1e-8)


# --------------------------------------------------------------------------------------------
# RAS specifics
# --------------------------------------------------------------------------------------------

def test_ras_keeps_gross_total_and_negative_cells_scale_inversely():
    sam = perturb(random_sam(7, 2, 2, 2, True), 3, 0.3)
    result = ras(sam)
    assert np.abs(result.sam.to_numpy()).sum() == pytest.approx(np.abs(sam.to_numpy()).sum(), rel=1e-12)
    # x_ij = c a_ij r_i / r_j for positive cells, c a_ij r_j / r_i for negative ones
    a, x = sam.to_numpy(), result.sam.to_numpy()
    i, j = np.nonzero(a)
    ratio = np.log(x[i, j] / a[i, j])
    pos = a[i, j] > 0
    # fit ln c + l_i - l_j (positive) and ln c - l_i + l_j (negative) exactly
    n = len(a)
    design = np.zeros((len(i), n + 1))
    design[np.arange(len(i)), i] = np.where(pos, 1, -1)
    design[np.arange(len(i)), j] += np.where(pos, -1, 1)
    design[:, n] = 1
    coef, *_ = np.linalg.lstsq(design, ratio, rcond=None)
    assert np.abs(design @ coef - ratio).max() < 1e-9


def test_ras_to_targets():
    sam = perturb(random_sam(3, 2, 2, 2, False), 1, 0.2)
    balanced = ras(sam).sam
    targets = balanced.sum(axis=1) * 1.0
    # targets of a feasible balanced SAM: GRAS reaches them from the perturbed prior
    result = ras(sam, row_targets=targets.to_dict(), col_targets=targets)
    assert result.converged and result.method == "gras-targets"
    np.testing.assert_allclose(result.sam.sum(axis=1), targets, rtol=1e-10)
    np.testing.assert_allclose(result.sam.sum(axis=0), targets, rtol=1e-10)
    # only one given: the other equals it
    result = ras(sam, row_targets=targets)
    np.testing.assert_allclose(result.sam.sum(axis=0), targets, rtol=1e-10)


def test_ras_average_targets_infeasible_for_lewie_structure(example):
    """Averages of row and column totals cannot be met: com totals must add up activity totals."""
    sam = perturb(example, 0, 0.2)
    avg = (sam.sum(axis=1) + sam.sum(axis=0)) / 2
    result = ras(sam, row_targets=avg, max_iter=200)
    assert not result.converged
    assert "DID NOT CONVERGE" in result.summary()


def test_ras_target_errors(example):
    t = example.sum(axis=1)
    with pytest.raises(SAMError, match="must agree"):
        ras(example, row_targets=t, col_targets=t * 2)
    with pytest.raises(SAMError, match="did you mean 'hh:eligible'"):
        ras(example, row_targets={**t.to_dict(), "hh:eligble": 1.0})
    with pytest.raises(SAMError, match="no target for 1 account"):
        ras(example, row_targets={k: v for k, v in t.items() if k != "hh:traders"})
    with pytest.raises(SAMError, match="expected 26 targets"):
        ras(example, row_targets=[1.0, 2.0])


def test_cell_on_no_circuit_cannot_be_balanced(example):
    sam = example.copy()
    sam.loc["com:crops", "out:transfers"] = 50.0  # fine: transfers receive and pay
    sam.loc["out:transfers", :] = 0.0  # ... but now out:transfers never receives
    for method in METHODS.values():
        with pytest.raises(SAMError, match="no circuit of payments") as err:
            method(sam)
        assert "column 'out:transfers'" in str(err.value)


def test_labels_and_order_kept(example):
    sam = perturb(example, 2, 0.1)
    shuffled = sam.loc[sam.index[::-1], list(sam.columns[3:]) + list(sam.columns[:3])]
    for method in METHODS.values():
        result = method(shuffled)
        assert list(result.sam.index) == list(shuffled.index)
        assert list(result.sam.columns) == list(shuffled.columns)
        assert_same(result.sam.loc[sam.index, sam.columns], method(sam).sam, rtol=1e-8)


def test_bad_input_raises(example):
    with pytest.raises(SAMError, match="not square"):
        ras(example.iloc[:, :-1])
    bad = example.copy()
    bad.iloc[3, 4] = np.nan
    with pytest.raises(SAMError, match="missing or infinite"):
        cross_entropy(bad)


# --------------------------------------------------------------------------------------------
# cross-entropy specifics
# --------------------------------------------------------------------------------------------

def test_cross_entropy_without_constraints_keeps_column_coefficients(example):
    sam = perturb(example, 4, 0.2)
    result = cross_entropy(sam)
    coef = lambda s: s / s.abs().sum(axis=0)  # noqa: E731
    assert_same(coef(result.sam), coef(sam), rtol=1e-9)
    assert result.objective == pytest.approx(0.0, abs=1e-12)
    assert result.sam.abs().to_numpy().sum() == pytest.approx(sam.abs().to_numpy().sum(), rel=1e-12)


@FEW
@given(seed=st.integers(0, 2**32 - 1), sigma=st.floats(0.02, 0.3))
def test_cross_entropy_fixed_cells_and_totals(seed, sigma):
    sam = perturb(_example(), seed, sigma)
    totals = {"hh:eligible": 4800.0, "com:crops": 15000.0, "out:world": 24000.0}
    cells = [("com:outside", "hh:ineligible"), ("fac:labor", "act:crops:ineligible")]
    result = cross_entropy(sam, fixed_cells=cells, fixed_totals=totals)
    assert result.converged, result.summary()
    assert max_relative_gap(result.sam) <= 1e-9
    for acc, total in totals.items():
        assert result.sam[acc].sum() == pytest.approx(total, rel=1e-10)
        assert result.sam.loc[acc].sum() == pytest.approx(total, rel=1e-10)
    for r, c in cells:
        assert result.sam.loc[r, c] == sam.loc[r, c]
    assert result.objective > 0


def test_cross_entropy_negative_cells(example):
    sam = perturb(random_sam(11, 3, 2, 2, True), 5, 0.3)
    assert (sam.to_numpy() < 0).any()
    result = cross_entropy(sam, fixed_totals={"hh:h0": float(sam.loc["hh:h0"].sum())})
    assert result.converged
    assert max_relative_gap(result.sam) <= 1e-9
    assert np.array_equal(np.sign(result.sam.to_numpy()), np.sign(sam.to_numpy()))


def test_cross_entropy_errors(example):
    with pytest.raises(SAMError, match="unknown account 'hh:eligble'.*did you mean 'hh:eligible'"):
        cross_entropy(example, fixed_totals={"hh:eligble": 1.0})
    with pytest.raises(SAMError, match="unknown account 'com:crop'"):
        cross_entropy(example, fixed_cells=[("com:crop", "hh:eligible")])
    with pytest.raises(SAMError, match="cannot balance with these fixed cells and totals"):
        # com:crops is paid only by its two activities, whose totals are then fixed too
        cross_entropy(example, fixed_totals={"com:crops": 15000.0, "act:crops:eligible": 2400.0,
                                             "act:crops:ineligible": 1000.0})


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------

def test_report_and_summary(example):
    sam = example.copy()
    sam.loc["hh:eligible", "fac:labor"] += 100.0
    result = ras(sam)
    assert isinstance(result, BalanceResult)
    rep = result.report()
    assert list(rep.columns) == ["row", "column", "before", "after", "change", "pct"]
    assert (np.diff(rep["change"].abs().to_numpy()) <= 0).all()
    first = rep.iloc[0]
    assert first.change == pytest.approx(first.after - first.before)
    assert first.pct == pytest.approx(100 * first.change / abs(first.before))
    text = result.summary()
    assert text.startswith("ras: converged in")
    assert "largest changes:" in text and f"{first.row} <- {first.column}" in text
    tot = result.totals()
    assert tot.loc["hh:eligible", "receipts_before"] == pytest.approx(4900.0)
