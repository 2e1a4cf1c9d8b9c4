"""Batches of scenarios × variants × draws on Dask (dask.distributed), resumable chunk by chunk.

``run_batch(files, out, draws=N)`` runs every variant of every scenario for draws 0..N:

1. **Plan**: every scenario file is validated, its economy read and calibrated and its
   interventions resolved (`lewie.runs.batch_plan.plan_batch`), so a bad file stops the batch naming
   the file, and nothing is written to the output folder before every file is valid. The draws of
   each scenario are split into chunks of ``chunk_size`` draws (default `default_chunk_size`: as few
   chunks as keep the workers busy, since each chunk has a fixed cost). A chunk is identified by the
   scenario's *content key* (a hash of the validated scenario, the paths and bytes of its data files,
   the seed, the number of draws and the lewie version: see `scenario_key`) and its draw range, so a
   chunk file is never reused for different inputs. Once every file is valid and the cluster is
   reached, the plan is written to ``out/lewie-batch.json`` (the manifest).
2. **Solve**: each chunk is a Dask task (`solve_chunk`) that builds the scenario from the client's
   calibrated `lewie.runs.stages.Simulation` (the economy is read and calibrated once, by the
   validation) and solves its draws with the batched native solver. With a client given, a
   scenario's chunks are submitted as soon as it is validated, so the workers solve while the client
   validates the next files. Once every file is valid the client locks the folder and writes the
   manifest naming the batch's run (`start`); a chunk solved after that writes its netCDF file itself,
   atomically (a temporary file renamed into place), under ``out/.chunks/`` (`batch_started`); one
   solved before stays in its worker's memory until a second task there (`write_result`) writes it.
   Nothing is written if a file is invalid. The client only tracks completion
   and shows progress (chunks done, draws per second, time left) on stderr. A worker that dies has
   its chunks recomputed on the others by the scheduler; a task that raises is retried
   (``retries``). A worker builds and compiles each scenario once and keeps it for its next chunks;
   placement and order: `_Tasks`.
3. **Merge**: as soon as a scenario's last chunk is done, its chunks are concatenated along
   ``draw`` into ``out/<scenario>.nc`` (all its variants and draws), written atomically; the chunk
   files are removed at the end (``keep_chunks`` keeps them). Each chunk file is read once (its
   checksum and its contents from the same bytes) and concatenated one array per variable
   (`lewie.runs.chunks.merge_draws`), so the client's merge costs little beside the workers' solving.
   A scenario whose draws are one chunk (`default_chunk_size`: the usual case for a batch of several
   scenarios) is one task whose worker writes ``out/<scenario>.nc`` itself (`write_final`: the same
   bytes as the merge of its chunk file), and no chunk file: the client merges nothing.

Where a batch's time went, and why (benchmarks/batch_scaling.py): the client's merges and the chunk
files written, checksummed and read back (for 16 scenarios of 401 draws, a third as much again as the
solving, and serial on the client) made one worker +43% slower than in-process and two workers only
1.35× faster than one; scenarios as whole tasks took that away. Chunks of 50 draws cost about as
much in per-chunk fixed costs as in solving; the Dask nanny's ``MALLOC_TRIM_THRESHOLD_`` made the
workers spend half as much time again in the kernel (`_allocator_defaults`); xarray's reader and
concat cost more per chunk file than the bytes did. The client's validation (reading and calibrating
every economy: 0.4 s for the bundled library, then 0.15 s) was serial before any solve, and the
workers read and calibrated every economy again: now they solve from the client's calibration while
it validates the next files. What remains on 2 cores: the client's CPU (validation and Dask's own
work, ~0.3 s for 16 scenarios) shares the cores with two workers but runs beside one worker on the
idle core, so 1 → 2 workers is at most about 2 / (1 + client CPU / workers' CPU). Two workers free
to move between the cores spent ~8% more CPU in their chunks than one: the client's work moved them
off the core whose caches held their arrays (`pin_workers` binds each to a core); the disk writes of
a benchmark's earlier runs slowed its later ones (benchmarks/batch_scaling.py removes them at once).

``resume=True`` checks that the manifest describes the same batch (else a clear error), keeps every
scenario's results file already written for it (`_final_is_done`: it opens, with this batch's
content key and draws; it is written atomically) and every chunk file already written (checked by
its checksum and by opening it), and computes only the missing ones. Draw d's
result depends only on the scenario, the seed and d (each draw has its own random stream), so the
merged results are identical whatever the number of workers and the chunk size.

Local by default (a `LocalCluster` of one single-threaded worker process per core); pass the
address of an existing scheduler (``tcp://host:8786``) to use a cluster of several machines
(docs/batch.md). Scripts that start a local cluster need an ``if __name__ == "__main__":`` guard.
"""
from __future__ import annotations

import logging
import math
import multiprocessing
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from lewie.version import __version__
from lewie.runs.batch_plan import (CHUNK_DIR, MANIFEST, BatchPlan, Chunk, ScenarioPlan,
                                   manifest_differences, plan_batch, read_manifest, write_manifest)
from lewie.runs.chunk_files import CHUNK_ATTR, chunk_is_done, read_chunk, write_checked_bytes, write_chunk
from lewie.runs.chunks import merge_draws
from lewie.errors import InputError, LewieError
from lewie.config.scenario import Scenario

