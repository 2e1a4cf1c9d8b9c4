"""``lewie sam export RESULTS --variant V --state simulated --draw 0 --out sam.csv``: the SAM of a
stored state, rebuilt from the results alone (`lewie.results.sam_export`). Registered on the ``sam`` group
in `lewie.cli.main`."""
from __future__ import annotations

from pathlib import Path

import click

from lewie.errors import InputError


def _parse_at(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        name, sep, val = v.partition("=")
        if not sep or not name.strip() or not val.strip():
            raise InputError(f"--at takes SWEEP=VALUE (e.g. labour_supply_elasticity=2), not {v!r}", field="--at",
                             label=v)
        out[name.strip()] = val.strip()
    return out


@click.command("export")
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--variant", default=None, help="Variant (default: the only one).")
@click.option("--state", type=click.Choice(["base", "simulated"]), default="simulated", show_default=True)
@click.option("--draw", type=int, default=0, show_default=True, help="Monte Carlo draw (0: the point estimates).")
@click.option("--at", "at", multiple=True, metavar="SWEEP=VALUE", help="Value of a sweep dim (with sweeps).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="SAM file to write (.csv or .xlsx).")
def sam_export_cmd(results: Path, variant: str | None, state: str, draw: int, at: tuple[str, ...], out: Path) -> None:
    """Write the SAM of a base or simulated state stored in RESULTS (no re-solve), in lewie's SAM format."""
    from lewie.sam.io import write_sam
    from lewie.cli.report_commands import load_for_report
    from lewie.results.sam_export import imbalance, sam_from_results
    ds = load_for_report(results)
    sam = sam_from_results(ds, variant=variant, state=state, draw=draw, at=_parse_at(at), file=results)
    write_sam(sam, out)
    gap = imbalance(sam).abs()
    scale = max(1.0, float(sam.to_numpy().max()))
    click.echo(f"{state} SAM: {len(sam)} accounts, total {sam.to_numpy().sum():,.2f} -> {out}")
    if float(gap.max()) > 1e-9 * scale:
        worst = gap.sort_values(ascending=False).head(3)
        click.echo("note: these accounts do not balance (the model's accounting leaves them a gap): "
                   + "; ".join(f"{a} {v:,.6g}" for a, v in worst.items()))
