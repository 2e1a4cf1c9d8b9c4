"""Which workbook variable (row label of ``alldata``) holds which lewie parameter.

Each GAMS LEWIE study decides in its own ``1_Read_Excel.gms`` which row labels it reads
(``xlTROUTsh(h) = alldata("transfout", ...)`` in one study, ``alldata("transfoutsh", ...)`` in
another). lewie reads a workbook through this table: for every parameter the calibration needs,
the GAMS name lewie uses internally and the spellings known from published workbooks, tried in
order (case-insensitively). A scenario overrides any of them with ``[workbook_names]``, e.g.
``transfer_rate = "transfoutsh"``.

`resolve_names` then reports, for a workbook, which variable it read for each parameter, every
parameter it needed and did not find (an error when the calibration cannot do without it, a note
when it is taken as 0 as GAMS would), and every variable the workbook holds values for that lewie
did not use: nothing in the workbook is ignored without a word.

The table (built from `NAMES`, so the text and the code agree):

| lewie parameter | name inside lewie | workbook spellings (first found is used) |
|---|---|---|
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lewie.errors import did_you_mean
from lewie.model.registry import workbook_names

_REGISTRY = workbook_names()  # the model parameters' workbook names come from the registry

__all__ = ["NAMES", "REQUIRED", "NOT_MODELLED", "NameReport", "resolve_names"]

# lewie parameter -> (canonical name used inside lewie.sam.workbook_calibration (the registry's workbook name for
# a model parameter), known workbook spellings, meaning)
NAMES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "household_count": ("HHNum", ("HHNum", "nhh", "HHnumber"), "number of households the group represents [xlnhh]"),
    "expenditure": ("HHexp", ("HHexp", "hhexp"), "mean expenditure of a household: income Y = HHexp·HHNum [xlhhexp]"),
    "budget_share": (_REGISTRY["budget_share"], ("eshare",), "budget share of a good [xleshare]"),
    "budget_share_se": ("eshare_se", ("eshare_se",), "its standard error [xleshare_se]"),
    "min_consumption": (_REGISTRY["min_consumption"], ("emin",), "minimum consumption (GAMS sets it to 0) [xlemin]"),
    "production": ("QP", ("QP",), "output of an activity per household [xlqp]"),
    "input_share": (_REGISTRY["input_share"], ("idsh",), "intermediate input share of the activity [xlidsh]"),
    "factor_share": (_REGISTRY["factor_share"], ("fshare",), "Cobb-Douglas factor share [xlfshare]"),
    "factor_share_se": ("fshare_se", ("fshare_se",), "its standard error [xlfshare_se]"),
    "savings_rate": (_REGISTRY["savings_rate"], ("savsh", "savinfsh", "SAVsh"), "share of income saved [xlsavsh]"),
    "savings_rate_se": ("savsh_se", ("savsh_se", "savinfsh_se"), "its standard error [xlsavsh_se]"),
    "transfer_rate": (_REGISTRY["transfer_rate"], ("transfout", "transfoutsh", "troutsh"),
                      "share of income transferred out of the local economy [xlTROUTsh]"),
    "transfer_rate_se": ("transfout_se", ("transfout_se", "transfoutsh_se", "troutsh_se"),
                         "its standard error [xlTROUTsh_se]"),
    "outside_rate": (_REGISTRY["outside_rate"], ("EXPROLES", "exprocsh", "expoutsh"),
                     "share of income spent outside the local economy [xlexpoutsh]"),
    "outside_rate_se": ("EXPROLES_se", ("EXPROLES_se", "exprocsh_se", "expoutsh_se"),
                        "its standard error (GAMS does not draw it)"),
    "working_age": ("wrkagepop", ("wrkagepop",), "working-age members per household: splits the labour "
                                                  "endowment [xlwrkagepop]"),
}
REQUIRED = ("household_count", "expenditure", "production", "factor_share", "budget_share")
"""Parameters without which a workbook cannot be calibrated."""

NOT_MODELLED = {
    "transfin": "transfers received from other local households (GAMS TRIN = trinsh·ΣTROUT): lewie's model "
                "has no transfers between local households; the transfers out leave the local economy",
    "transfinsh": "transfers received from other local households (see transfin)",
}
"""Workbook variables some GAMS models use that lewie's model does not have."""

