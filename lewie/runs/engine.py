"""The one engine of every run: variants × sweep points × draws (a point run is draw 0) through one
path, `lewie.runs.montecarlo.MonteCarlo`:

    scenario → load, validate, calibrate, build (`lewie.runs.stages.Simulation`, base checked)
             → draws of the shares (`lewie.runs.sampling`) → recalibration of each draw (`lewie.model.recalibration`)
             → each variant's interventions combined once (`lewie.model.interventions.combine`) and applied
               to each draw's own base parameters
             → every member solved by the backend's `solve_batch` (`lewie.solvers`: native batched
               Newton, or IPOPT member by member), each checked by the one residual measure
               (`lewie.solvers.residuals`), a fixed sample re-checked by Pyomo (`lewie.runs.verify`)
             → one Dataset per chunk of draws (`lewie.results.dataset`), merged by `lewie.runs.chunks.merge_draws`.

`run` does it in memory; `run_to_folder` (what `lewie run` uses) keeps every chunk in a file of the
format `lewie batch` writes as soon as it is solved (`lewie.runs.dask_batch.write_chunk`: atomic, with its
SHA-256 beside it, `lewie.runs.chunk_files`), so an interrupted run keeps its finished chunks and
``resume=True`` computes only the missing ones; a saved chunk whose bytes no longer match its
checksum is computed again. The folder is locked while the run uses it (`lewie.runs.chunk_files.lock_output`).

What a run saves is what it would lose: the chunks solved in this process are kept in memory and
merged from there (the files are not read back); the last chunk of a fresh run is written only if
the run does not finish (interrupted, or an error while merging or writing the results) or
``keep_chunks`` asks for it, since it is merged and removed at once otherwise. A resumed run merges
its chunk files, as `lewie batch` does.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import xarray as xr

from lewie.runs.chunks import merge_draws
from lewie.runs.chunk_files import chunk_is_done, write_chunk
from lewie.runs.dask_batch import Progress, merge_chunks
from lewie.runs.batch_plan import CHUNK_DIR, Chunk, scenario_key
from lewie.errors import InputError
from lewie.runs.montecarlo import MonteCarlo, run_draws
from lewie.config.scenario import Scenario


def run(scenario: Scenario | str | Path, *, solver: str = "newton", variants: list[str] | None = None,
        draws: int | None = None, seed: int | None = None, chunk: int | None = None,
        draws_file: str | Path | None = None) -> xr.Dataset:
    """Load, validate, calibrate (checking the base), build, solve every variant of every draw and report.

    Draws 0..N are solved (``draws``: N, default the scenario's ``[montecarlo] draws``; draw 0 is the
    point estimates), ``chunk`` draws at a time; ``seed`` overrides the scenario's; ``draws_file``
    supplies the draws (see `lewie.runs.sampling.read_draws`). The Dataset has dims ``variant`` (the
    scenario's variants in file order; one variant 'all' when the scenario has no [variants]), the
    sweep dims (settings given as lists), ``draw`` (always, 0..N), ``state`` and the model's sets;
    ``status_code`` / ``status`` and ``reason`` say how each solve went (see `lewie.results.status`). With
    only the point estimates (N = 0) and no sweeps, a solve that fails raises `SolveError`.

    ``solver``: the backend (`lewie solvers`): ``"newton"`` (default, batched native) or ``"ipopt"``
    (member by member, slowly); both go through the same path.
    """
    return run_draws(scenario, draws=draws, seed=seed, chunk=chunk, draws_file=draws_file, variants=variants,
                     solver=solver)


PROGRESS_QUIET_SECONDS = 10.0  # a run's progress line goes to a non-terminal only once it has lasted this long


class RunInterrupted(KeyboardInterrupt):
    """A run was interrupted; every finished chunk of draws is on disk."""

    def __init__(self, saved: int, total: int, folder: Path):
        super().__init__(f"interrupted: {saved} of {total} chunks of draws are saved in {folder}; run the same "
                         "command with --resume to compute only the missing ones")
        self.saved, self.total, self.folder = saved, total, folder


class ChunkStore:
    """Chunk files of one run, in the format and layout of `lewie batch` (`lewie.runs.dask_batch.write_chunk`):
    ``<folder>/.chunks/<stem>-<key>/draws-<first>-<last>.nc``. The key covers the scenario and its
    data files (by content), the seed, N, the solver, the variants and the supplied draws, so a chunk
    is never reused for other inputs."""

    def __init__(self, folder: str | Path, stem: str, *, resume: bool = False, solver: str = "newton",
                 variants: list[str] | None = None, draws_file=None, progress: bool = True, stream=None,
                 keep_chunks: bool = False):
        self.folder, self.stem, self.resume, self.keep_chunks = Path(folder), stem, resume, keep_chunks
        self.progress, self.stream, self.bar = progress, stream, None
        self._done: set[tuple[int, int]] = set()
        self._memory: dict[tuple[int, int], xr.Dataset] = {}  # chunks solved here, in memory
        self._unsaved: set[tuple[int, int]] = set()  # solved here, not yet in a file (see `flush`)
        self._resumed = False
        self.extra = {"solver": solver, "variants": variants,
                      "draws_file": None if draws_file is None else str(draws_file)}
        if isinstance(draws_file, pd.DataFrame):
            raise InputError("chunk files need supplied draws in a file, not a table in memory")
        self.chunks: list[Chunk] = []

    def begin(self, mc: MonteCarlo, ranges: list[tuple[int, int]]) -> None:
        sc = mc.scenario
        blob = json.dumps({"scenario": scenario_key(sc, seed=sc.montecarlo.seed), **self.extra,
                           "draws_file_sha256": _sha256(self.extra["draws_file"])}, sort_keys=True)
        self.key = hashlib.sha256(blob.encode("utf-8")).hexdigest()
        self.chunks = [Chunk(self.stem, self.key, a, b) for a, b in ranges]
        self.dir = self.chunks[0].path(self.folder).parent
        if not self.resume:
            shutil.rmtree(self.dir, ignore_errors=True)  # a new run: start again
        # checked once: a chunk whose bytes do not match its checksum is removed and computed again
        self._done = {(c.first, c.last) for c in self.chunks if chunk_is_done(c, self.folder)}
        self._resumed = bool(self._done)
        todo = [c for c in self.chunks if (c.first, c.last) not in self._done]
        self._last = (todo[-1].first, todo[-1].last) if todo else None
        if todo:  # on a terminal at once; in a log only for a run that lasts (`Progress.quiet_for`)
            self.bar = Progress(len(self.chunks), sum(c.n_draws for c in todo), done_chunks=len(self._done),
                                stream=self.stream, enabled=self.progress and len(self.chunks) > 1, label="run",
                                quiet_for=PROGRESS_QUIET_SECONDS)
            self.bar.show(force=True)

    def done(self, first: int, last: int) -> bool:
        return (first, last) in self._done

    def save(self, ds: xr.Dataset, first: int, last: int) -> None:
        """A solved chunk: written to its file at once, except the last chunk of a fresh run without
        ``keep_chunks`` (kept in memory; `flush` writes it if the run does not finish)."""
        key = (first, last)
        if self._resumed or self.keep_chunks or key != self._last:
            write_chunk(ds, self._chunk(first, last), self.folder)
        else:
            self._unsaved.add(key)
        if not self._resumed:
            self._memory[key] = ds
        self._done.add(key)
        if self.bar is not None:
            self.bar.update(last - first + 1)

    def flush(self) -> None:
        """Write the chunks solved but not yet saved (a run that does not finish keeps them)."""
        for key in sorted(self._unsaved):
            write_chunk(self._memory[key], self._chunk(*key), self.folder)
            self._unsaved.discard(key)

    def merge(self) -> xr.Dataset:
        if not self._resumed and len(self._memory) == len(self.chunks):  # all solved here: no reading back
            merged = merge_draws([self._memory.pop((c.first, c.last)) if (c.first, c.last) not in self._unsaved
                                  else self._memory[(c.first, c.last)] for c in self.chunks])
            return merged  # the chunks are released, but for those `flush` may still have to write
        return merge_chunks([c.path(self.folder) for c in self.chunks])

    def saved(self) -> int:
        return sum(chunk_is_done(c, self.folder) for c in self.chunks)

    def end_line(self) -> None:
        """End a progress line drawn in place on a terminal (before a message)."""
        if self.bar is not None and self.bar.enabled and self.bar.tty and self.bar.done < self.bar.total:
            print(file=self.bar.stream, flush=True)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            (self.folder / CHUNK_DIR).rmdir()  # only when no other run keeps chunks there
        except OSError:
            pass

    def _chunk(self, first: int, last: int) -> Chunk:
        return next(c for c in self.chunks if (c.first, c.last) == (first, last))


def _flush(store: ChunkStore) -> None:
    """`ChunkStore.flush` on the way out of a run that did not finish; a chunk that cannot be written
    (a full disk, say) is lost, and the error that stopped the run is the one reported."""
    try:
        store.flush()
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - the run's own error matters more
        import logging
        logging.getLogger("lewie").warning("a solved chunk of draws could not be saved: %s", exc)


def _sha256(path) -> str:
    if path is None:
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def run_to_folder(scenario: Scenario | str | Path, folder: str | Path, *, stem: str, resume: bool = False,
                  keep_chunks: bool = False, solver: str = "newton", variants: list[str] | None = None,
                  draws: int | None = None, seed: int | None = None, chunk: int | None = None,
                  draws_file: str | Path | None = None, save_to: str | Path | None = None, progress: bool = True,
                  stream=None) -> xr.Dataset:
    """`run`, keeping each chunk of draws in a file under ``folder`` as soon as it is solved (the
    chunk files of `lewie batch`, with their checksums); the results are the merged chunk files.
    Interrupted (Ctrl-C), it raises `RunInterrupted` with the chunks saved; ``resume=True`` reuses
    them (a damaged one is computed again). The chunk files are removed once merged unless
    ``keep_chunks``; ``save_to``: the results file they are also written to (before the folder's lock
    is released; default ``<folder>/<stem>.nc`` names the lock). The folder is locked for the run (`lewie.runs.chunk_files.lock_output`: a
    batch there, or another run writing the same results, is refused). ``progress``: a progress line
    on ``stream`` (stderr) for a run of several chunks (see `lewie.runs.dask_batch.Progress`)."""
    from lewie.runs.chunk_files import lock_output
    store = ChunkStore(folder, stem, resume=resume, solver=solver, variants=variants, draws_file=draws_file,
                       progress=progress, stream=stream, keep_chunks=keep_chunks)
    with lock_output(Path(save_to) if save_to is not None else Path(folder) / f"{stem}.nc"):
        try:
            ds = run_draws(scenario, draws=draws, seed=seed, chunk=chunk, draws_file=draws_file, variants=variants,
                           solver=solver, store=store)
            if save_to is not None:
                from lewie.results.dataset import save_results
                save_results(ds, save_to)
        except KeyboardInterrupt:
            if not store.chunks:
                raise
            _flush(store)
            store.end_line()
            raise RunInterrupted(store.saved(), len(store.chunks), store.dir) from None
        except BaseException:
            _flush(store)  # what was solved is kept, as the chunks written before it
            raise
        if not keep_chunks:
            store.remove()
    return ds


__all__ = ["run", "run_to_folder", "ChunkStore", "RunInterrupted"]