log = logging.getLogger("lewie.runs.dask_batch")

CONNECT_TIMEOUT = 3.0  # seconds to reach an existing scheduler
WORKER_WAIT = 60.0  # seconds to wait for the first worker of an existing cluster

SolveFn = Callable[..., xr.Dataset]


# ------------------------------------------------------------------------------------------------
# one chunk (runs on a worker)
# ------------------------------------------------------------------------------------------------
_SOLVERS: dict[str, object] = {}  # per worker process: content key -> lewie.runs.montecarlo.MonteCarlo
_SOLVERS_KEPT = 4
_SOLVE_LOCK = threading.Lock()  # Pyomo model building and the compiled system's state are not thread-safe


_PINNED = []  # this process has limited BLAS to one thread (see setup_worker)


def setup_worker() -> None:
    """Set a worker process up for solving, once (a local cluster's workers as the cluster starts,
    `dask_client`; any other worker on its first chunk): one BLAS thread (a batch's parallelism is its worker
    processes, one per core, and BLAS threads on top of them only compete for the same cores), and
    the C allocator's own defaults back (`_allocator_defaults`), and in a worker process of its own the
    solver's imports done with the garbage collector paused and then frozen out of its reach
    (`lewie.lazy_imports.import_frozen`, as the `lewie run` command does)."""
    if not _PINNED:
        if multiprocessing.parent_process() is not None:  # a worker process of its own (not a threads-only
            # cluster inside the user's session): its solving imports, out of the collector's way, as `lewie run`
            from lewie.lazy_imports import import_frozen
            import_frozen("lewie.runs.montecarlo", "lewie.results.dataset")
        from lewie.solvers.threads import pin_blas_threads
        pin_blas_threads()  # after the imports: every BLAS they load is limited
        _allocator_defaults()
        _PINNED.append(os.getpid())


def pin_workers(client) -> dict[str, int]:
    """Bind each worker process of a local cluster to a CPU of its own (of those this process may use),
    when there are at least as many CPUs as workers (Linux). A single-threaded worker solving full
    time gains from staying on one core: the client's own work (validation, scheduling) then
    interrupts a worker without moving it off the core whose caches hold its arrays (2 workers on 2
    cores: batches ~3% faster, benchmarks/batch_scaling.py). A worker that replaces a lost one is not
    bound. Returns worker address -> CPU."""
    if not hasattr(os, "sched_getaffinity"):
        return {}
    cpus = sorted(os.sched_getaffinity(0))
    workers = sorted(client.scheduler_info()["workers"])
    if not workers or len(workers) > len(cpus):
        return {}
    bound = {}
    for w, cpu in zip(workers, cpus):
        if client.run(_bind_process, cpu, workers=[w]).get(w):
            bound[w] = cpu
    return bound


