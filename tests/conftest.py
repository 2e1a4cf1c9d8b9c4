"""Shared fixtures: the bundled example, and a builder of small synthetic economies."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lewie.sam.io import write_sam
from lewie.config.scenario import scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SCENARIO = REPO / "scenarios" / "example_village.toml"
EXAMPLE_SAM = REPO / "sam" / "data" / "example_village" / "sam.csv"


@pytest.fixture
def example_scenario() -> Path:
    return EXAMPLE_SCENARIO


def sam_from_flows(flows: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A SAM from {(row, column): value}; accounts are every label named, in order of appearance."""
    labels: list[str] = []
    for r, c in flows:
        for lab in (r, c):
            if lab not in labels:
                labels.append(lab)
    for o in ("out:world", "out:savings", "out:transfers", "out:spending"):
        if o not in labels:
            labels.append(o)
    sam = pd.DataFrame(0.0, index=labels, columns=labels)
    for (r, c), v in flows.items():
        sam.at[r, c] += v
    return sam


def write_scenario(tmp_path: Path, sam: pd.DataFrame, **fields) -> object:
    """Write the SAM next to a scenario built from ``fields`` and return the validated scenario."""
    sam_path = tmp_path / "sam.csv"
    write_sam(sam, sam_path)
    data = {"name": "test", "sam": "sam.csv", **fields}
    return scenario_from_dict(data, base=tmp_path, source=tmp_path / "scenario.toml")


def example_dict(**overrides) -> dict:
    """The example scenario as a dict (paths absolute), with overrides."""
    import tomllib
    data = tomllib.loads(EXAMPLE_SCENARIO.read_text())
    data["sam"] = str(EXAMPLE_SAM)
    data.update(overrides)
    return data