__doc__ += "\n".join(f"| {p} | {c} | {', '.join(sp)} |" for p, (c, sp, _) in NAMES.items()) + "\n"


@dataclass
class NameReport:
    """How a workbook's variables were read: ``used`` (lewie parameter -> workbook variable),
    ``missing`` (parameters not found, taken as 0), ``unused`` (workbook variables with values that
    lewie did not read, with the cell of their first value) and ``notes`` (one line each)."""

    used: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = ["workbook variables read: " + ", ".join(f"{p} <- {v}" for p, v in self.used.items())]
        if self.missing:
            out.append("not in the workbook, taken as 0 (as GAMS would): " + ", ".join(
                f"{p} (tried {', '.join(NAMES[p][1])})" for p in self.missing))
        if self.unused:
            out.append("workbook variables with values that lewie does not use: " + ", ".join(
                f"{v} ({cell})" for v, cell in self.unused.items()))
        return out + self.notes


def resolve_names(wb, overrides: Mapping[str, str] | None = None, *, file=None):
    """The workbook with its variables renamed to lewie's internal (GAMS) names, and a `NameReport`.

    ``overrides`` maps lewie parameters to workbook variable names (the scenario's ``[workbook_names]``).
    Raises `lewie.sam.workbook.WorkbookError` for an unknown parameter or variable in ``overrides`` and
    for a required parameter (`REQUIRED`) the workbook does not hold.
    """
    from lewie.sam.workbook import WorkbookError
    overrides = dict(overrides or {})
    present: dict[str, str] = {}  # lower -> display spelling, variables with at least one value
    first_cell: dict[str, str] = {}
    for r in wb.data.itertuples(index=False):
        low = r.var.lower()
        present.setdefault(low, r.var)
        first_cell.setdefault(low, wb.cells.get((low, r.good.lower(), r.good2.lower(), r.factor.lower(),
                                                  r.household.lower()), ""))
    declared = {v.lower(): v for v in wb.variables} | present
    for p, name in overrides.items():
        if p not in NAMES:
            raise WorkbookError(f"unknown lewie parameter '{p}' in workbook_names{did_you_mean(p, NAMES)}; "
                                f"valid: {', '.join(NAMES)}", file=file, field=f"workbook_names.{p}", label=p)
        if str(name).lower() not in declared:
            raise WorkbookError(f"workbook_names.{p} = '{name}': the workbook has no variable '{name}'"
                                f"{did_you_mean(str(name), list(declared.values()))}", file=file,
                                field=f"workbook_names.{p}", label=str(name))
    report = NameReport()
    rename: dict[str, str] = {}  # workbook variable (lower) -> canonical
    for p, (canon, spellings, _) in NAMES.items():
        if p in overrides:
            found = str(overrides[p]).lower()
        else:
            found = next((s.lower() for s in spellings if s.lower() in present), None)
        if found is None or found not in present:
            if p in REQUIRED:
                raise WorkbookError(f"the workbook has no values for {p} ({NAMES[p][2]}): tried the variables "
                                    f"{', '.join(spellings)}{did_you_mean(canon, list(present.values()))}; name "
                                    f"the variable with [workbook_names] {p} = \"...\"", file=file or wb.path,
                                    field=f"workbook_names.{p}", label=canon)
            report.missing.append(p)
            continue
        if found in rename and rename[found] != canon:
            raise WorkbookError(f"workbook variable '{present[found]}' is named for two parameters", file=file,
                                field=f"workbook_names.{p}", label=present[found])
        rename[found] = canon
        report.used[p] = present[found]
    for low, disp in present.items():
        if low in rename:
            continue
        report.unused[disp] = first_cell.get(low, "")
        why = NOT_MODELLED.get(low)
        if why:
            report.notes.append(f"warning: {first_cell.get(low, '')}: workbook variable '{disp}' holds values but "
                                f"is not used: {why}")
    return wb.renamed(rename), report
