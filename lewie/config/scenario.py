"""Scenario files: TOML, validated by pydantic (unknown keys are errors), paths relative to the file.

A scenario names the economy (a SAM, with an optional parameter table, or a GAMS LEWIE workbook, with
an optional simulation dashboard whose shocks become variants), the household → village map, the
market level at which each good and tradable factor clears, the labour supply elasticity,
purchased-input budget constraints, Monte Carlo settings, the interventions and named variants
(lists of interventions run side by side). A numeric setting given as a list is a sensitivity sweep
(`Sweep`: the results get a dim named after it). Labels are checked against the economy later
(`lewie.model.sets.build_structure`, `lewie.model.interventions`), where the economy is known; those of a
workbook economy match case-insensitively, as in GAMS (`canonical_labels`).

Every error names the file, the key, its line where it can be found, and the closest valid label.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from lewie.config.intervention_kinds import KIND_MODELS, Intervention
from lewie.config.scenario_errors import scenario_text, explain, format_loc, scenario_error, toml_value
from lewie.config.settings import (Count, Dashboard, Flag, InputBudget, LabourSupply, Markets, MonteCarloSettings,
                                   Sweep, _Strict)
from lewie.errors import InputError, unknown_label

DEFAULT_VARIANT = "all"  # the one variant of a scenario without [variants]: every intervention


class Scenario(_Strict):
    """One scenario: an economy, its closure, the interventions and the variants to simulate."""

    name: str = Field(min_length=1, description="Title of the scenario (shown in reports and results).")
    currency: str = Field(default="SAM currency", min_length=1,
                          description="Currency of the SAM's values (e.g. \"KES\"), carried to every table and figure.")
    year: Count | None = Field(default=None, description="Year the SAM's values are in (e.g. 2016), shown with the currency.")
    sam: Path | None = Field(default=None, description="The economy's SAM (CSV or XLSX), relative to the scenario "
                                                       "file; give this or 'workbook'.")
    parameters: Path | None = Field(default=None, description="Parameter table (household counts, standard "
                                                              "errors), relative to the scenario file.")
    workbook: Path | None = Field(default=None, description="A GAMS LEWIE input workbook (instead of a SAM), "
                                                            "relative to the scenario file.")
    purchased_inputs: list[str] = Field(
        default=[], description="Workbook economies: tradable factors bought from outside (not supplied by "
                                "households), e.g. [\"Input\"]; other factors under [markets] are labour.")
    gams_compat: Flag = Field(default=False, description="Workbook economies: accept what the GAMS code accepts "
                                                         "(recorded in the results and logged).")
    dashboard: Dashboard | None = Field(default=None, description="Shocks from a simulation dashboard sheet.")
    workbook_index: str = Field(default="Index", min_length=1,
                                description="Workbook economies: the index sheet gdxxrw reads (e.g. \"Index_divided\" "
                                            "or \"Index_divided!A2\", as the GAMS main file's input_sheet_index).")
    workbook_names: dict[str, str] = Field(
        default={}, description="Workbook economies: lewie parameter -> workbook variable name, overriding the "
                                "known spellings (see lewie.sam.workbook_names), e.g. transfer_rate = \"transfoutsh\".")
    villages: dict[str, list[str]] = Field(min_length=1, description="Each village's household groups "
                                                                      "(every group of the SAM in exactly one).")
    markets: Markets = Field(description="Market level at which each good and tradable factor clears.")
    labour_supply: LabourSupply = Field(default=LabourSupply(), description="Labour supply elasticity.")
    input_budget: InputBudget | None = Field(default=None, description="Purchased inputs bought with a fixed "
                                                                       "budget (liquidity constraint).")
    montecarlo: MonteCarloSettings = Field(default=MonteCarloSettings(), description="Monte Carlo settings.")
    interventions: list[Intervention] = Field(default=[], description="The interventions ([[interventions]] "
                                                                      "blocks, each with a 'kind').")
    variants: dict[str, list[str]] | None = Field(
        default=None, description="Named lists of interventions; without it one variant 'all' has them all.")
    sweeps: tuple[Sweep, ...] = Field(
        default=(), description="Settings given as lists (set by giving a list in the file, not directly); "
                                "the scenario holds each setting's first value.")
    source: Path | None = Field(default=None, exclude=True, description="File the scenario was read from.")

    def sweep_points(self) -> list[tuple[dict[str, float], "Scenario"]]:
        """Every combination of the sweeps' values (the first sweep varying slowest): its coordinates
        and the scenario with those values set. One point (no coordinates) without sweeps."""
        import itertools
        if not self.sweeps:
            return [({}, self)]
        base = self.model_dump(mode="python", exclude={"sweeps"})
        out = []
        for combo in itertools.product(*(sw.values for sw in self.sweeps)):
            data = _copy(base)
            for sw, v in zip(self.sweeps, combo):
                _set_path(data, sw.path, v)
            out.append(({sw.dim: v for sw, v in zip(self.sweeps, combo)},
                        Scenario.model_validate({**data, "source": self.source})))
        return out

    def intervention_names(self) -> list[str]:
        """Each intervention's name; an unnamed one is called by its kind (numbered if repeated)."""
        kinds = [i.kind for i in self.interventions]
        out = []
        for n, itv in enumerate(self.interventions):
            if itv.name is not None:
                out.append(itv.name)
            elif kinds.count(itv.kind) == 1:
                out.append(itv.kind)
            else:
                out.append(f"{itv.kind}_{kinds[:n + 1].count(itv.kind)}")
        return out

    def variant_map(self) -> dict[str, list[int]]:
        """Variant name -> positions of its interventions (file order); 'all' when there are no variants."""
        if self.variants is None:
            return {DEFAULT_VARIANT: list(range(len(self.interventions)))}
        pos = {n: i for i, n in enumerate(self.intervention_names())}
        return {v: [pos[n] for n in names] for v, names in self.variants.items()}


