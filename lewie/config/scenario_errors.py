"""Scenario errors a reader can act on: pydantic's validation errors explained one line each (the key path,
its line in the TOML file, the closest valid key or kind), and `scenario_error` for checks made later.
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

from lewie.config.intervention_kinds import KIND_MODELS
from lewie.errors import InputError, did_you_mean


def scenario_text(path) -> str | None:
    """A scenario file's text for finding lines in errors (None when it cannot be read)."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None



def scenario_error(message: str, *, file=None, field: str | None = None, label: str | None = None,
                   text: str | None = None, intervention: str | None = None) -> InputError:
    """An InputError for a scenario key: "file: 'key' (intervention 'x', line n): message" (the
    intervention when the key is in one, the line when it can be found)."""
    if text is None and file is not None and Path(file).suffix == ".toml":
        text = scenario_text(file)
    where = ""
    if field is not None:
        line = find_line(text, parse_field(field))
        notes = ([f"intervention '{intervention}'"] if intervention else []) + ([f"line {line}"] if line else [])
        where = f"'{field}'" + (f" ({', '.join(notes)})" if notes else "") + ": "
    err = InputError(where + message, file=file, label=label)
    err.field = field
    return err


def explain(exc: ValidationError, text: str | None, data: dict, root: type[BaseModel]) -> str:
    """One readable message per validation problem: the key path, its line, the closest valid key."""
    lines = []
    for err in _union_branch(exc.errors(), data):
        raw = [p for p in err["loc"] if not _is_type_tag(p)]
        loc = _strip_tag(raw)
        key = format_loc(loc)
        where = _where(text, loc, data)
        if err["type"] == "extra_forbidden":
            parent = _model_at(raw[:-1], root)
            hint = did_you_mean(str(loc[-1]), parent.model_fields) if parent else ""
            lines.append(f"unknown key '{key}'{where}{hint}")
        elif err["type"] == "union_tag_invalid":
            kinds = ", ".join(KIND_MODELS)
            tag = err.get("ctx", {}).get("tag", "?")
            lines.append(f"'{key}.kind'{_where(text, loc + ['kind'], data)}: unknown intervention kind '{tag}'"
                         f"{did_you_mean(tag, KIND_MODELS)}; valid: {kinds}")
        elif err["type"] == "union_tag_not_found":
            lines.append(f"missing key '{key}.kind'{where}: the intervention's kind, one of "
                         f"{', '.join(KIND_MODELS)}")
        elif err["type"] == "missing":
            kind = _intervention(data, loc).get("kind") if _intervention(data, loc) is not None else None
            hint = ""
            if loc and loc[-1] == "cost" and kind in ("productivity", "labour_supply", "leakage_rate"):
                hint = (f": a {kind} intervention transfers no value, so its cost (the multipliers' "
                        "denominator) must be given")
            lines.append(f"missing key '{key}'{where}{hint}")
        else:
            msg = _message(err) or str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"'{key}'{where}: {msg}")
    return "; ".join(dict.fromkeys(lines))


_TYPE_TAG = re.compile(r"^(constrained-\w+|float|int|str|bool|none|list\[.*\]|dict\[.*\]|tuple\[.*\]|"
                       r"function-\w+\[.*\]|lax-or-strict\[.*\]|json-or-python\[.*\]|is-instance\[.*\])$")


def _is_type_tag(p) -> bool:
    """pydantic names the member of a union (``float``, ``dict[str,...]``) in its error locations."""
    return isinstance(p, str) and bool(_TYPE_TAG.match(p))


def _value_at(data, loc):
    for p in loc:
        if isinstance(data, dict) and p in data:
            data = data[p]
        elif isinstance(data, list) and isinstance(p, int) and p < len(data):
            data = data[p]
        else:
            return None
    return data


def _union_branch(errors, data) -> list:
    """Of the errors of a union (a number or a table of numbers), those of the member the value
    looks like: the table's when the file gives a table, else the number's."""
    by_loc: dict = {}
    for err in errors:
        loc = list(err["loc"])
        tags = [n for n, p in enumerate(loc) if _is_type_tag(p)]
        if not tags:
            by_loc.setdefault(("plain", tuple(loc)), []).append(err)
            continue
        head = tuple(loc[:tags[0]])
        by_loc.setdefault(("union", head), []).append(err)
    out = []
    for (kind, head), errs in by_loc.items():
        if kind == "plain":
            out.extend(errs)
            continue
        is_table = isinstance(_value_at(data, _strip_tag(list(head))), dict)
        want = [e for e in errs if str(e["loc"][len(head)]).startswith("dict[") == is_table]
        out.extend(want or errs)
    return out


