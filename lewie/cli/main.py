"""Command line: ``lewie run``, ``lewie solvers``, ``lewie equations``, ``lewie sam ...``.

Errors print one clear message and exit non-zero; ``--debug`` shows the traceback.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from lewie.errors import LewieError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.version_option(package_name="lewie")
def cli(debug: bool) -> None:
    """lewie: local economy-wide impact evaluation."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@cli.command("run")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="netCDF file for the results (default: results/<scenario>.nc).")
@click.option("--solver", default="newton", show_default=True, help="Solver backend (see `lewie solvers`).")
@click.option("--draws", type=int, default=None,
              help="Monte Carlo draws 1..N besides the point estimates (draw 0); default: the scenario's "
                   "[montecarlo] draws.")
@click.option("--seed", type=int, default=None, help="Seed of the draws; default: the scenario's [montecarlo] seed.")
@click.option("--draws-file", type=click.Path(path_type=Path), default=None,
              help="Draws supplied from elsewhere (CSV or netCDF, draw × parameter), used instead of lewie's.")
@click.option("--chunk", type=int, default=None, help="Draws solved per batch (results do not depend on it).")
@click.option("--resume", is_flag=True,
              help="Reuse the chunks of draws an interrupted run of the same command saved (next to --out).")
@click.option("--keep-chunks", is_flag=True, help="Keep the chunk files once merged.")
@click.option("--yes", is_flag=True, help="Run even when the estimated time is very long (see 'Long runs' in the README).")
@click.option("--no-progress", is_flag=True,
              help="No progress line on stderr (shown on a terminal, or in a log once a run lasts 10 s).")
def run_cmd(scenario: Path, out: Path | None, solver: str, draws: int | None, seed: int | None,
            draws_file: Path | None, chunk: int | None, resume: bool, keep_chunks: bool, yes: bool,
            no_progress: bool = False) -> None:
    """Calibrate, shock and solve SCENARIO (and its Monte Carlo draws); write the results and print a summary.

    Each chunk of draws is saved as soon as it is solved (the chunk files of `lewie batch`, under
    .chunks/ beside the results; the last one only if the run stops before its results are written);
    after an interruption, rerun the same command with --resume.
    Exits 1 when a solve failed (the results are written, with each failure's status and reason).
    """
    import shlex
    from lewie.runs.engine import RunInterrupted, run_to_folder
    from lewie.files import check_readable, check_writable
    from lewie.report.text_summary import summary
    check_readable(scenario, what="scenario file")
    out = out or Path("results") / f"{scenario.stem}.nc"
    check_writable(out, what="results file")  # before any solving: a run must not be lost at the end
    if solver == "newton":
        from lewie.runs.estimate import announce
        announce(scenario, draws=draws, seed=seed, draws_file=draws_file, yes=yes)
    try:  # the results are written inside the folder's lock
        ds = run_to_folder(scenario, out.parent, stem=out.stem, resume=resume, keep_chunks=keep_chunks,
                           solver=solver, draws=draws, seed=seed, draws_file=draws_file, chunk=chunk, save_to=out,
                           progress=not no_progress)
    except RunInterrupted as exc:
        args = [a for a in sys.argv[1:] if a != "--resume"] + ["--resume"]
        click.echo(f"\n{exc}\n  lewie {shlex.join(args)}", err=True)
        raise click.exceptions.Exit(130) from None
    click.echo(summary(ds))
    click.echo(f"\nresults written to {out}")
    failed, total = failed_solves(ds)
    if failed:
        click.echo(f"error: {failed} of {total} solves failed (kept in {out} with their status and reason)",
                   err=True)
        raise click.exceptions.Exit(1)


def failed_solves(ds) -> tuple[int, int]:
    """How many of a results Dataset's solves did not converge, and how many there are."""
    if "status" not in ds:
        return 0, 0
    status = ds["status"].astype(str)
    return int((status != "converged").sum()), int(status.size)


@cli.command("solvers")
def solvers_cmd() -> None:
    """List solver backends: name, version, capabilities, and why one is unavailable."""
    from lewie.solvers import registry
    for info in registry():
        mark = "yes" if info.available else "no "
        caps = ", ".join(info.capabilities)
        click.echo(f"{info.name:8s} available: {mark}  version: {info.version or '-'}  capabilities: {caps or '-'}")
        if info.reason:
            click.echo(f"{'':8s} {info.reason}")


@cli.command("equations")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["markdown", "latex"]), default="markdown", show_default=True)
def equations_cmd(scenario: Path, fmt: str) -> None:
    """Print the equations of SCENARIO's model, generated from the Pyomo model."""
    from lewie.model.equations import describe_equations
    from lewie.runs.stages import Simulation
    sim = Simulation(scenario).load().validate().calibrate().build()
    click.echo(describe_equations(sim.model, fmt=fmt))