# ------------------------------------------------------------------------------------------------
# reading and checking
# ------------------------------------------------------------------------------------------------
def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file; relative paths are resolved against its folder."""
    from lewie.files import read_text
    path = Path(path)
    text = read_text(path, what="scenario file")  # missing, a folder, not UTF-8: one clear error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from None
    return scenario_from_dict(data, base=path.parent, source=path, text=text)


def scenario_from_dict(data: dict, *, base: Path | None = None, source: Path | None = None,
                       text: str | None = None) -> Scenario:
    """Validate a scenario given as a dict (paths relative to ``base``).

    A numeric setting given as a list of numbers (``labour_supply.elasticity = [0, 1, 100]``, an
    entry of a per-household elasticity table, or a number of an intervention such as ``amount``)
    is a sensitivity sweep: the scenario holds its first value and records the sweep (`Sweep`);
    every value is validated.
    """
    data = _copy(dict(data))
    if text is None and source is not None:
        text = scenario_text(source)
    if "sweeps" in data:
        raise scenario_error("unknown key 'sweeps': to sweep a setting, give it as a list of values "
                             "(e.g. labour_supply.elasticity = [0, 1, 100])", file=source, field="sweeps", text=text)
    if base is not None:
        for key in ("sam", "parameters", "workbook"):
            if isinstance(data.get(key), str):
                data[key] = (base / data[key]).resolve()
        for table, key in (("montecarlo", "draws_file"), ("dashboard", "file")):
            if isinstance(data.get(table), dict) and isinstance(data[table].get(key), str):
                data[table] = {**data[table], key: (base / data[table][key]).resolve()}
    sweeps = _find_sweeps(data, source, text)
    first = _copy(data)
    for sw in sweeps:
        _set_path(first, sw.path, sw.values[0])
    try:
        sc = Scenario.model_validate({**first, "sweeps": sweeps, "source": source})
    except ValidationError as exc:
        raise InputError(explain(exc, text, first, Scenario), file=source) from None
    for sw in sweeps:  # every value of a sweep must be valid, not only the first
        for j, v in enumerate(sw.values[1:], start=1):
            trial = _copy(first)
            _set_path(trial, sw.path, v)
            try:
                Scenario.model_validate({**trial, "source": source})
            except ValidationError as exc:
                raise InputError(f"value {j} ({v:g}) of the sweep: " + explain(exc, text, trial, Scenario),
                                 file=source) from None
    _check(sc, text)
    return sc


def _copy(data):
    """A deep copy of nested dicts and lists (leaves shared)."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _set_path(data, path, value) -> None:
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


