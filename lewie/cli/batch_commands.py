"""Command line: ``lewie batch`` (scenarios × variants × draws on Dask) and ``lewie compare``.

Registered on the main group by `lewie.cli.main` (``cli.add_command(batch_cmd)``,
``cli.add_command(compare_cmd)``). Errors are lewie's errors (one message, non-zero exit).
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click


@click.command("batch")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--draws", type=int, default=None,
              help="Random draws per scenario (draws 0..N; 0 is the point estimates). Default: each scenario's "
                   "[montecarlo] draws.")
@click.option("--seed", type=int, default=None, help="Seed for every scenario (default: each scenario's own).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="Output folder: one <scenario>.nc per scenario, plus the batch manifest.")
@click.option("--chunk-size", type=int, default=None,
              help="Draws per chunk (a unit of work and of saving; default: at most 1000, evened out, at least "
                   "two chunks per worker; --resume: the batch's own). Results do not depend on it. A "
                   "scenario in one chunk is written by its worker, with nothing to merge.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Address of a running dask.distributed scheduler (default: a local cluster).")
@click.option("--workers", "n_workers", type=int, default=None,
              help="Worker processes of the local cluster (default: one per core).")
@click.option("--resume", is_flag=True, help="Continue the batch in --out: compute only the missing chunks.")
@click.option("--overwrite", is_flag=True, help="Start again in an --out folder that holds another batch.")
@click.option("--keep-chunks", is_flag=True, help="Keep the per-chunk files after merging.")
@click.option("--no-progress", is_flag=True, help="No progress line on stderr.")
@click.option("--yes", is_flag=True, help="Run even when the estimated time is very long.")
def batch_cmd(scenarios, draws, seed, out, chunk_size, scheduler, n_workers, resume, overwrite, keep_chunks,
              no_progress, yes) -> None:
    """Run every variant of every SCENARIOS file for draws 0..N on Dask, one netCDF file per scenario.

    Every file is validated first (a bad file stops the batch before any work). Each finished chunk
    of draws is saved at once; after an interruption, rerun the same command with --resume.
    """
    from lewie.runs.dask_batch import BatchInterrupted, run_batch
    from lewie.errors import LewieError
    from lewie.runs.estimate import RunTooLarge, announce
    for path in scenarios:  # long runs announce themselves (time measured on one process)
        try:
            announce(path, draws=draws, seed=seed, yes=yes)
        except RunTooLarge:
            raise
        except LewieError:
            pass  # a bad file: the batch's validation reports every bad file together

    try:
        outcome = run_batch(scenarios, out, draws=draws, seed=seed, chunk_size=chunk_size, scheduler=scheduler,
                            n_workers=n_workers, resume=resume, overwrite=overwrite, keep_chunks=keep_chunks,
                            progress=not no_progress)
    except BatchInterrupted as exc:
        args = [a for a in sys.argv[1:] if a not in ("--resume", "--overwrite")] + ["--resume"]
        click.echo(f"\n{exc}\n  lewie {shlex.join(args)}", err=True)
        raise click.exceptions.Exit(130) from None
    plan = outcome.plan
    n_sc, n_var = len(plan.scenarios), sum(len(sp.variants) for sp in plan.scenarios)
    rate = (f" ({outcome.draws_per_second:,.1f} draws/s while solving, {outcome.workers} workers)"
            if outcome.computed else "")
    click.echo(f"{n_sc} scenario{'s' * (n_sc != 1)}, {n_var} variant{'s' * (n_var != 1)}, draws 0..{plan.draws}: "
               f"{len(outcome.computed)} chunks solved, {len(outcome.reused)} reused, in {outcome.seconds:.1f} s{rate}")
    n_failed = n_total = 0
    for sp, path in zip(plan.scenarios, outcome.outputs):
        failed = f"  ({sp.failed[0]} of {sp.failed[1]} solves failed: see status and reason)" \
            if sp.failed and sp.failed[0] else ""
        if plan.draws > 0 and sp.uncertain is False:
            from lewie.results.uncertainty import NO_UNCERTAINTY
            failed += f"  ({NO_UNCERTAINTY})"
        click.echo(f"  {path}{failed}")
        if sp.failed:
            n_failed, n_total = n_failed + sp.failed[0], n_total + sp.failed[1]
    if n_failed:
        click.echo(f"error: {n_failed} of {n_total} solves failed (kept in the results with their status and "
                   "reason)", err=True)
        raise click.exceptions.Exit(1)


@click.command("compare")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("comparison.csv"), show_default=True,
              help="The comparison table (CSV): one row per study × variant.")
@click.option("--long", "long_out", type=click.Path(path_type=Path), default=None,
              help="The tidy long table (CSV; default: <out>_long.csv): study/variant/region/variable/unit/"
                   "statistic/value.")
@click.option("--xlsx", type=click.Path(path_type=Path), default=None,
              help="Also write both tables to an Excel workbook.")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Forest plot of the income multipliers with their bands (PNG, SVG or PDF).")
def compare_cmd(results, out, long_out, xlsx, plot) -> None:
    """Compare multipliers across RESULTS files (netCDF from `lewie run` or `lewie batch`).

    Multipliers are dimensionless, so studies in different currencies compare directly; levels
    (costs, income changes) carry their study's currency in the unit column.
    """
    from lewie.results.compare import compare, forest_plot, write_tables
    from lewie.files import check_writable
    long_out = long_out or out.with_name(f"{out.stem}_long.csv")
    for path, what in ((out, "comparison table"), (long_out, "long table"), (xlsx, "workbook"), (plot, "plot")):
        if path is not None:
            check_writable(path, what=what)
    table, long = compare(results)
    for path in write_tables(table, long, csv=out, long_csv=long_out, xlsx=xlsx):
        click.echo(f"written: {path}")
    if plot is not None:
        click.echo(f"written: {forest_plot(table, plot)}")
    click.echo(f"{len(table)} rows ({table['study'].nunique()} studies); {len(long)} long rows")


__all__ = ["batch_cmd", "compare_cmd"]