def _split(values: tuple[str, ...]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


@click.command("from-workbook")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for sam.csv, parameters.csv and calibration.log.")
@click.option("--village", "villages", multiple=True, metavar="NAME=H1,H2",
              help="Household groups of a village (repeat per village; default: one village with all groups).")
@click.option("--fixed", multiple=True, required=True, help="Fixed, activity-specific factors (e.g. Land,Capital).")
@click.option("--labour", multiple=True, required=True, help="Factors households supply (e.g. Labor).")
@click.option("--inputs", multiple=True, default=(), help="Purchased-input factors bought outside (e.g. Input).")
@click.option("--gams-compat", is_flag=True, help="Accept what the GAMS code accepts (recorded in the log).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--index", default="Index", show_default=True,
              help="The workbook's index sheet (e.g. Index_divided or Index_divided!A2).")
def from_workbook_cmd(workbook, out_dir, villages, fixed, labour, inputs, gams_compat, fmt, index="Index") -> None:
    """Calibrate a GAMS LEWIE input WORKBOOK; write its SAM and parameter table."""
    from lewie.errors import InputError
    from lewie.files import check_writable_folder, write_text_atomic
    from lewie.sam.io import write_sam
    from lewie.sam.workbook import read_workbook, write_parameters
    from lewie.sam.workbook_calibration import calibrate_workbook
    from lewie.sam.workbook_names import resolve_names
    check_writable_folder(out_dir, what="output folder")  # before the work
    wb, names = resolve_names(read_workbook(workbook, index=index))
    vmap: dict[str, list[str]] = {}
    for spec in villages:
        if "=" not in spec:
            raise InputError(f"--village takes NAME=H1,H2, not {spec!r}")
        name, members = spec.split("=", 1)
        vmap[name.strip()] = _split((members,))
    if not vmap:
        vmap = {"village": list(wb.households)}
    econ = calibrate_workbook(wb, villages=vmap, fixed_factors=_split(fixed), labour_factors=_split(labour),
                              input_factors=_split(inputs), gams_compat=gams_compat)
    out_dir.mkdir(parents=True, exist_ok=True)
    sam_path = write_sam(econ.sam, out_dir / f"sam.{fmt}")
    par_path = write_parameters(econ.parameters, out_dir / f"parameters.{fmt}")
    econ.log[:0] = list(wb.skipped) + names.lines()
    write_text_atomic(out_dir / "calibration.log", "\n".join(econ.log) + "\n", what="calibration log")
    click.echo(f"SAM: {len(econ.sam)} accounts, total {econ.sam.to_numpy().sum():,.2f} -> {sam_path}")
    click.echo(f"parameter table: {len(econ.parameters)} rows -> {par_path}")
    for line in econ.log:
        click.echo(f"  note: {line}")


def _register_sam_group() -> None:
    try:
        from lewie.cli.sam_commands import sam as sam_group
    except ImportError:  # pragma: no cover - the SAM toolkit is part of the package
        return
    sam_group.add_command(from_workbook_cmd)
    from lewie.cli.sam_export_command import sam_export_cmd
    sam_group.add_command(sam_export_cmd)
    cli.add_command(sam_group)


_register_sam_group()


from lewie.cli.report_commands import export_cmd, report_cmd  # noqa: E402

from lewie.cli.batch_commands import batch_cmd, compare_cmd  # noqa: E402

cli.add_command(report_cmd)
cli.add_command(export_cmd)
cli.add_command(batch_cmd)
cli.add_command(compare_cmd)

from lewie.cli.params_commands import params_group  # noqa: E402

cli.add_command(params_group)


EXIT_OK, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 130
RUN_IMPORTS = ("lewie.runs.engine", "lewie.report.text_summary", "lewie.runs.estimate")  # what `lewie run` imports


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning lewie's errors into one message and an exit code.

    Exit codes: 0 success; 1 a user error (bad input, a file that cannot be read or written) or a run
    in which solves failed (their count is printed); 2 an internal error (a bug: please report it);
    130 interrupted (Ctrl-C). A command's ``ctx.exit(n)`` exits with ``n``. Returns normally on success.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if next((a for a in args if not a.startswith("-")), None) == "run":  # a run imports the scientific stack: imported once, out of the collector's way
        from lewie.lazy_imports import import_frozen
        import_frozen(*RUN_IMPORTS)
    rc = run_main(argv)
    if rc != EXIT_OK:
        sys.exit(rc)


def run_main(argv: list[str] | None = None) -> int:
    """`main` without the final ``sys.exit``: returns the exit code (for tests and embedding)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        rc = cli.main(args=args, prog_name="lewie", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        msg = str(exc) if isinstance(exc, KeyboardInterrupt) and str(exc) else "interrupted"
        click.echo(f"\n{msg}", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except LewieError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    except OSError as exc:  # a file error that escaped the helpers of lewie.files: still the user's file
        if debug:
            raise
        from lewie.files import os_error
        where = exc.filename if exc.filename is not None else "a file"
        click.echo(f"error: {os_error(exc, where, 'read or write it')}", err=True)
        return EXIT_ERROR
    except Exception as exc:  # an internal error: still one line unless --debug
        if debug:
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        return EXIT_INTERNAL
    # standalone_mode=False: click returns a command's ctx.exit(n) code instead of exiting
    return int(rc) if isinstance(rc, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    main()