def _bind_process(cpu: int) -> bool:
    """On a worker: bind every thread of this process to ``cpu`` (threads started later inherit it from
    the thread that starts them). Not in a worker that shares the client's process."""
    if multiprocessing.parent_process() is None or not hasattr(os, "sched_setaffinity"):
        return False
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:  # a thread that has just ended
            pass
    return True


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def _allocator_defaults() -> bool:
    """Undo, in this process, the ``MALLOC_TRIM_THRESHOLD_=65536`` a Dask nanny puts in its worker's
    environment (``distributed.nanny.pre-spawn-environ``).

    Setting it also freezes glibc's mmap threshold at 128 kB, so every array of the solver larger
    than that is mapped and unmapped by the kernel on each allocation, its pages faulted in again:
    it made a worker spend half as much time again in the kernel as solving (system time 1.6 s for
    3 s of user time, benchmarks/batch_scaling.py). The thresholds are set to where glibc's own
    dynamic ones end up (mmap 32 MB, trim 64 MB). A local cluster's workers do not get the variable
    at all (`worker_settings`); this covers workers started by ``dask worker``. Returns whether
    it changed anything (glibc only)."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 64 << 20))
    except (OSError, AttributeError):  # not glibc
        return False


def _default_solve(work, first: int, last: int, *, key: str | None = None) -> xr.Dataset:
    """`lewie.runs.montecarlo.MonteCarlo` of ``work`` (a calibrated `lewie.runs.stages.Simulation`, as
    the client's validation made it, or a scenario), solving draws ``first``..``last``; the prepared
    `MonteCarlo` (built, compiled) is kept in the worker under ``key`` for the scenario's next chunks,
    as `lewie.runs.montecarlo.run_draws` keeps it between its chunks. One chunk at a time per process: a
    worker with several threads solves them in turn (start workers with one thread each,
    ``dask worker --nthreads 1 --nworkers N``, for parallelism)."""
    from lewie.runs.montecarlo import MonteCarlo
    setup_worker()
    with _SOLVE_LOCK:
        if key is None:
            return MonteCarlo(work).solve(first, last)
        mc = _SOLVERS.pop(key, None) or MonteCarlo(work)
        _SOLVERS[key] = mc  # most recently used last
        while len(_SOLVERS) > _SOLVERS_KEPT:
            _SOLVERS.pop(next(iter(_SOLVERS)))
        return _solve_range(mc, first, last)


def _solve_range(mc, first: int, last: int) -> xr.Dataset:
    """Draws ``first``..``last``, solved at most `lewie.runs.montecarlo.default_chunk` draws at a time
    (the memory bound of `lewie run`; a large economy's chunk of draws is solved in parts), merged in
    memory by `merge_draws` (as `lewie.runs.montecarlo.run_draws` does)."""
    from lewie.runs.montecarlo import default_chunk
    size = default_chunk(mc)
    if last - first + 1 <= size:
        return mc.solve(first, last)
    return merge_draws([mc.solve(a, min(a + size - 1, last)) for a in range(first, last + 1, size)])


def solve_chunk(scenario: Scenario, chunk: Chunk, solve: SolveFn | None = None, *, simulation=None,
                out: str | None = None, run: str | None = None, final: bool = False):
    """On a worker: solve one chunk's draws, every variant, and write them (`write_result`) if the batch
    has started (``out``'s manifest names the batch's ``run``: every scenario file is valid and the
    folder is the batch's, `batch_started`). Else (the client still validating, or no ``out``) the
    results stay in the worker's memory: returns ``(results, report)``, which the client has written
    on this worker once it may (`write_result` as a task of its own).

    ``simulation``: the scenario calibrated by the client's validation (`lewie.runs.batch_plan.plan_batch`),
    which the worker builds from instead of reading and calibrating the economy again; ``solve``
    replaces `lewie.runs.montecarlo.MonteCarlo` (called with the scenario and the draw range). The
    report: seconds, CPU seconds, when it started (``time.time()``), worker pid, whether it built the
    scenario (and `write_result`'s)."""
    started, t0, c0 = time.time(), time.perf_counter(), time.thread_time()
    built = solve is None and chunk.key not in _SOLVERS  # this worker builds the scenario for this chunk
    if solve is None:
        ds = _default_solve(simulation if simulation is not None else scenario, chunk.first, chunk.last,
                            key=chunk.key)
    else:
        ds = solve(scenario, chunk.first, chunk.last)
    report = {"ident": chunk.ident, "draws": chunk.n_draws, "started": started,
              "solve_seconds": time.perf_counter() - t0, "solve_cpu": time.thread_time() - c0, "pid": os.getpid(),
              "built": built}
    if out is not None and run is not None and batch_started(out, run):
        return write_result((ds, report), chunk, out, final=final)
    return ds, report


_STARTED: set[str] = set()  # per worker process: the runs found started (`batch_started`)


def batch_started(out: str | Path, run: str) -> bool:
    """Whether the batch ``run`` may write to ``out``: its client has validated every scenario file,
    locked the folder and written the manifest naming the run (`start`). Read from the manifest, a
    file (the output folder is shared by the client and the workers), once per worker and run."""
    if run in _STARTED:
        return True
    try:
        if (read_manifest(out) or {}).get("run") != run:
            return False
    except InputError:  # being replaced, or not ours: not started as far as this task knows
        return False
    _STARTED.add(run)
    return True


def write_result(solved: tuple[xr.Dataset, dict], chunk: Chunk, out: str, *, final: bool = False) -> dict:
    """On the worker that solved a chunk (`solve_chunk`): write its results atomically, a chunk file
    (`write_chunk`) or, with ``final`` (the chunk is the whole scenario, draws 0..N), the scenario's
    results file ``out/<stem>.nc`` itself (`write_final`: the bytes the client's merge of a chunk file
    would give), so the client has nothing to merge. Returns the solve's report with the write's
    seconds and when it ended (``final``: and the results' ``uncertain`` and ``failed``)."""
    ds, report = solved
    t1, c1 = time.perf_counter(), time.thread_time()
    if final:
        uncertain, failed = write_final(ds, chunk, out)
        report = {**report, "uncertain": uncertain, "failed": failed}
    else:
        write_chunk(ds, chunk, out)
    write = time.perf_counter() - t1
    return {**report, "seconds": report["solve_seconds"] + write, "write_seconds": write,
            "write_cpu": time.thread_time() - c1, "ended": time.time(), "computed": True, "final": final}


def write_final(ds: xr.Dataset, chunk: Chunk, out: str | Path) -> tuple[bool, tuple[int, int] | None]:
    """Write the results file of a scenario solved as one chunk (draws 0..``chunk.last``), atomically:
    the bytes `merge_scenario` writes from that chunk's file (`merge_draws` of the one chunk, the
    batch's attributes, `_write_dataset`; `read_chunk` gives the chunk back with the solver's
    variables, dtypes and order, and attributes that write the same), without the chunk file
    written, checksummed and read back. Returns ``(uncertain, failed)`` (see `_finish_results`)."""
    if chunk.first != 0:
        raise LewieError(f"{chunk.stem}: draws {chunk.first}..{chunk.last} are not a whole scenario")
    ds = merge_draws([ds], ignore=(CHUNK_ATTR,))
    return _finish_results(ds, Path(out) / f"{chunk.stem}.nc", key=chunk.key, draws=chunk.last, name=chunk.stem)


def _lewie_version() -> str:
    import lewie
    return lewie.__version__


# ------------------------------------------------------------------------------------------------
# merging
# ------------------------------------------------------------------------------------------------
def merge_chunks(paths: Sequence[Path]) -> xr.Dataset:
    """Concatenate chunk files along ``draw`` (sorted), by `lewie.runs.chunks.merge_draws` (the one merge:
    attributes every chunk shares, ``solver_iterations`` summed, ``max_relative_residual``
    maximised, any other difference an error)."""
    return merge_draws([read_chunk(p) for p in paths], ignore=(CHUNK_ATTR,))


def _write_dataset(ds: xr.Dataset, path: Path) -> None:
    """Write results (netCDF-4 by h5netcdf, as `lewie.results.dataset.save_results`) atomically.

    Through xarray's store with the plain HDF5 lock: ``to_netcdf`` in a process with a Dask Client
    would take a distributed lock through the scheduler for the file (and fails for an in-memory
    target)."""
    from xarray.backends import H5NetCDFStore
    from xarray.backends.locks import HDF5_LOCK
    from lewie.results.dataset import RESULTS_ENGINE, RESULTS_FORMAT, _fits_netcdf3, _write_netcdf3
    path.parent.mkdir(parents=True, exist_ok=True)
    if _fits_netcdf3(ds):  # the format of `save_results`, by its own writer (a plain lock, not Dask's)
        if (RESULTS_ENGINE, RESULTS_FORMAT) == ("scipy", "NETCDF3_64BIT"):
            from lewie.files import atomic_write
            with atomic_write(path, what="results file") as tmp:  # straight to the file: half the CPU of
                _write_netcdf3(ds, tmp)                            # encoding in memory, then writing
        else:
            write_checked_bytes(ds.to_netcdf(engine=RESULTS_ENGINE, format=RESULTS_FORMAT), path)
        return
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        store = H5NetCDFStore.open(str(tmp), mode="w", lock=HDF5_LOCK)
        try:
            ds.dump_to_store(store)
        finally:
            store.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def merge_scenario(sp: ScenarioPlan, plan: BatchPlan) -> Path:
    """Merge one scenario's chunks into ``out/<stem>.nc`` (with ``batch_draws`` and ``scenario_key``)."""
    missing = [c.path(plan.out) for c in sp.chunks if not c.path(plan.out).exists()]
    if missing:
        raise LewieError(f"{sp.file}: {len(missing)} chunk files reported done by the workers are not in "
                         f"{plan.out} (e.g. {missing[0]}): the output folder must be on a filesystem that the "
                         "client and every worker share, at the same path (see docs/batch.md)")
    ds = merge_chunks([c.path(plan.out) for c in sp.chunks])
    path = sp.output(plan.out)
    _record(sp, plan, *_finish_results(ds, path, key=sp.key, draws=plan.draws, name=str(sp.file)))
    return path


def _finish_results(ds: xr.Dataset, path: Path, *, key: str, draws: int, name: str
                    ) -> tuple[bool, tuple[int, int] | None]:
    """Check a scenario's merged draws are 0..``draws``, add ``scenario_key`` and ``batch_draws``, write
    them to ``path`` (`_write_dataset`). Returns whether the draws carry parameter uncertainty and
    (failed solves, solves) (None without ``status``)."""
    got = [int(d) for d in ds["draw"].values]
    if got != list(range(draws + 1)):
        raise LewieError(f"{name}: merged draws are not 0..{draws}")
    ds.attrs["scenario_key"] = key
    ds.attrs["batch_draws"] = int(draws)
    _write_dataset(ds, path)
    from lewie.results.uncertainty import parameter_uncertainty
    failed = None
    if "status" in ds:
        status = ds["status"].astype(str)
        failed = (int((status != "converged").sum()), int(status.size))
    return bool(parameter_uncertainty(ds)), failed


def _record(sp: ScenarioPlan, plan: BatchPlan, uncertain: bool, failed: tuple[int, int] | None) -> None:
    """On the client: a scenario's results are written; keep (and log) what the summary reports."""
    from lewie.results.uncertainty import NO_UNCERTAINTY, WHY
    sp.uncertain, sp.failed = uncertain, (tuple(failed) if failed is not None else None)
    if plan.draws > 0 and not sp.uncertain:  # as `lewie run` warns (lewie.runs.montecarlo.run_draws)
        log.warning("%s: %s (%s)", sp.file, NO_UNCERTAINTY, WHY)
    if sp.failed and sp.failed[0]:
        log.info("%s: %d of %d solves failed (kept in the results with status and reason)", sp.file, *sp.failed)


def _output_is_done(sp: ScenarioPlan, plan: BatchPlan) -> bool:
    return _final_is_done(sp.output(plan.out), sp.key, plan.draws)


def _final_is_done(path: Path, key: str, draws: int) -> bool:
    """A scenario's results file is there, opens, and was written for this batch's scenario (content key)
    and draws (it is written atomically: a file that opens is whole)."""
    if not path.exists():
        return False
    try:
        from lewie.results.dataset import results_engine
        with xr.open_dataset(path, engine=results_engine(path)) as ds:
            return ds.attrs.get("scenario_key") == key and int(ds.attrs.get("batch_draws", -1)) == draws
    except Exception:
        return False


# ------------------------------------------------------------------------------------------------
# Dask
# ------------------------------------------------------------------------------------------------
@contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int | None = None, processes: bool = True,
                timeout: float = CONNECT_TIMEOUT):
    """A dask.distributed Client: to the scheduler at ``scheduler`` (``tcp://host:port``), or to a
    new local cluster of ``n_workers`` single-threaded workers (default: one per core).

    An unreachable scheduler raises `InputError` after ``timeout`` seconds.
    """
    from dask.distributed import Client, LocalCluster
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at '{scheduler}' within {timeout:g} s "
                             f"({type(exc).__name__}: {exc}); check the address, or start one with "
                             "`dask scheduler` (see docs/batch.md)", field="--scheduler") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = n_workers or os.cpu_count() or 1
    with _quiet_dask(), worker_settings():
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=":0",
                               silence_logs=logging.CRITICAL)
        client = Client(cluster)
        try:
            client.run(setup_worker)  # each worker set up for solving as it starts, not on its first chunk
            if processes:
                pin_workers(client)
            yield client
        finally:
            client.close()
            cluster.close()


# Dask settings for lewie's local workers. The worker's statistical profiler (on by default) samples
# the running task's Python stack every 10 ms while holding the GIL; lewie's chunk solves are many
# short numpy calls driven from Python, which it slowed by about half (benchmarks/batch_scaling.py).
# The scheduler gives each worker one task at a time (worker-saturation 1.0; Dask's default 1.1 gives a
# single-threaded worker two): a worker that finishes asks for the next, largest first, so the workers
# end together instead of one finishing a second task it was given early while the other idles.
# Dask's periodic bookkeeping runs less often than its defaults (event-loop tick every 20 ms, system
# monitor every 0.5 s, each worker's memory checked by its nanny every 0.1 s): an idle 2-worker cluster
# used 0.078 CPU-s per second with the defaults and 0.016 with these, CPU that the solves share on a
# small machine. A worker above its memory limit is still stopped by its nanny, within a second.
WORKER_SETTINGS = {"distributed.worker.profile.enabled": False, "distributed.scheduler.worker-saturation": 1.0,
                   "distributed.admin.tick.interval": "500ms", "distributed.admin.system-monitor.interval": "2s",
                   "distributed.worker.memory.monitor-interval": "1s"}
# variables the nannies put in their workers' environment that lewie's workers do without (see
# `_allocator_defaults`: the solver's arrays mapped and unmapped by the kernel at each allocation)
WORKER_ENVIRON_DROPPED = ("MALLOC_TRIM_THRESHOLD_",)


@contextmanager
def worker_settings():
    """Dask configuration for a local cluster made inside this block (`WORKER_SETTINGS`,
    and the nannies' ``pre-spawn-environ`` without `WORKER_ENVIRON_DROPPED`; the nannies pass the
    configuration on to the worker processes)."""
    import dask
    import distributed  # noqa: F401 - its configuration defaults, loaded on import
    environ = {k: v for k, v in (dask.config.get("distributed.nanny.pre-spawn-environ", None) or {}).items()
               if k not in WORKER_ENVIRON_DROPPED}
    with dask.config.set({**WORKER_SETTINGS, "distributed.nanny.pre-spawn-environ": environ}):
        yield


@contextmanager
def _quiet_dask(level: int = logging.ERROR):
    """Keep the local cluster's own log lines (workers starting and stopping) off the user's terminal;
    lewie reports what matters (progress, failed chunks) itself."""
    loggers = [logging.getLogger(n) for n in ("distributed", "distributed.nanny", "distributed.scheduler",
                                              "distributed.worker", "distributed.core", "distributed.http")]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(level, lg.getEffectiveLevel()))
    try:
        yield
    finally:
        for lg, lv in zip(loggers, saved):
            lg.setLevel(lv)


