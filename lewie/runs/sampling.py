"""Monte Carlo draws of the model's shares, from a parameter table (point estimates and standard
errors) or supplied from elsewhere.

What is drawn: the factor shares of value added of every activity [fshare], the budget shares of
every household group [eshare], and its savings and transfer rates [savsh, troutsh]; the outside
spending rate [exprocsh] may come with supplied draws. Each is one *entry* of the economy's
calibration, named ``parameter|good|good2|factor|household`` (``factor_share|crop||Labor|Elig``,
``budget_share|crop|||Elig``, ``savings_rate||||Elig``); `entry_keys` lists them in the calibration's
order, which is the column order of every `Draws`.

The default (``distribution="normal"``) reproduces the published GAMS procedure:

* draw 0 is the point estimate (the calibrated base: the parameter table's estimates, rescaled);
* in every other draw, each share with a standard error (and a non-zero estimate) is drawn from
  Normal(estimate, se); a draw outside (0, 1) is redrawn until it falls inside;
* savings and transfer rates of a household group are redrawn (together) until the share of income
  left for local spending, 1 − savings − transfers − outside spending, is non-negative;
* factor shares are rescaled to sum to 1 over the factors of an activity, budget shares over the
  goods of a household group. A group none of whose members was drawn keeps its point values
  exactly (its rescaled estimates, to the last bit), so with zero standard errors every draw is
  draw 0.

The GAMS code also runs its redraw loop for draw 0, so a point estimate outside (0, 1) is replaced by
a random draw even there; lewie does that only with ``gams_compat=True`` (method ``gams-compat``,
logged), when the workbook is calibrated (`lewie.sam.workbook_calibration.calibrate_workbook`): draw 0
is then the calibrated base with the redrawn value. Without it such an estimate cannot be calibrated and is
an error where the table is read.

``distribution="dirichlet"`` draws each share vector from a Dirichlet distribution and each rate
from a beta distribution with the point estimates as means; the concentration of a vector is set
so that the variance of its members matches their standard errors (the median over members with
one), that of a rate to match its standard error; the leakage redraw is as above.

Each draw uses its own random stream, ``numpy.random.default_rng([seed, draw])``, so a draw's values
do not depend on how draws are chunked or parallelised.

Supplied draws (`read_draws`, e.g. bootstrap estimates from Stata or the draws of an earlier GAMS
run) replace lewie's own: their values are used exactly, entries they do not give keep their point
values. GAMS parameter names (fshare, eshare, savsh, troutsh/transfout, exprocsh/EXPROLES) and labels
in any case are accepted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lewie.errors import InputError
from lewie.model import registry
from lewie.model.calibration import VARIED_SHARES, ShareDraws

log = logging.getLogger("lewie")

LABELS = ["parameter", "good", "good2", "factor", "household"]
DRAWN = ("factor_share", "budget_share", "savings_rate", "transfer_rate")
"""Parameters the GAMS procedure draws."""
VARIED = VARIED_SHARES
"""Parameters a draw may change (`lewie.model.calibration.ShareDraws`); input shares are never drawn."""
SHARES = ("factor_share", "budget_share")  # rescaled to sum to 1 per group
RATES = ("savings_rate", "transfer_rate", "outside_rate")
GAMS_NAMES = {n: p for p in VARIED for n in registry.gams_spellings(p)}
"""Every GAMS and workbook spelling (lower case) of a varied parameter -> the parameter, from the registry."""
MAX_REDRAWS = 10_000
SUPPLIED_RESCALE_TOL = 1e-6  # supplied shares summing to 1 within this are rescaled (printing precision)
POINT_TOL = 1e-6  # the table's rescaled estimates must match the calibrated shares within this
ROUNDING_TOL = 0.005  # estimates within this of the SAM's value (rounded to 2 decimals) are accepted: SAM's used


def entry_keys(cal) -> list[tuple[str, str, str, str, str]]:
    """The drawable entries of a calibration, in its order: factor shares (``cal.factor_uses``),
    budget shares (``cal.consumption``), then savings, transfer and outside rates by household."""
    H = list(cal.structure.households)
    return ([("factor_share", g, "", f, h) for g, f, h in cal.factor_uses]
            + [("budget_share", g, "", "", h) for g, h in cal.consumption]
            + [(name, "", "", "", h) for name in RATES for h in H])


def entry_name(key) -> str:
    """``parameter|good|good2|factor|household``."""
    return "|".join(key)


def _cal_key(key):
    """The calibration's index of an entry (as in ``cal.params[parameter]``)."""
    p, g, _, f, h = key
    return (g, f, h) if p == "factor_share" else (g, h) if p == "budget_share" else h


