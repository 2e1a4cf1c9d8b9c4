"""Command line: ``lewie report RESULTS --out report.html`` and ``lewie export RESULTS --xlsx F / --csv DIR``.

Registered on the main group in `lewie.cli`; a missing file or one that is not lewie results is an
`InputError` naming the path (the CLI prints it as one line).
"""
from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import click

from .errors import InputError

if TYPE_CHECKING:  # imported where used: `lewie --help` does not need xarray
    import xarray as xr

REQUIRED = ("income", "real_income", "production", "cost", "beneficiary")


def load_for_report(path: Path) -> xr.Dataset:
    """Read a results file written by `lewie run` (or a Monte Carlo study) and check that it is one."""
    from .results import load_results
    path = Path(path)
    if not path.exists():
        raise InputError("results file not found", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a results file", file=path)
    try:
        ds = load_results(path)
    except InputError:
        raise
    except Exception as exc:  # xarray/h5netcdf raise many kinds for a file that is not netCDF
        raise InputError(f"not a lewie results file (cannot be read as netCDF: {type(exc).__name__})",
                         file=path) from exc
    missing = [v for v in REQUIRED if v not in ds] + [d for d in ("variant", "state", "household") if d not in ds.dims]
    if missing:
        raise InputError(f"not a lewie results file (no {', '.join(missing)}); write one with `lewie run`",
                         file=path)
    return ds


@click.command("report")
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="HTML file to write (default: RESULTS with the suffix .html).")
def report_cmd(results: Path, out: Path | None) -> None:
    """Write one self-contained HTML report (tables and figures) of a RESULTS netCDF file."""
    from .report_html import write_report
    ds = load_for_report(results)
    out = out or results.with_suffix(".html")
    write_report(ds, out)
    click.echo(f"report written to {out}")


@click.command("export")
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--xlsx", type=click.Path(path_type=Path), default=None, help="Workbook to write: one sheet per table.")
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path), default=None,
              help="Folder to write one CSV file per table into.")
def export_cmd(results: Path, xlsx: Path | None, csv_dir: Path | None) -> None:
    """Export tidy tables (multipliers, income, production, prices and wages, inequality, synergy,
    variance decomposition, provenance) of a RESULTS netCDF file to xlsx and/or csv."""
    from .export import export_csv, export_xlsx
    if xlsx is None and csv_dir is None:
        raise click.UsageError("give --xlsx FILE and/or --csv DIR")
    ds = load_for_report(results)
    if xlsx is not None:
        export_xlsx(ds, xlsx)
        click.echo(f"tables written to {xlsx}")
    if csv_dir is not None:
        files = export_csv(ds, csv_dir)
        click.echo(f"{len(files)} tables written to {csv_dir}")