def _check_workers(client) -> None:
    """Wait for at least one worker, and check every worker runs the same lewie version."""
    if not client.scheduler_info()["workers"]:
        print(f"lewie batch: waiting for a worker to join the scheduler (up to {WORKER_WAIT:g} s) ...", file=sys.stderr)
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise InputError(f"no Dask worker joined the scheduler within {WORKER_WAIT:g} s; start workers with "
                             "`dask worker tcp://HOST:PORT` (see docs/batch.md)", field="--scheduler") from None
    versions = client.run(_lewie_version)
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        listing = ", ".join(f"{w}: {v}" for w, v in wrong.items())
        raise InputError(f"Dask workers run another lewie version than this client ({__version__}): {listing}",
                         field="--scheduler")


# ------------------------------------------------------------------------------------------------
# progress
# ------------------------------------------------------------------------------------------------
class Progress:
    """A one-line progress report on a stream: chunks done / total, draws per second, time left.

    On a terminal the line is redrawn in place; elsewhere (a log file) a line at most every
    ``min_interval`` seconds, and none at all before ``quiet_for`` seconds have passed (so a short
    run writes nothing)."""

    def __init__(self, total_chunks: int, total_draws: int, *, done_chunks: int = 0, stream=None,
                 enabled: bool = True, min_interval: float = 2.0, label: str = "batch", quiet_for: float = 0.0):
        self.total, self.total_draws = total_chunks, total_draws
        self.done, self.draws_done = done_chunks, 0
        self.remaining_draws = total_draws
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.min_interval = min_interval
        self.label, self.quiet_for = label, quiet_for
        self._last = -math.inf

    def line(self) -> str:
        elapsed = time.perf_counter() - self.t0
        rate = self.draws_done / elapsed if elapsed > 0 else 0.0
        eta = self.remaining_draws / rate if rate > 0 else math.nan
        width = 24
        fill = int(width * self.done / self.total) if self.total else width
        bar = "#" * fill + "-" * (width - fill)
        eta_s = _hms(eta) if math.isfinite(eta) else "--:--:--"
        return (f"{self.label} [{bar}] {self.done}/{self.total} chunks  {rate:,.1f} draws/s  "
                f"elapsed {_hms(elapsed)}  left {eta_s}")

    def update(self, draws: int, *, force: bool = False) -> None:
        self.done += 1
        self.draws_done += draws
        self.remaining_draws -= draws
        self.show(force=force or self.done == self.total)

    def show(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not (self.tty or force or now - self._last >= self.min_interval):
            return
        if not self.tty and now - self.t0 < self.quiet_for:
            return
        self._last = now
        end = "\r" if self.tty and self.done < self.total else "\n"
        print(self.line().ljust(100 if self.tty else 0), end=end, file=self.stream, flush=True)


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# ------------------------------------------------------------------------------------------------
# the batch
# ------------------------------------------------------------------------------------------------
class BatchInterrupted(KeyboardInterrupt):
    """The batch was interrupted (Ctrl-C, or a callback); every finished chunk is on disk."""

    def __init__(self, saved: int, total: int, out: Path):
        super().__init__(f"interrupted: {saved} of {total} chunks are saved in {out}; run the same command "
                         "with --resume to compute only the missing ones")
        self.saved, self.total, self.out = saved, total, out


@dataclass
class BatchOutcome:
    """What a batch did: the files written, chunks computed and reused, time and throughput."""

    plan: BatchPlan
    outputs: list[Path] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)  # chunk idents solved in this run
    merged: set[str] = field(default_factory=set)  # content keys of the scenarios merged in this run
    reused: list[str] = field(default_factory=list)  # chunk idents already on disk
    seconds: float = 0.0  # the whole run: plan, cluster start-up, solving, merging
    solve_seconds: float = 0.0  # from the first chunk submitted to the last one done
    draws_solved: int = 0
    workers: int = 0

    @property
    def draws_per_second(self) -> float:
        """Draws solved per second while solving (a draw: every variant of one draw of a scenario)."""
        return self.draws_solved / self.solve_seconds if self.solve_seconds > 0 else 0.0