def point_values(cal, keys=None) -> np.ndarray:
    """The calibrated values of the entries."""
    keys = entry_keys(cal) if keys is None else keys
    return np.array([cal.drawn(k[0])[_cal_key(k)] for k in keys], dtype=float)


def _groups(keys) -> np.ndarray:
    """Rescaling group of each entry: factor shares by (activity, household), budget shares by
    household, each rate on its own."""
    ids: dict = {}
    out = []
    for n, (p, g, _, f, h) in enumerate(keys):
        gk = (p, g, h) if p == "factor_share" else (p, h) if p == "budget_share" else n
        out.append(ids.setdefault(gk, len(ids)))
    return np.array(out, dtype=np.int64)


@dataclass
class Draws:
    """Drawn values: one row per draw, one column per entry (`entry_keys` order).

    ``failed`` maps a draw to the reason it cannot be used (supplied draws whose shares do not sum
    to 1, ...), ``notes`` a draw to what was done to it (supplied shares rescaled); ``log`` notes
    what applies to every draw (redraws of draw 0, entries not supplied ...), whatever the draws.
    """

    values: pd.DataFrame  # index: draw; columns: MultiIndex LABELS
    seed: int
    method: str  # gams | gams-compat | dirichlet | supplied
    log: list[str] = field(default_factory=list)
    file: str = ""
    failed: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)

    def column(self, parameter: str) -> pd.DataFrame:
        """The columns of one parameter, labelled by its remaining labels."""
        return self.values.xs(parameter, axis=1, level="parameter")

    def share_draws(self):
        """The values as `lewie.model.calibration.ShareDraws` (columns in the calibration's order)."""
        p = self.values.columns.get_level_values("parameter")
        arr = self.values.to_numpy(dtype=float)
        return ShareDraws(**{name: arr[:, np.asarray(p == name)] for name in VARIED})