def toml_value(v) -> str:
    """A value as the TOML file writes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    if isinstance(v, float) and v != v:
        return "nan"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (int, float)):
        return f"{v:g}" if isinstance(v, float) else str(v)
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return "a list"
    return repr(v)


def _message(err) -> str | None:
    """A plain message for the type and range errors of numbers, saying what the file gave."""
    t, given = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    shown = toml_value(given)
    if t in ("float_type", "int_type", "bool_type", "float_parsing", "int_parsing"):
        want = {"float_type": "a number", "float_parsing": "a number", "int_type": "a whole number",
                "int_parsing": "a whole number", "bool_type": "true or false"}[t]
        if isinstance(given, bool):
            why = " (true/false is not a number)" if t != "bool_type" else ""
            return f"must be {want}, not {shown}{why}"
        if isinstance(given, str):
            return f"must be {want}, not the text {shown}" + (" (write it without quotes)" if t != "bool_type" else "")
        if t == "int_type" and isinstance(given, float):
            return f"must be a whole number, not {shown}"
        return f"must be {want}, not {shown}"
    if t == "finite_number":
        return f"must be a finite number, not {shown}"
    for code, sym in (("greater_than_equal", "≥"), ("greater_than", ">"), ("less_than_equal", "≤"),
                      ("less_than", "<")):
        if t == code:
            bound = next(iter(ctx.values()), None)
            return f"must be {sym} {toml_value(bound)}, not {shown}"
    return None


def _intervention(data: dict, loc) -> dict | None:
    if len(loc) >= 2 and loc[0] == "interventions" and isinstance(loc[1], int):
        items = data.get("interventions")
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            return items[loc[1]]
    return None


def _where(text: str | None, loc, data: dict) -> str:
    """' (intervention 'x', line n)', ' (line n)' or ''."""
    parts = []
    itv = _intervention(data, loc)
    if itv is not None and isinstance(itv.get("name"), str):
        parts.append(f"intervention '{itv['name']}'")
    line = find_line(text, loc)
    if line:
        parts.append(f"line {line}")
    return f" ({', '.join(parts)})" if parts else ""


def _is_tag(loc, n: int) -> bool:
    """pydantic puts the kind of a tagged intervention in its error locations: interventions.0.<kind>.key."""
    return n == 2 and loc[0] == "interventions" and isinstance(loc[1], int) and loc[2] in KIND_MODELS


def _strip_tag(loc) -> list:
    return [p for n, p in enumerate(loc) if not _is_tag(loc, n)]


def format_loc(loc) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def parse_field(field: str) -> list:
    """'interventions[2].households[0]' -> ['interventions', 2, 'households', 0]."""
    out: list = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field):
        out.append(int(index) if index else name)
    return out


def _model_at(loc, root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model a location points into (for 'did you mean' on unknown keys)."""
    model: type[BaseModel] | None = root
    for n, p in enumerate(loc):
        if isinstance(p, int):
            continue
        if _is_tag(loc, n):
            model = KIND_MODELS[p]
            continue
        field = model.model_fields.get(p) if model else None
        if field is None:
            return None
        ann = field.annotation
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
        if p == "interventions":
            model = None
    return model


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def find_line(text: str | None, loc) -> int | None:
    """Line (1-based) of the key at ``loc`` in a scenario's TOML text, or None when it is not found.

    Knows tables (``[markets]``), arrays of tables (the n-th ``[[interventions]]``) and top-level keys;
    a key missing from its table points at the table's header.
    """
    keys = list(loc)
    if not text or not keys or not isinstance(keys[0], str):
        return None
    lines = text.splitlines()
    headers = [(n, m.group(1)) for n, line in enumerate(lines) if (m := _HEADER.match(line))]
    if keys[0] == "interventions" and len(keys) > 1 and isinstance(keys[1], int):
        starts = [n for n, h in headers if h == "interventions"]
        if keys[1] >= len(starts):
            return None
        start, rest = starts[keys[1]], keys[2:]
    else:
        table = [n for n, h in headers if h == keys[0]]
        if not table:  # a top-level key
            return _key_line(lines, keys[0], 0, headers[0][0] if headers else len(lines))
        start, rest = table[0], keys[1:]
    end = next((n for n, _ in headers if n > start), len(lines))
    name = next((k for k in rest if isinstance(k, str)), None)
    if name is None:
        return start + 1
    return _key_line(lines, name, start + 1, end) or start + 1


def _key_line(lines, key: str, start: int, end: int) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for n in range(start, end):
        if pattern.match(lines[n]):
            return n + 1
    return None


# ------------------------------------------------------------------------------------------------
# economies with case-insensitive labels (GAMS workbooks)
# ------------------------------------------------------------------------------------------------