def prepare(plan: BatchPlan, *, resume: bool = False, overwrite: bool = False) -> list[Chunk]:
    """Check the output folder against the plan and return the chunks to solve (no side effects:
    `start` writes the manifest once the cluster is reached).

    A folder holding another (or the same) batch needs ``resume`` (continue it: only missing chunks
    are solved) or ``overwrite`` (start again: its chunk files are removed).
    """
    out = plan.out
    old = read_manifest(out)
    if resume and overwrite:
        raise InputError("give --resume or --overwrite, not both")
    if resume:
        if old is None:
            raise InputError(f"nothing to resume: {out} holds no batch manifest ({MANIFEST})", file=out)
        diffs = manifest_differences(old, plan.manifest())
        if diffs:
            raise InputError("--resume: the batch in this folder is not the one asked for (" + "; ".join(diffs)
                             + "); run the same command as before, or use --overwrite to start again", file=out)
    elif old is not None and not overwrite:
        raise InputError(f"this folder already holds a batch ({MANIFEST}); continue it with --resume or "
                         "start again with --overwrite", file=out)
    if not resume:
        return list(plan.chunks)
    todo = []
    for sp in plan.scenarios:
        if not _output_is_done(sp, plan):
            todo.extend(c for c in sp.chunks if not chunk_is_done(c, out))
    return todo