def _numbers(value) -> bool:
    return (isinstance(value, list) and len(value) > 0
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))


def _takes_float(model: type[BaseModel], key: str) -> bool:
    field = model.model_fields.get(key)
    if field is None:
        return False
    return _is_float(field.annotation)


def _is_float(ann) -> bool:
    """A float, a constrained float (``Annotated[float, ...]``) or a union holding one."""
    import typing
    if ann is float:
        return True
    if typing.get_origin(ann) is typing.Annotated:
        return _is_float(typing.get_args(ann)[0])
    import types
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return any(_is_float(a) for a in typing.get_args(ann))
    return False


def _find_sweeps(data: dict, source, text) -> tuple["Sweep", ...]:
    """Numeric settings given as lists of numbers: the labour supply elasticity (or an entry of its
    per-household table) and the numbers of interventions (amount, change, cost, shares ...)."""
    found: list[tuple[str, tuple, list]] = []
    ls = data.get("labour_supply")
    if isinstance(ls, dict):
        el = ls.get("elasticity")
        if _numbers(el):
            found.append(("labour_supply_elasticity", ("labour_supply", "elasticity"), el))
        elif isinstance(el, dict):
            for h, v in el.items():
                if _numbers(v):
                    found.append((f"labour_supply_elasticity_{h}", ("labour_supply", "elasticity", h), v))
    items = data.get("interventions")
    if isinstance(items, list):
        kinds = [i.get("kind") if isinstance(i, dict) and isinstance(i.get("kind"), str) else None for i in items]
        for n, itv in enumerate(items):
            model = KIND_MODELS.get(kinds[n]) if kinds[n] is not None else None
            if model is None:
                continue
            name = itv.get("name") if isinstance(itv.get("name"), str) else (
                itv["kind"] if kinds.count(itv["kind"]) == 1 else f"{itv['kind']}_{kinds[:n + 1].count(itv['kind'])}")
            for key, v in itv.items():
                if _numbers(v) and _takes_float(model, key):
                    found.append((f"{name}_{key}", ("interventions", n, key), v))
                elif key == "shares" and isinstance(v, dict):
                    for h, w in v.items():
                        if _numbers(w):
                            found.append((f"{name}_shares_{h}", ("interventions", n, "shares", h), w))
    out = []
    for dim, path, values in found:
        field = format_loc(list(path))
        values = [float(v) for v in values]
        j = next((j for j, v in enumerate(values) if not math.isfinite(v)), None)
        if j is not None:
            raise scenario_error(f"value {j} of the sweep must be a finite number, not {toml_value(values[j])}",
                                 file=source, field=field, text=text)
        if len(set(values)) != len(values):
            raise scenario_error(f"a sweep lists a value twice: {values}", file=source, field=field, text=text)
        if dim in RESERVED_DIMS or dim in [d for d, *_ in out]:
            raise scenario_error(f"the sweep's dim '{dim}' is already a dim of the results; rename the "
                                 "intervention", file=source, field=field, text=text)
        out.append((dim, path, tuple(values)))
    return tuple(Sweep(dim=d, path=p, values=v) for d, p, v in out)


RESERVED_DIMS = ("variant", "draw", "state", "household", "good", "factor", "village", "input_good",
                 "intervention", "entry", "statistic", "group")


