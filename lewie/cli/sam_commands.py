"""``lewie sam ...``: check and balance SAM files from the command line.

The group is `sam`; the main lewie CLI adds it as a subcommand.  User errors are raised as
`lewie.errors.LewieError` subclasses, which the main CLI prints without a traceback.
"""
from __future__ import annotations

from pathlib import Path

import click

from lewie.errors import InputError, SAMError


METHODS = ("ras", "cross-entropy")


@click.group(name="sam")
def sam() -> None:
    """Check and balance social accounting matrices (CSV or XLSX)."""


@sam.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--tol", type=float, default=1e-9, show_default=True,
              help="Relative tolerance of the balance check: |receipts - payments| may be at "
                   "most tol x max(1, gross flow of the account).")
@click.pass_context
def check_cmd(ctx: click.Context, file: Path, tol: float) -> None:
    """Check FILE: balance, negative cells, missing values and model structure.

    Prints the problems worst first and exits with status 1 if there are errors.
    """
    from lewie.sam.check import check_sam
    from lewie.sam.io import read_sam
    report = check_sam(read_sam(file), tol=tol, file=file)
    if report.problems:
        click.echo(report.format())
    if not report.ok:
        ctx.exit(1)
    click.echo(f"SAM OK: {report.accounts} accounts, total {report.total:,.2f}")


def _parse_cells(values: tuple[str, ...]) -> list[tuple[str, str]]:
    cells = []
    for v in values:
        parts = [p.strip() for p in v.split(",")]
        if len(parts) != 2 or not all(parts):
            raise InputError(f"'{v}' should be ROW,COLUMN (two account labels separated by a comma)",
                             field="--fix-cell", label=v)
        cells.append((parts[0], parts[1]))
    return cells


def _parse_totals(values: tuple[str, ...]) -> dict[str, float]:
    totals = {}
    for v in values:
        name, sep, num = v.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            totals[name.strip()] = float(num)
        except ValueError:
            raise InputError(f"'{v}' should be ACCOUNT=VALUE, e.g. hh:eligible=4800",
                             field="--fix-total", label=v) from None
    return totals


@sam.command("balance")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--method", type=click.Choice(METHODS), required=True,
              help="ras: biproportional scaling (GRAS for negatives), no totals fixed; "
                   "cross-entropy: keep column coefficients as close as possible to the data.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Where to write the balanced SAM (.csv or .xlsx).")
@click.option("--fix-cell", "fix_cell", multiple=True, metavar="ROW,COL",
              help="Keep this cell at its value (cross-entropy only; repeatable).")
@click.option("--fix-total", "fix_total", multiple=True, metavar="ACCOUNT=VALUE",
              help="Fix this account's total (cross-entropy only; repeatable).")
def balance_cmd(file: Path, method: str, out: Path, fix_cell: tuple[str, ...],
                fix_total: tuple[str, ...]) -> None:
    """Balance FILE so that every account's receipts equal its payments; write it to --out."""
    from lewie.files import check_writable

    from lewie.sam.balance import cross_entropy, ras
    from lewie.sam.io import read_sam, write_sam
    cells = _parse_cells(fix_cell)
    totals = _parse_totals(fix_total)
    check_writable(out, what="balanced SAM")  # before the work
    data = read_sam(file)
    if method == "ras":
        if cells or totals:
            raise InputError("--fix-cell and --fix-total work only with --method cross-entropy",
                             field="--method")
        result = ras(data)
    else:
        result = cross_entropy(data, fixed_cells=cells, fixed_totals=totals)
    if not result.converged:
        raise SAMError(f"balancing did not converge ({result.method}, {result.iterations} "
                       f"iterations, largest relative gap {result.max_gap:.3g}); nothing written",
                       file=file)
    write_sam(result.sam, out)
    click.echo(result.summary())
    click.echo(f"wrote {out}")