def start(plan: BatchPlan, *, resume: bool = False, run: str | None = None) -> None:
    """Make the output folder the batch's: without ``resume``, remove what an earlier batch left there
    (its chunk files and results); write the manifest (with ``run``, the batch's workers may write)."""
    out = plan.out
    old = read_manifest(out)
    if not resume and old is not None:  # --overwrite: the old batch's chunk folders, by its manifest
        for s in old.get("scenarios", []):
            if isinstance(s.get("key"), str) and isinstance(s.get("stem"), str):
                shutil.rmtree(out / CHUNK_DIR / f"{s['stem']}-{s['key'][:16]}", ignore_errors=True)
        for s in old.get("scenarios", []):
            (out / f"{s['stem']}.nc").unlink(missing_ok=True)
    write_manifest(plan, run=run)


def run_batch(files: Iterable[str | Path], out: str | Path, *, draws: int | None = None, seed: int | None = None,
              chunk_size: int | None = None, scheduler: str | None = None, n_workers: int | None = None,
              processes: bool = True, client=None, resume: bool = False, overwrite: bool = False,
              retries: int = 1, progress: bool = True, stream=None, keep_chunks: bool = False,
              solve: SolveFn | None = None, on_chunk: Callable[[dict], None] | None = None) -> BatchOutcome:
    """Run every variant of every scenario in ``files`` for draws 0..N on Dask; write one netCDF file
    per scenario to ``out``. See the module docstring for the plan, resume and merge.

    ``client``: an existing ``dask.distributed.Client`` (else one is made from ``scheduler`` or a
    local cluster of ``n_workers``). ``solve``: replaces `lewie.runs.montecarlo.MonteCarlo`, called as
    ``solve(scenario, first, last)`` for a chunk's draws (a module-level function, so workers can
    import it). ``on_chunk``: called on the client with each finished chunk's report (an exception it
    raises stops the batch; finished chunks stay on disk).
    """
    from lewie.runs.chunk_files import lock_folder
    from lewie.files import check_writable_folder
    check_writable_folder(out, what="batch output folder", create=False)  # before any work
    if chunk_size is None and resume:  # the batch's own chunks (its default depended on its machine)
        stored = (read_manifest(out) or {}).get("chunk_size")
        chunk_size = stored if isinstance(stored, int) and not isinstance(stored, bool) and stored > 0 else None
    if client is not None:  # how many workers the default chunk size keeps busy (None: this machine's cores)
        workers = len(client.scheduler_info()["workers"]) or None
    else:
        workers = n_workers if scheduler is None else None
    files = list(files)
    settings = dict(draws=draws, seed=seed, chunk_size=chunk_size, workers=workers)
    tasks = None
    if client is not None and not resume:  # each scenario solved while the client validates the next ones
        tasks = _Tasks(client, out, n_scenarios=len({Path(f) for f in files}), retries=retries, solve=solve)
        try:
            plan = plan_batch(files, out, **settings, on_scenario=tasks.solve)
        except BaseException:
            tasks.cancel()  # nothing was written: the folder is touched only once every file is valid
            raise
    else:
        plan = plan_batch(files, out, **settings)
    try:
        with lock_folder(out, what="batch"):  # a second run on this folder is refused
            return _run_batch_locked(plan, scheduler=scheduler, n_workers=n_workers, processes=processes,
                                     client=client, resume=resume, overwrite=overwrite, retries=retries,
                                     progress=progress, stream=stream, keep_chunks=keep_chunks, solve=solve,
                                     on_chunk=on_chunk, tasks=tasks)
    finally:
        if tasks is not None:
            tasks.cancel()  # whatever is left (an error, an interruption)


