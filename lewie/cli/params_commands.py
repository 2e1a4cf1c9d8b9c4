"""``lewie params template SAM --scenario S.toml --out parameters.csv``: a parameter table to fill in
(`lewie.runs.parameter_template`; the format: docs/parameters.md)."""
from __future__ import annotations

from pathlib import Path

import click


@click.group("params")
def params_group() -> None:
    """Parameter tables (point estimates and standard errors of the drawn shares)."""


@params_group.command("template")
@click.argument("sam", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), required=True,
              help="Scenario whose villages and markets define the economy (its 'sam' is replaced by SAM).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Table to write (.csv or .xlsx).")
def template_cmd(sam: Path, scenario: Path, out: Path) -> None:
    """Write the parameter table of SAM: every drawable entry with the SAM's value and an empty se."""
    from lewie.errors import InputError
    from lewie.sam.workbook import write_parameters
    from lewie.runs.parameter_template import template
    if not sam.exists():
        raise InputError("SAM file not found", file=sam)
    table = template(scenario, sam)
    write_parameters(table, out)
    n = int((table["parameter"] != "household_count").sum())
    click.echo(f"parameter table: {n} entries with the SAM's values and empty standard errors -> {out}\n"
               "fill in 'se' for the shares you estimated (see docs/parameters.md), then set "
               f"parameters = \"{out.name}\" in the scenario")