class Sampler:
    """Draws of one calibrated economy's shares (see the module docstring).

    ``table`` is a parameter table (columns parameter, good, good2, factor, household, value, se;
    `lewie.sam.workbook.read_parameters`), or None (no standard errors: every draw is draw 0).
    Entries of the table the economy does not have (e.g. a factor share of an activity with no
    output) are left out, with a note in ``log``; entries the table does not give have no standard
    error. The table's estimates, rescaled as the draws are, must match the calibrated shares.
    """

    def __init__(self, table: pd.DataFrame | None, cal, *, seed: int = 0, distribution: str = "normal",
                 gams_compat: bool = False, file=None):
        if distribution not in ("normal", "dirichlet"):
            raise InputError(f"unknown distribution '{distribution}'; valid: normal, dirichlet",
                             field="montecarlo.distribution")
        self.cal, self.seed, self.distribution, self.gams_compat = cal, int(seed), distribution, gams_compat
        self.keys = entry_keys(cal)
        self.columns = pd.MultiIndex.from_tuples(self.keys, names=LABELS)
        self.param = np.array([k[0] for k in self.keys])
        self.point = point_values(cal, self.keys)
        self.group = _groups(self.keys)
        self.household = np.array([k[4] for k in self.keys])
        self.log: list[str] = []
        self.est = self.point.copy()
        self.se = np.zeros(len(self.keys))
        self.file = file
        if table is not None:
            self._read_table(table, file)
        else:
            self.log.append("no parameter table (no standard errors): every draw is the point estimates")
        self.drawn = np.isin(self.param, DRAWN) & (self.se > 0) & (self.est != 0)
        self.redo0 = self.drawn & ((self.est <= 0) | (self.est >= 1)) if gams_compat else np.zeros_like(self.drawn)
        if self.redo0.any():
            note = (f"draw 0: {int(self.redo0.sum())} point estimate(s) outside (0, 1) were redrawn, as the "
                    "GAMS code does (gams_compat; see the calibration log); the other draws are drawn around the "
                    "estimates")
            log.warning("%s", note)
            self.log.append(note)
        self.est_table = self.est.copy()
        self._check_point()
        if distribution == "dirichlet":
            self._concentrations()

    @property
    def method(self) -> str:
        return "dirichlet" if self.distribution == "dirichlet" else ("gams-compat" if self.gams_compat else "gams")

    def _read_table(self, table: pd.DataFrame, file) -> None:
        pos = {k: n for n, k in enumerate(self.keys)}
        low = {tuple(x.lower() for x in k): n for n, k in enumerate(self.keys)}
        unmatched = []
        self.empty_values = 0
        for r in table.itertuples(index=False):
            if r.parameter not in VARIED:
                continue
            key = tuple("" if (x is None or (isinstance(x, float) and np.isnan(x))) else str(x)
                        for x in (r.parameter, r.good, r.good2, r.factor, r.household))
            n = pos.get(key, low.get(tuple(x.lower() for x in key)))
            if n is None:
                if float(r.value) != 0:
                    unmatched.append(entry_name(key))
                continue
            if np.isnan(float(r.value)):  # an empty value: take the SAM's
                self.empty_values += 1
            else:
                self.est[n] = float(r.value)
            self.se[n] = float(r.se)
        if self.empty_values:
            self.log.append(f"{self.empty_values} entries of the parameter table have no value: the SAM's values are "
                            "used")
        if unmatched:
            self.log.append(f"{len(unmatched)} entries of the parameter table are not in the economy (e.g. a factor "
                            f"share of an activity with no output) and are not drawn: {', '.join(unmatched[:5])}"
                            + (" ..." if len(unmatched) > 5 else ""))

    def _rescaled(self, v: np.ndarray) -> np.ndarray:
        """Shares rescaled to sum to 1 per group (rates unchanged)."""
        out = v.copy()
        share = np.isin(self.param, SHARES)
        sums = np.bincount(self.group[share], weights=v[share], minlength=self.group.max() + 1)
        idx = np.flatnonzero(share)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[idx] = v[idx] / sums[self.group[idx]]
        return out

    def _check_point(self) -> None:
        """The table's estimates, rescaled, are the calibrated shares (else the table and the SAM disagree)."""
        resc = self._rescaled(self.est)
        redrawn = np.isin(self.group, self.group[self.redo0])  # groups whose draw 0 was redrawn
        bad = np.flatnonzero(~redrawn & ~(np.abs(resc - self.point) <= POINT_TOL))
        gap = np.minimum(np.abs(self.est - self.point), np.abs(resc - self.point))
        far = bad[~(gap[bad] <= ROUNDING_TOL * (1 + 1e-9))]
        if far.size:
            n = far[0]
            raise InputError(f"the parameter table's estimate of {entry_name(self.keys[n])} is {self.est[n]:g} "
                             f"({resc[n]:g} rescaled), but the SAM's calibrated value is {self.point[n]:g}; the table "
                             f"and the SAM disagree by more than the rounding tolerance {ROUNDING_TOL:g} ({far.size} "
                             "entries). Leave 'value' empty to take the SAM's, or write the SAM's values with "
                             "`lewie params template` (see docs/parameters.md)", file=self.file, field="parameters",
                             label=self.keys[n][0])
        if bad.size:  # rounded estimates: the SAM's values are used, for the whole share vector
            groups = np.isin(self.group, self.group[bad])
            self.est[groups] = self.point[groups]
            n = bad[int(np.argmax(gap[bad]))]
            note = (f"{bad.size} point estimates of the parameter table differ from the SAM's calibrated values by up "
                    f"to {gap[bad].max():.3g} (within the rounding tolerance {ROUNDING_TOL:g}; largest: "
                    f"{entry_name(self.keys[n])}, table {self.est_table[n]:g}, SAM {self.point[n]:.6g}): the SAM's "
                    "values are used")
            log.info("%s: %s", self.file or "parameter table", note)
            self.log.append(note)

    def _concentrations(self) -> None:
        """Dirichlet concentration of each share group and beta concentration of each rate."""
        self.alpha = np.full(self.group.max() + 1, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            implied = self.point * (1 - self.point) / self.se ** 2 - 1
        for g in np.unique(self.group[self.drawn]):
            members = (self.group == g) & self.drawn
            a = float(np.median(implied[members]))
            if not a > 0:
                n = np.flatnonzero(members)[0]
                raise InputError(f"the standard error of {entry_name(self.keys[n])} ({self.se[n]:g}) is too large for "
                                 f"a Dirichlet or beta distribution with mean {self.point[n]:g}",
                                 field="montecarlo.distribution")
            self.alpha[g] = a

    # ---- drawing --------------------------------------------------------------------------------
    def draw(self, first: int, last: int) -> Draws:
        """Draws ``first``..``last`` (inclusive); draw 0 is the point estimate."""
        if first < 0 or last < first - 1:
            raise InputError(f"draws {first}..{last} is not a range of draws")
        rows = [self._one(d) for d in range(first, last + 1)]
        values = pd.DataFrame(np.vstack(rows) if rows else np.empty((0, len(self.keys))),
                              index=pd.RangeIndex(first, last + 1, name="draw"), columns=self.columns)
        notes = {}
        if first == 0 and self.redo0.any():  # the repair GAMS makes in draw 0, recorded on the draw
            notes[0] = "redrawn as the GAMS code does (gams_compat): " + "; ".join(
                f"{entry_name(self.keys[n])} estimate {self.est[n]:.6g} outside (0, 1)"
                for n in np.flatnonzero(self.redo0))
        return Draws(values, self.seed, self.method, list(self.log), notes=notes)

    def _one(self, d: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, d])
        if d == 0:  # the calibrated base; with gams_compat it holds the draw-0 redraws (lewie.sam.workbook_calibration)
            return self.point.copy()
        if self.distribution == "dirichlet":
            return self._dirichlet(rng)
        v = self.est.copy()
        v[self.drawn] = _redraw_inside(rng, self.est[self.drawn], self.se[self.drawn])
        self._leakage_redraw(rng, v, lambda idx: _redraw_inside(rng, self.est[idx], self.se[idx]))
        return self._keep_point(self._rescaled(v), self.drawn)

    def _keep_point(self, v: np.ndarray, moved: np.ndarray) -> np.ndarray:
        """Groups none of whose members moved keep their point values exactly."""
        touched = np.zeros(self.group.max() + 1, dtype=bool)
        touched[self.group[moved]] = True
        still = ~touched[self.group]
        v[still] = self.point[still]
        return v

    def _dirichlet(self, rng) -> np.ndarray:
        v = self.point.copy()
        for g in np.flatnonzero(np.isfinite(self.alpha)):
            members = np.flatnonzero((self.group == g) & (self.point > 0))
            if self.param[members[0]] in SHARES:
                v[members] = rng.dirichlet(self.alpha[g] * self.point[members])
        rates = np.flatnonzero(np.isin(self.param, RATES) & self.drawn)

        def beta(idx):
            m = self.point[idx]
            k = self.alpha[self.group[idx]]
            return rng.beta(k * m, k * (1 - m))
        if rates.size:
            v[rates] = beta(rates)
        self._leakage_redraw(rng, v, beta)
        return v

    def _leakage_redraw(self, rng, v: np.ndarray, redraw) -> None:
        """Redraw savings and transfer rates of a household until its local spending share is ≥ 0."""
        for h in dict.fromkeys(self.household[np.isin(self.param, RATES)]):
            mine = self.household == h
            rates = np.flatnonzero(mine & np.isin(self.param, RATES))
            idx = np.flatnonzero(mine & np.isin(self.param, ("savings_rate", "transfer_rate")) & self.drawn)
            for _ in range(MAX_REDRAWS):
                if v[rates].sum() <= 1:
                    break
                if idx.size == 0:
                    break
                v[idx] = redraw(idx)
            else:
                raise InputError(f"savings and transfer rates of '{h}' leave no income for local spending in "
                                 f"{MAX_REDRAWS} redraws")

    # ---- supplied draws -------------------------------------------------------------------------
    def supplied(self, table: pd.DataFrame, first: int, last: int, *, file=None) -> Draws:
        """Supplied draws (`read_draws`) ``first``..``last`` in this economy's entries, used exactly.

        Labels match case-insensitively and GAMS names are accepted. Entries the economy does not
        have are an error (unless zero in every draw); entries not supplied keep their point values.
        Share vectors summing to 1 within 1e-6 (printing precision) are rescaled, with a note; a draw
        whose shares are further off, or that has a negative or missing value, is marked failed.
        """
        file = file or self.file
        need = list(range(first, last + 1))
        have = set(int(d) for d in table.index)
        missing = [d for d in need if d not in have]
        if missing:
            raise InputError(f"supplied draws lack draw(s) {missing[:10]}{' ...' if len(missing) > 10 else ''} "
                             f"(they give draws {min(have)}..{max(have)})", file=file, field="draw")
        low = {tuple(x.lower() for x in k): n for n, k in enumerate(self.keys)}
        out = np.tile(self.point, (len(need), 1))
        given = np.zeros(len(self.keys), dtype=bool)
        sub = table.loc[need]
        notes = [n for n in self.log if not n.startswith("draw 0:")]
        for col in table.columns:
            name = GAMS_NAMES.get(str(col[0]).lower(), str(col[0]))
            key = (name,) + tuple(str(x) for x in col[1:])
            n = low.get(tuple(x.lower() for x in key))
            vals = sub[col].to_numpy(dtype=float)
            if n is None:
                if name in VARIED and np.nan_to_num(vals).any():
                    raise InputError(f"supplied draws give {entry_name(key)}, which this economy does not have; "
                                     f"valid entries are like {entry_name(self.keys[0])}", file=file,
                                     field=entry_name(col), label=name)
                if name not in VARIED and name in ("input_share",) and np.nan_to_num(vals).any():
                    raise InputError(f"supplied draws vary {name}, which lewie does not draw (input shares are "
                                     "kept at their point estimates)", file=file, field=entry_name(col), label=name)
                continue
            out[:, n] = vals
            given[n] = True
        if not given.all():
            notes.append(f"supplied draws do not give {int((~given).sum())} of {len(self.keys)} entries: they keep "
                         "their point values")
        failed: dict[int, str] = {}
        draw_notes: dict[int, str] = {}
        bad = ~np.isfinite(out) | (out < 0)
        share = np.isin(self.param, SHARES)
        for i, d in enumerate(need):
            if bad[i].any():
                n = int(np.flatnonzero(bad[i])[0])
                failed[d] = f"supplied value of {entry_name(self.keys[n])} is {out[i, n]:g}"
                continue
            sums = np.bincount(self.group[share], weights=out[i, share], minlength=self.group.max() + 1)
            off = np.abs(sums - 1) > 1e-9
            off[np.setdiff1d(np.arange(off.size), self.group[share])] = False
            far = np.abs(sums - 1) > SUPPLIED_RESCALE_TOL
            far[np.setdiff1d(np.arange(far.size), self.group[share])] = False
            if far.any():
                n = int(np.flatnonzero(share & far[self.group])[0])
                _, g, _, _, h = self.keys[n]
                what = f"factor shares of activity ({g}, {h})" if self.param[n] == "factor_share" else \
                    f"budget shares of '{h}'"
                failed[d] = f"supplied {what} sum to {sums[self.group[n]]:.9g}, not 1"
                continue
            if off.any():
                idx = np.flatnonzero(share & off[self.group])
                out[i, idx] = out[i, idx] / sums[self.group[idx]]
                draw_notes[d] = (f"{np.unique(self.group[idx]).size} supplied share vector(s) summing to 1 only "
                                 f"within {SUPPLIED_RESCALE_TOL:g} rescaled to sum to 1")
            leak = {}
            for n in np.flatnonzero(np.isin(self.param, RATES)):
                leak[self.household[n]] = leak.get(self.household[n], 0.0) + out[i, n]
            over = [h for h, s in leak.items() if s > 1]
            if over:
                failed[d] = f"supplied savings, transfer and outside rates of '{over[0]}' sum to {leak[over[0]]:g} > 1"
        values = pd.DataFrame(out, index=pd.RangeIndex(first, last + 1, name="draw"), columns=self.columns)
        return Draws(values, -1, "supplied", notes, file=str(file or ""), failed=failed, notes=draw_notes)


