"""The layout stays readable: docs/architecture.md names every module, no two modules share a file name, and
no two modules import each other, directly or through others, at module level or inside functions."""
from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"lewie": "lewie", "sam": "lewie.sam", "solvers": "lewie.solvers"}


def _modules() -> dict[str, Path]:
    mods = {}
    for folder, package in PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            if folder == "sam" and "data" in path.relative_to(REPO / folder).parts:
                continue
            parts = [p for p in path.relative_to(REPO / folder).with_suffix("").parts if p != "__init__"]
            mods[".".join([package, *parts])] = path
    return mods


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every lewie module `name` imports, wherever the import statement is (module level or in a function)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = (package[: len(package) - node.level + 1] if node.level else [])
            target = ".".join(base + ([node.module] if node.module else []))
            for candidate in [target] + [f"{target}.{a.name}" for a in node.names]:
                if candidate in known:
                    out.add(candidate)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_every_module_has_its_line_in_the_architecture_page():
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name, path in _modules().items():
        if path.name != "__init__.py":
            assert f"`{path.name}`" in text, f"docs/architecture.md does not describe {path.relative_to(REPO)}"
    for sub in ("config", "model", "runs", "results", "report", "cli"):
        assert f"`lewie/{sub}/`" in text, f"docs/architecture.md does not describe the stage package lewie/{sub}/"


def test_no_two_modules_share_a_file_name():
    names = Counter(p.name for p in _modules().values() if p.name != "__init__.py")
    assert not [n for n, c in names.items() if c > 1], f"file names used twice: {[n for n, c in names.items() if c > 1]}"


def test_no_import_cycles_even_inside_functions():
    mods = _modules()
    graph = {m: _imports(m, p, set(mods)) for m, p in mods.items()}
    assert not _cycles(graph), f"import cycles: {_cycles(graph)}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_lower_stages_do_not_import_higher_ones():
    """config → solvers → model → results → runs → report → cli: a module imports only its own stage or lower
    ones (sam and the top-level helpers serve every stage; the ``ds.lewie`` accessor is the one facade over
    results and report). Results come before runs because a run assembles the results Dataset."""
    order = ["config", "solvers", "model", "results", "runs", "report", "cli"]
    mods = _modules()

    def stage(m):
        if m == "lewie.model.registry":  # the leaf every stage reads (it imports nothing of lewie)
            return None
        parts = m.split(".")
        if parts[1:2] == ["solvers"]:
            return "solvers"
        return parts[1] if len(parts) > 2 and parts[1] in order else None

    upward = []
    for m, p in mods.items():
        s = stage(m)
        if s is None or m == "lewie.results.accessor":
            continue
        for t in _imports(m, p, set(mods)):
            ts = stage(t)
            if ts is not None and order.index(ts) > order.index(s):
                upward.append(f"{m} -> {t}")
    assert not upward, "imports from a later stage: " + "; ".join(sorted(upward))