def _check(sc: Scenario, text: str | None) -> None:
    """Checks across keys: one economy source, unique intervention names, variants naming them."""
    src = sc.source
    if sc.sam is not None and sc.workbook is not None:
        raise scenario_error("give the economy as a SAM ('sam', with an optional 'parameters' table) or as a "
                             "workbook ('workbook'), not both", file=src, field="workbook", text=text)
    if sc.sam is None and sc.workbook is None:
        raise scenario_error("no economy: give 'sam' (a SAM file, with an optional 'parameters' table) or "
                             "'workbook' (a GAMS LEWIE input workbook)", file=src, field="sam", text=text)
    if sc.workbook is not None and sc.parameters is not None:
        raise scenario_error("a workbook holds its own parameters; 'parameters' goes with 'sam'", file=src,
                             field="parameters", text=text)
    if sc.workbook is None and (sc.workbook_names or sc.workbook_index != "Index"):
        key = "workbook_names" if sc.workbook_names else "workbook_index"
        raise scenario_error(f"'{key}' says how to read a GAMS workbook, but the scenario has no 'workbook'",
                             file=src, field=key, text=text)
    if sc.dashboard is not None and sc.dashboard.file is None and sc.workbook is None:
        raise scenario_error("the dashboard has no 'file' and the scenario no workbook to take it from", file=src,
                             field="dashboard.file", text=text)
    seen: dict[str, int] = {}
    for i, itv in enumerate(sc.interventions):
        if itv.name is None:
            if sc.variants is not None:
                raise scenario_error(f"this {itv.kind} intervention has no 'name'; every intervention needs one "
                                     "when the scenario has [variants]", file=src, field=f"interventions[{i}]",
                                     text=text)
            continue
        if itv.name in seen:
            raise scenario_error(f"intervention name '{itv.name}' is used twice (also by interventions"
                                 f"[{seen[itv.name]}])", file=src, field=f"interventions[{i}].name",
                                 label=itv.name, text=text)
        seen[itv.name] = i
    if sc.variants is None:
        return
    if not sc.variants:
        raise scenario_error("[variants] is empty; name at least one variant (or leave the table out to run "
                             "every intervention together)", file=src, field="variants", text=text)
    for v, names in sc.variants.items():
        if not names:
            raise scenario_error(f"variant '{v}' lists no interventions", file=src, field=f"variants.{v}", text=text)
        for j, n in enumerate(names):
            if n not in seen:
                raise scenario_error(unknown_label("intervention", n, seen), file=src, field=f"variants.{v}[{j}]",
                                     label=n, text=text)
            if n in names[:j]:
                raise scenario_error(f"variant '{v}' lists intervention '{n}' twice", file=src,
                                     field=f"variants.{v}[{j}]", label=n, text=text)


def canonical_labels(sc: Scenario, *, households, goods, factors) -> tuple[Scenario, list[str]]:
    """The scenario with every economy label in the economy's spelling, matching case-insensitively
    (GAMS labels: ``Labor``, ``labor`` and ``LABOR`` are one factor). Labels that match nothing are
    left as they are, for validation to report with a 'did you mean'. Returns the scenario and a
    note per label respelled."""
    notes: list[str] = []

    def lookup(choices):
        low = {str(c).lower(): c for c in choices}

        def fix(label):
            if not isinstance(label, str) or label in choices:
                return label
            new = low.get(label.lower())
            if new is None:
                return label
            notes.append(f"'{label}' read as '{new}'")
            return new
        return fix

    hh, gd, fc, gf = lookup(tuple(households)), lookup(tuple(goods)), lookup(tuple(factors)), \
        lookup(tuple(goods) + tuple(factors))
    data = sc.model_dump(mode="python")
    data["villages"] = {v: [hh(h) for h in members] for v, members in data["villages"].items()}
    data["markets"] = {lvl: [gf(x) for x in labels] for lvl, labels in data["markets"].items()}
    data["purchased_inputs"] = [fc(f) for f in data["purchased_inputs"]]
    el = data["labour_supply"]["elasticity"]
    if isinstance(el, dict):
        data["labour_supply"]["elasticity"] = {hh(h): v for h, v in el.items()}
    if data.get("input_budget"):
        ib = data["input_budget"]
        ib["factors"] = [fc(f) for f in ib["factors"]]
        if ib.get("households") is not None:
            ib["households"] = [hh(h) for h in ib["households"]]
    for itv in data["interventions"]:
        if itv.get("households") is not None:
            itv["households"] = [hh(h) for h in itv["households"]]
        if itv.get("shares") is not None:
            itv["shares"] = {hh(h): w for h, w in itv["shares"].items()}
        for key, fix in (("good", gd), ("activity", gd), ("factor", fc)):
            if key in itv:
                itv[key] = fix(itv[key])
        if itv.get("activities") is not None:
            itv["activities"] = [gd(g) for g in itv["activities"]]
    sweeps = []
    for sw in data["sweeps"]:  # a sweep of a per-household value names the household in its path
        path = list(sw["path"])
        if path[:2] == ["labour_supply", "elasticity"] and len(path) == 3:
            path[2] = hh(path[2])
        elif path[0] == "interventions" and len(path) == 4 and path[2] == "shares":
            path[3] = hh(path[3])
        sweeps.append({**sw, "path": tuple(path)})
    data["sweeps"] = sweeps
    return Scenario.model_validate({**data, "source": sc.source}), list(dict.fromkeys(notes))


