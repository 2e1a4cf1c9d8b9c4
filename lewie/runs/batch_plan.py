"""The plan of a batch, made before any work: every scenario file validated, its content key, its draws
split into chunks (`default_chunk_size`), and the manifest (``out/lewie-batch.json``) that lets
``--resume`` check it is continuing the same batch. Runs on the client; `lewie.runs.dask_batch` runs it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lewie.config.scenario import Scenario, load_scenario
from lewie.errors import InputError, LewieError
from lewie.version import __version__

__all__ = ["Chunk", "ScenarioPlan", "BatchPlan", "plan_batch", "scenario_key", "default_chunk_size", "read_manifest",
           "write_manifest", "manifest_differences", "MANIFEST", "CHUNK_DIR"]

MANIFEST = "lewie-batch.json"
CHUNK_DIR = ".chunks"
MAX_CHUNK_SIZE = 1000  # draws per chunk at most, by default (as `lewie run`: lewie.runs.montecarlo.DEFAULT_CHUNK;
# a worker solves a chunk of a large economy in parts, `_solve_range`)
DEFAULT_CHUNK_SIZE = MAX_CHUNK_SIZE  # (the largest default; see `default_chunk_size`)
CHUNKS_PER_WORKER = 2  # by default a batch has at least this many chunks per worker (to balance the load)

# ------------------------------------------------------------------------------------------------
# the plan
# ------------------------------------------------------------------------------------------------
def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _by_content(obj):
    """A dumped scenario with every file path given with the SHA-256 of the file's bytes."""
    if isinstance(obj, Path):
        return {"path": str(obj), "sha256": _file_sha256(obj)}
    if isinstance(obj, dict):
        return {str(k): _by_content(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_by_content(v) for v in obj]
    return obj


def scenario_key(sc: Scenario, *, seed: int) -> str:
    """Content key of a scenario's draws: SHA-256 of the validated scenario (with its file and its data
    files, SAM, parameter table, workbook, supplied draws, by path and by content: the results'
    metadata records the paths), the seed, the number of draws and the lewie version."""
    data = _by_content(sc.model_dump(mode="python", exclude={"source"}))
    data["source"] = _by_content(Path(sc.source)) if sc.source is not None else None
    data["montecarlo"] = {**data.get("montecarlo", {}), "seed": int(seed)}
    blob = json.dumps({"scenario": data, "lewie_version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """Draws ``first``..``last`` (inclusive) of one scenario."""

    stem: str
    key: str
    first: int
    last: int

    @property
    def n_draws(self) -> int:
        return self.last - self.first + 1

    @property
    def ident(self) -> str:
        return f"{self.key}:{self.first}-{self.last}"

    def path(self, out: Path) -> Path:
        return Path(out) / CHUNK_DIR / f"{self.stem}-{self.key[:16]}" / f"draws-{self.first:06d}-{self.last:06d}.nc"


@dataclass
class ScenarioPlan:
    """One scenario of a batch: the validated scenario (with the batch's draws and seed), its
    content key, its variants and its chunks."""

    file: Path
    stem: str
    scenario: Scenario
    key: str
    seed: int
    variants: list[str]
    chunks: list[Chunk]
    size: int = 1  # work of one draw of one variant, relatively: the size of its results (`_economy_size`)
    failed: tuple[int, int] | None = None  # (failed solves, solves) once merged in this run
    uncertain: bool | None = None  # its draws carry parameter uncertainty (once merged in this run)
    # the calibrated `lewie.runs.stages.Simulation` the validation made (the workers build from it)
    simulation: object | None = field(default=None, repr=False, compare=False)

    def output(self, out: Path) -> Path:
        return Path(out) / f"{self.stem}.nc"


@dataclass
class BatchPlan:
    """Every chunk of every scenario of a batch."""

    out: Path
    draws: int
    chunk_size: int
    scenarios: list[ScenarioPlan]
    lewie_version: str = __version__

    @property
    def chunks(self) -> list[Chunk]:
        return [c for sp in self.scenarios for c in sp.chunks]

    def manifest(self) -> dict:
        """What identifies the batch (written to, and checked against, ``out/lewie-batch.json``)."""
        return {
            "lewie_version": self.lewie_version,
            "draws": self.draws,
            "chunk_size": self.chunk_size,
            "scenarios": [{"file": str(sp.file), "stem": sp.stem, "name": sp.scenario.name, "key": sp.key,
                           "seed": sp.seed, "variants": sp.variants,
                           "chunks": [[c.first, c.last] for c in sp.chunks]} for sp in self.scenarios],
        }


def default_chunk_size(draws: int, n_scenarios: int, workers: int | None = None) -> int:
    """Draws per chunk when none is given: as few chunks as keep every worker busy.

    Each chunk costs a fixed amount besides its draws (its recalibration and solve set up, draw 0 and
    a sample re-checked by Pyomo, a file written and read back), which chunks of 50 draws made
    about as large as the solving itself. So a scenario's draws 0..N go in the fewest chunks of at
    most `MAX_CHUNK_SIZE` draws, evened out (1001 draws: 501 + 500, not 1000 + 1), and, when the batch
    has few scenarios, in enough chunks for `CHUNKS_PER_WORKER` per worker (``workers``: default the
    cores of this machine). A scenario whose draws fit in one chunk is one task whose worker writes its
    results file itself (`write_final`): nothing to merge. The size is recorded in the manifest;
    ``--resume`` uses the recorded one."""
    n = draws + 1
    workers = max(1, workers or os.cpu_count() or 1)
    per_scenario = max(math.ceil(n / MAX_CHUNK_SIZE), math.ceil(CHUNKS_PER_WORKER * workers / max(1, n_scenarios)))
    return math.ceil(n / min(per_scenario, n))


def _chunks(stem: str, key: str, draws: int, size: int) -> list[Chunk]:
    return [Chunk(stem, key, a, min(a + size - 1, draws)) for a in range(0, draws + 1, size)]


def _with_batch_settings(path: Path, draws: int | None, seed: int | None) -> Scenario:
    """A scenario file read and checked against the schema (what is cheap), with the batch's draws and
    seed in its ``[montecarlo]`` settings."""
    sc = load_scenario(path.resolve())
    mc = sc.montecarlo.model_copy(update={k: v for k, v in (("draws", draws), ("seed", seed)) if v is not None})
    return sc.model_copy(update={"montecarlo": mc})


def _check_scenario(sc: Scenario):
    """Validate a scenario as far as can be done without solving: economy, labels, calibration and
    every variant's interventions. Returns its variants, the size of its economy (`_economy_size`)
    and the calibrated `lewie.runs.stages.Simulation` (which the workers build from, instead of
    reading and calibrating the economy again)."""
    from lewie.runs.stages import Simulation
    sim = Simulation(sc).load().validate().calibrate()
    return list(sim.shocks), _economy_size(sim.structure), sim


def _economy_size(structure) -> int:
    """How much work one draw of one variant is, relatively: the size of the largest results
    variable (intermediate demand: goods × goods × household groups), plus factors × goods ×
    household groups. Only compared between the scenarios of a batch (largest first)."""
    h, g, f = len(structure.households), len(structure.goods), len(structure.factors)
    return max(1, h * g * (g + f))


def _named(f: Path, exc: LewieError) -> str:
    msg = str(exc)
    return msg if str(f) in msg or f.name in msg else f"{f}: {msg}"


def plan_batch(files: Iterable[str | Path], out: str | Path, *, draws: int | None = None, seed: int | None = None,
               chunk_size: int | None = None, workers: int | None = None,
               on_scenario: Callable[[ScenarioPlan], None] | None = None) -> BatchPlan:
    """Validate every scenario file and split its draws 0..N into chunks (of ``chunk_size`` draws;
    default `default_chunk_size` for ``workers`` workers).

    ``draws`` and ``seed`` default to each scenario's ``[montecarlo]`` settings (then every
    scenario of the batch must ask for the same number of draws: then every file's schema is read
    first). The errors of all bad files are reported together, each naming its file.

    ``on_scenario`` is called with each scenario's plan as soon as it is validated (before the next
    file is; not after a bad file): `lewie.runs.dask_batch` gives the workers its draws to solve
    meanwhile. The plan is whole, and the batch's files may be written, only once this function has
    returned.
    """
    files = [Path(f) for f in files]
    if not files:
        raise InputError("no scenario files given")
    if draws is not None and draws < 0:
        raise InputError(f"the number of draws must be ≥ 0, not {draws}", field="--draws")
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"the chunk size must be ≥ 1, not {chunk_size}", field="--chunk-size")
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems and stems[f.stem].resolve() != f.resolve():
            raise InputError(f"two scenario files are both called '{f.stem}' ({stems[f.stem]} and {f}); each "
                             f"scenario's results go to <out>/{f.stem}.nc, so rename one", file=f)
        stems[f.stem] = f
    unique = list(dict.fromkeys(files))
    errors: dict[Path, str] = {}
    loaded: dict[Path, Scenario] = {}
    n = draws
    if draws is None:  # each file's own number of draws: first every file's schema (cheap), to chunk them
        for f in unique:
            try:
                loaded[f] = _with_batch_settings(f, draws, seed)
            except LewieError as exc:
                errors[f] = _named(f, exc)
        counts = {sc.montecarlo.draws for sc in loaded.values()}
        n = next(iter(counts)) if len(counts) == 1 else None
    size = (chunk_size or default_chunk_size(n, len(unique), workers)) if n is not None else 0
    plans = []
    for f in unique:
        if f in errors:
            continue
        try:
            sc = loaded[f] if f in loaded else _with_batch_settings(f, draws, seed)
            loaded[f] = sc
            variants, econ, sim = _check_scenario(sc)
        except LewieError as exc:
            errors[f] = _named(f, exc)
            continue
        if n is None:  # different numbers of draws: reported below
            continue
        key = scenario_key(sc, seed=sc.montecarlo.seed)
        sp = ScenarioPlan(f, f.stem, sc, key, sc.montecarlo.seed, variants, _chunks(f.stem, key, n, size),
                          size=econ, simulation=sim)
        plans.append(sp)
        if on_scenario is not None and not errors:  # (after a bad file, nothing more is started)
            on_scenario(sp)
    if errors:
        msgs = [errors[f] for f in unique if f in errors]
        head = ("a scenario file failed validation" if len(msgs) == 1
                else f"{len(msgs)} scenario files failed validation")
        raise InputError(f"{head}; nothing was run:\n  " + "\n  ".join(msgs))
    if n is None:
        listing = ", ".join(f"{f.name}: {sc.montecarlo.draws}" for f, sc in loaded.items())
        raise InputError(f"the scenarios ask for different numbers of draws ({listing}); give --draws")
    return BatchPlan(Path(out), n, size, plans)


# ------------------------------------------------------------------------------------------------
# the manifest
# ------------------------------------------------------------------------------------------------
def read_manifest(out: str | Path) -> dict | None:
    path = Path(out) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the batch manifest: {exc}", file=path) from None


def _write_atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_manifest(plan: BatchPlan, *, run: str | None = None) -> Path:
    """Write the plan's manifest; ``run``: the identifier of the process writing the batch now (its
    workers write their results once they find it there: `lewie.runs.dask_batch.batch_started`)."""
    plan.out.mkdir(parents=True, exist_ok=True)
    path = plan.out / MANIFEST
    _write_atomic_text(path, json.dumps({**plan.manifest(), **({"run": run} if run else {})}, indent=1) + "\n")
    return path


def manifest_differences(old: dict, new: dict) -> list[str]:
    """What differs between a stored manifest and a new plan (file paths may differ)."""
    diffs = []
    for k in ("lewie_version", "draws", "chunk_size"):
        if old.get(k) != new.get(k):
            diffs.append(f"{k}: {old.get(k)!r} in the folder, {new.get(k)!r} now")
    o = {s["stem"]: s for s in old.get("scenarios", [])}
    n = {s["stem"]: s for s in new["scenarios"]}
    for stem in o.keys() - n.keys():
        diffs.append(f"scenario '{stem}' is in the folder's batch but not in this one")
    for stem in n.keys() - o.keys():
        diffs.append(f"scenario '{stem}' is in this batch but not in the folder's")
    for stem in sorted(o.keys() & n.keys()):
        if o[stem].get("key") != n[stem]["key"]:
            diffs.append(f"scenario '{stem}' has changed (its file, data, seed or lewie version differ)")
    return diffs