def redraw_inside(rng, mean, sd) -> np.ndarray:
    """Normal(mean, sd) draws, each redrawn until it lies inside (0, 1) (the GAMS truncation)."""
    return _redraw_inside(rng, np.asarray(mean, dtype=float), np.asarray(sd, dtype=float))


def _redraw_inside(rng, mean, sd) -> np.ndarray:
    out = rng.normal(mean, sd)
    for _ in range(MAX_REDRAWS):
        outside = (out <= 0) | (out >= 1)
        if not outside.any():
            return out
        out[outside] = rng.normal(mean[outside], sd[outside])
    raise InputError(f"a share with estimate {mean[outside][0]:g} and standard error {sd[outside][0]:g} could not "
                     f"be drawn inside (0, 1) in {MAX_REDRAWS} tries")


# ------------------------------------------------------------------------------------------------
# supplied draws: files
# ------------------------------------------------------------------------------------------------
def read_draws(path_or_frame) -> pd.DataFrame:
    """Externally supplied draws as a wide table: index ``draw``, columns MultiIndex LABELS.

    Draws are numbered 0, 1, … or labelled as GAMS labels them (``dr0``, ``dr1``, …); in the long
    layout the label columns may have the GAMS set names (``g``, ``gg``, ``f``, ``h``; absent ones are
    empty), so a GAMS dump with a ``parameter`` column added is a draws file. Accepted: a CSV
    with a ``draw`` column and one column per entry named
    ``parameter|good|good2|factor|household`` (empty labels stay empty, e.g. ``savings_rate||||Elig``);
    a long CSV with columns draw, parameter, good, good2, factor, household, value; a netCDF file with
    a variable ``parameter_value(draw, entry)`` (lewie's results, so an earlier run's draws can be
    replayed), or a DataFrame in either CSV layout. Draw 0 (the point estimates) must be included.
    """
    path = None
    if isinstance(path_or_frame, (str, Path)):
        path = Path(path_or_frame)
        if not path.exists():
            raise InputError("draws file not found", file=path)
        if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
            return _from_netcdf(path)
        if path.suffix.lower() != ".csv":
            raise InputError(f"unsupported draws file type '{path.suffix}' (use .csv or .nc)", file=path)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        frame = path_or_frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    if "parameter" in frame.columns:  # GAMS set names for the label columns (g, gg, f, h) are accepted
        gams = {"g": "good", "gg": "good2", "f": "factor", "h": "household"}
        frame = frame.rename(columns={c: gams[c.lower()] for c in frame.columns
                                      if c.lower() in gams and gams[c.lower()] not in frame.columns})
        for c in ("good", "good2", "factor", "household"):
            if c not in frame.columns:
                frame[c] = ""
    if "draw" not in frame.columns:
        raise InputError("draws table has no 'draw' column", file=path, field="draw")
    from lewie.results.gams import draw_number
    try:
        draw = frame["draw"].map(draw_number).astype(int)
    except (TypeError, ValueError):
        raise InputError("the 'draw' column must hold whole numbers or GAMS draw labels (dr0, dr1, ...)",
                         file=path, field="draw") from None
    if "parameter" in frame.columns:  # long layout
        for c in LABELS + ["value"]:
            if c not in frame.columns:
                raise InputError(f"draws table has no '{c}' column", file=path, field=c)
        f = frame.assign(draw=draw)
        for c in LABELS:
            f[c] = f[c].fillna("").astype(str)
        f["value"] = _numbers(f["value"], path, "value")
        if f.duplicated(["draw"] + LABELS).any():
            r = f[f.duplicated(["draw"] + LABELS)].iloc[0]
            raise InputError(f"draw {r.draw} gives {entry_name(tuple(r[LABELS]))} twice", file=path)
        wide = f.pivot(index="draw", columns=LABELS, values="value")
    else:
        cols = [c for c in frame.columns if c != "draw"]
        tuples = []
        for c in cols:
            parts = c.split("|")
            if len(parts) != 5:
                raise InputError(f"column '{c}' should be parameter|good|good2|factor|household", file=path, field=c)
            tuples.append(tuple(parts))
        data = np.column_stack([_numbers(frame[c], path, c) for c in cols]) if cols else np.empty((len(frame), 0))
        wide = pd.DataFrame(data, index=draw.to_numpy(), columns=pd.MultiIndex.from_tuples(tuples, names=LABELS))
    wide.index.name = "draw"
    if wide.index.duplicated().any():
        raise InputError(f"draw {wide.index[wide.index.duplicated()][0]} is given twice", file=path, field="draw")
    if 0 not in wide.index:
        raise InputError("supplied draws must include draw 0 (the point estimates)", file=path, field="draw")
    return wide.sort_index()