def with_dashboard(sc: Scenario, rows, *, file=None) -> Scenario:
    """The scenario with the shocks of a simulation dashboard (`lewie.sam.workbook.read_dashboard`)
    added as variants, one per ``sim``, in the order met.

    Each row ``sim | good | factor | household | value`` adds ``value`` units of the factor to the
    household group (a total for the group, not per household; base price 1): a ``factor_endowment``
    of activity ``good`` when the factor is fixed (not under [markets]), a ``labour_supply`` with
    cost = value when it is a labour factor (a tradable factor not in ``purchased_inputs``; ``good``
    is then only part of the name). The intervention is named ``sim_factor_good_household``.
    """
    tradable = {x for level in ("village", "zone", "world") for x in getattr(sc.markets, level)}
    data = sc.model_dump(mode="python")
    names = sc.intervention_names()
    for itv, n in zip(data["interventions"], names):
        itv["name"] = n
    variants = dict(sc.variants) if sc.variants is not None else (
        {DEFAULT_VARIANT: names} if names else {})
    for n, r in enumerate(rows.itertuples(index=False)):
        where = f"dashboard row {n + 1} ({r.sim} | {r.good} | {r.factor} | {r.household} | {r.value:g})"
        name = f"{r.sim}_{r.factor}_{r.good}_{r.household}"
        if r.factor in sc.purchased_inputs:
            raise InputError(f"{where}: '{r.factor}' is a purchased input; a dashboard shock adds units of a fixed "
                             "factor or of labour", file=file, field="dashboard", label=r.factor)
        if r.factor in tradable:
            itv = {"name": name, "kind": "labour_supply", "factor": r.factor, "households": [r.household],
                   "amount": float(r.value), "cost": abs(float(r.value))}
        else:
            itv = {"name": name, "kind": "factor_endowment", "activity": r.good, "factor": r.factor,
                   "households": [r.household], "amount": float(r.value)}
        if name in names:
            raise InputError(f"{where}: intervention name '{name}' is already used", file=file, field="dashboard",
                             label=name)
        data["interventions"].append(itv)
        names.append(name)
        if r.sim in variants and r.sim not in {str(x.sim) for x in rows.iloc[:n].itertuples(index=False)}:
            raise InputError(f"{where}: simulation '{r.sim}' has the name of a variant of the scenario", file=file,
                             field="dashboard", label=str(r.sim))
        variants.setdefault(str(r.sim), []).append(name)
    data["variants"] = variants
    return revalidated(data, sc.source, file)


def revalidated(data: dict, source, file) -> "Scenario":
    """A scenario rebuilt from ``data`` (a scenario's dump with a dashboard's shocks added), validated
    and checked again; an error names the dashboard ``file``."""
    try:
        out = Scenario.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise InputError(f"dashboard: {explain(exc, None, data, Scenario)}", file=file) from None
    _check(out, None)
    return out