class _Tasks:
    """The Dask tasks of a batch: each chunk solved on a worker (`solve_chunk`) as soon as its scenario is
    validated. A chunk solved once the batch has started (every file valid, the folder locked, the
    manifest written with the batch's ``run``) is written by its task; one solved earlier stays in its
    worker's memory until the client has it written there (`write`).

    Placement: a scenario solved as one task goes to whichever worker is free (the scheduler's
    choice, larger scenarios first: each task's priority is its work); the chunks of a scenario solved
    in several go to one worker, the least loaded so far (a worker builds and compiles a scenario once
    and keeps it for its next chunks), loosely (``allow_other_workers``: work stealing still moves a
    chunk to an idle worker at the end); with fewer scenarios than workers, anywhere. A write runs on
    the worker holding the chunk's results, before any further solve there."""

    WRITE_PRIORITY = 1 << 60  # above any solve's (its work: draws × variants × economy size)

    def __init__(self, client, out: str | Path, *, n_scenarios: int, retries: int, solve: SolveFn | None):
        _check_workers(client)
        self.client, self.retries, self.solve_fn = client, retries, solve
        self.out, self.run = str(out), uuid.uuid4().hex
        self.workers = sorted(client.scheduler_info()["workers"])
        self.n_scenarios = n_scenarios
        self.load = {w: 0.0 for w in self.workers}
        self.chunks: dict = {}  # future -> (Chunk, final): the tasks not yet reported

    def _home(self, sp: ScenarioPlan, chunks: list[Chunk], work: float) -> str | None:
        if len(chunks) < 2 or len(self.workers) < 2 or self.n_scenarios < len(self.workers):
            return None
        w = min(self.workers, key=lambda a: (self.load[a], a))
        self.load[w] += work
        return w

    def solve(self, sp: ScenarioPlan, chunks: list[Chunk] | None = None) -> None:
        """Submit the solve of ``chunks`` of a validated scenario (default: all of them)."""
        chunks = list(sp.chunks if chunks is None else chunks)
        if not chunks:
            return
        per_draw = max(1, len(sp.variants)) * sp.size
        home = self._home(sp, chunks, per_draw * sum(c.n_draws for c in chunks))
        where = dict(workers=[home], allow_other_workers=True) if home else {}
        final = _is_whole(sp)
        for c in chunks:
            f = self.client.submit(solve_chunk, sp.scenario, c, self.solve_fn, simulation=sp.simulation,
                                   out=self.out, run=self.run, final=final, retries=self.retries, pure=False,
                                   priority=int(per_draw * c.n_draws),
                                   key=f"lewie-solve-{c.key[:16]}-{c.first}-{c.last}-{uuid.uuid4().hex[:8]}",
                                   **where)
            self.chunks[f] = (c, final)

    def write(self, solved):
        """Have a chunk solved before the batch started (``solved``: its `solve_chunk` future, whose
        results stay on its worker) written there; returns the write's future. The client's hold on
        the results is dropped: they are freed once written."""
        c, final = self.chunks.pop(solved)
        w = self.client.submit(write_result, solved, c, self.out, final=final, retries=self.retries, pure=False,
                               priority=self.WRITE_PRIORITY,
                               key=f"lewie-write-{c.key[:16]}-{c.first}-{c.last}-{uuid.uuid4().hex[:8]}")
        self.chunks[w] = (c, final)
        return w

    def cancel(self) -> None:
        pending = [f for f in self.chunks if not f.done()]
        if pending:
            self.client.cancel(pending)
        self.chunks.clear()