def _numbers(col: pd.Series, path, name) -> np.ndarray:
    try:
        return pd.to_numeric(col.replace("", np.nan)).to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"column '{name}' holds values that are not numbers", file=path, field=name) from None


def _from_netcdf(path: Path) -> pd.DataFrame:
    import xarray as xr
    from lewie.results.dataset import results_engine  # netCDF3 (lewie's results) or netCDF4
    with xr.open_dataset(path, engine=results_engine(path)) as ds:
        if "parameter_value" not in ds:
            raise InputError("a netCDF draws file needs a variable parameter_value(draw, entry) (as in lewie's "
                             "results)", file=path, field="parameter_value")
        da = ds["parameter_value"].load()
    if set(da.dims) != {"draw", "entry"}:
        raise InputError(f"parameter_value has dims {da.dims}, not (draw, entry)", file=path, field="parameter_value")
    da = da.transpose("draw", "entry")
    tuples = [tuple(str(e).split("|")) for e in da["entry"].values]
    if any(len(t) != 5 for t in tuples):
        raise InputError("entry labels must be parameter|good|good2|factor|household", file=path, field="entry")
    wide = pd.DataFrame(da.values, index=pd.Index(da["draw"].values.astype(int), name="draw"),
                        columns=pd.MultiIndex.from_tuples(tuples, names=LABELS))
    if 0 not in wide.index:
        raise InputError("supplied draws must include draw 0 (the point estimates)", file=path, field="draw")
    return wide.sort_index()
