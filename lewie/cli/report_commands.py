"""Command line: ``lewie report RESULTS --out report.html`` and ``lewie export RESULTS --xlsx F / --csv DIR /
--dta DIR``.

Registered on the main group in `lewie.cli.main`; a missing file or one that is not lewie results is an
`InputError` naming the path (the CLI prints it as one line).
"""
from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported where used: `lewie --help` does not need xarray
    import xarray as xr

REQUIRED = ("income", "real_income", "production", "cost", "beneficiary")


def load_for_report(path: Path) -> xr.Dataset:
    """Read a results file written by `lewie run` (or a Monte Carlo study) and check that it is one."""
    from lewie.files import load_lewie_results
    return load_lewie_results(path, required=REQUIRED)


@click.command("report")
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="HTML file to write (default: RESULTS with the suffix .html).")
def report_cmd(results: Path, out: Path | None) -> None:
    """Write one self-contained HTML report (tables and figures) of a RESULTS netCDF file."""
    from lewie.files import check_writable
    from lewie.report.html_report import write_report
    out = out or results.with_suffix(".html")
    check_writable(out, what="report")
    ds = load_for_report(results)
    write_report(ds, out)
    click.echo(f"report written to {out}")


@click.command("export")
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--xlsx", type=click.Path(path_type=Path), default=None, help="Workbook to write: one sheet per table.")
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path), default=None,
              help="Folder to write one CSV file per table into.")
@click.option("--dta", "dta_dir", type=click.Path(path_type=Path), default=None,
              help="Folder to write one Stata .dta file per tidy table into.")
@click.option("--autoout", type=click.Path(path_type=Path), default=None,
              help="Workbook of the tables a GAMS LEWIE writes to its AutoOut (lewie.results.autoout).")
@click.option("--exclude-draws", default="", help="AutoOut: draws to leave out, e.g. 101 or 46,101.")
def export_cmd(results: Path, xlsx: Path | None, csv_dir: Path | None, dta_dir: Path | None,
               autoout: Path | None = None, exclude_draws: str = "") -> None:
    """Export tables of a RESULTS netCDF file: to xlsx, paper tables (multipliers, income by household
    group, production, prices: formatted, wide, with bands) and the tidy tables (multipliers, income,
    production, prices and wages, inequality, synergy, variance decomposition, provenance); the tidy
    tables also to csv and/or Stata; and/or the GAMS AutoOut tables (--autoout)."""
    from lewie.results.export import export_csv, export_dta
    from lewie.results.paper_tables import export_xlsx
    if xlsx is None and csv_dir is None and dta_dir is None and autoout is None:
        raise click.UsageError("give --xlsx FILE, --csv DIR, --dta DIR and/or --autoout FILE")
    from lewie.files import check_writable, check_writable_folder
    if xlsx is not None:
        check_writable(xlsx, what="workbook")
    if autoout is not None:
        check_writable(autoout, what="AutoOut workbook")
    if csv_dir is not None:
        check_writable_folder(csv_dir, what="CSV folder")
    if dta_dir is not None:
        check_writable_folder(dta_dir, what="Stata folder")
    ds = load_for_report(results)
    if autoout is not None:
        from lewie.results.autoout import write_autoout
        try:
            excl = [int(x) for x in exclude_draws.replace(" ", "").split(",") if x]
        except ValueError:
            raise click.UsageError(f"--exclude-draws: '{exclude_draws}' is not a list of draw numbers") from None
        write_autoout(ds, autoout, exclude_draws=excl)
        click.echo(f"AutoOut tables written to {autoout}")
    if xlsx is not None:
        export_xlsx(ds, xlsx)
        click.echo(f"tables written to {xlsx}")
    if csv_dir is not None:
        files = export_csv(ds, csv_dir)
        click.echo(f"{len(files)} tables written to {csv_dir}")
    if dta_dir is not None:
        files = export_dta(ds, dta_dir)
        click.echo(f"{len(files)} Stata tables written to {dta_dir}")