def _run_batch_locked(plan: BatchPlan, *, scheduler, n_workers, processes, client, resume, overwrite, retries,
                      progress, stream, keep_chunks, solve, on_chunk, tasks=None) -> BatchOutcome:
    todo = prepare(plan, resume=resume, overwrite=overwrite)
    outcome = BatchOutcome(plan)
    todo_ids = {c.ident for c in todo}
    outcome.reused = [c.ident for c in plan.chunks if c.ident not in todo_ids]
    t0 = time.perf_counter()
    solve_args = dict(retries=retries, progress=progress, stream=stream, solve=solve, on_chunk=on_chunk)
    try:
        if not todo:
            start(plan, resume=resume)
        elif client is not None:
            outcome.workers = _solve_on(client, plan, todo, outcome, resume=resume, tasks=tasks, **solve_args)
        else:
            with dask_client(scheduler, n_workers=n_workers, processes=processes) as cl:
                # (the folder is touched only once the cluster is there)
                outcome.workers = _solve_on(cl, plan, todo, outcome, resume=resume, **solve_args)
    except KeyboardInterrupt:
        saved = sum(len(sp.chunks) if _output_is_done(sp, plan) else sum(chunk_is_done(c, plan.out) for c in sp.chunks)
                    for sp in plan.scenarios)
        raise BatchInterrupted(saved, len(plan.chunks), plan.out) from None
    for sp in plan.scenarios:  # those merged during the run are done already
        if sp.key not in outcome.merged and not _output_is_done(sp, plan):
            merge_scenario(sp, plan)
            outcome.merged.add(sp.key)
        outcome.outputs.append(sp.output(plan.out))
    outcome.seconds = time.perf_counter() - t0
    if not keep_chunks:  # this batch's chunk folders only: never another batch's
        for folder in {c.path(plan.out).parent for c in plan.chunks}:
            shutil.rmtree(folder, ignore_errors=True)
        try:
            (plan.out / CHUNK_DIR).rmdir()  # only when empty
        except OSError:
            pass
    return outcome


def _is_whole(sp: ScenarioPlan) -> bool:
    """A scenario solved as one chunk (all its draws): its worker writes its results file (`write_final`)."""
    return len(sp.chunks) == 1 and sp.chunks[0].first == 0


def _solve_on(client, plan: BatchPlan, todo: list[Chunk], outcome: BatchOutcome, *, resume: bool, retries: int,
              progress: bool, stream, solve, on_chunk, tasks: _Tasks | None = None) -> int:
    """Start the batch (`start`: from now on its chunks are written as they are solved), solve the
    chunks ``todo`` (those ``tasks`` has been solving meanwhile, or all of them submitted now), have
    those solved before the start written, merge each scenario split in several chunks once its last
    one is written, and report progress. Returns the number of workers."""
    from dask.distributed import as_completed
    if tasks is None:
        tasks = _Tasks(client, plan.out, n_scenarios=len(plan.scenarios), retries=retries, solve=solve)
    start(plan, resume=resume, run=tasks.run)
    if not tasks.chunks:  # all at once, the largest scenarios first (the first tasks go out in this order)
        ids = {c.ident for c in todo}
        for sp in sorted(plan.scenarios, key=lambda sp: -max(1, len(sp.variants)) * sp.size):
            tasks.solve(sp, [c for c in sp.chunks if c.ident in ids])
    n_workers = len(tasks.workers)
    plans = {sp.key: sp for sp in plan.scenarios}
    bar = Progress(len(plan.chunks), sum(c.n_draws for c in todo), done_chunks=len(plan.chunks) - len(todo),
                   stream=stream, enabled=progress)
    bar.show(force=True)
    t0 = time.perf_counter()
    waiting = {sp.key: {c.ident for c in todo if c.key == sp.key} for sp in plan.scenarios}
    try:
        running = as_completed(list(tasks.chunks))
        for fut in running:
            if fut.status == "finished" and fut.type is not dict:  # solved before the start: results in memory
                running.add(tasks.write(fut))
                continue
            chunk, _ = tasks.chunks.pop(fut)
            try:
                report = fut.result()
            except LewieError:
                raise
            except Exception as exc:
                raise LewieError(f"chunk draws {chunk.first}..{chunk.last} of {chunk.stem} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
            outcome.computed.append(chunk.ident)
            outcome.draws_solved += chunk.n_draws
            outcome.solve_seconds = time.perf_counter() - t0
            bar.update(chunk.n_draws)
            if on_chunk is not None:
                on_chunk(report)
            waiting[chunk.key].discard(chunk.ident)
            sp = plans[chunk.key]
            if report.get("final"):  # the worker wrote the scenario's results file itself
                _record(sp, plan, report["uncertain"], report["failed"])
                outcome.merged.add(sp.key)
            elif not waiting[chunk.key]:  # a scenario's last chunk: merge it while the workers go on
                merge_scenario(sp, plan)
                outcome.merged.add(sp.key)
    finally:
        if tasks.chunks:  # stopped early (an error, an interruption)
            tasks.cancel()
            if progress and bar.tty:
                print(file=bar.stream)
    return n_workers


__all__ = ["run_batch", "BatchInterrupted", "prepare", "start", "solve_chunk", "write_result", "write_final", "merge_chunks", "merge_scenario", "dask_client", "BatchOutcome", "Progress"]
