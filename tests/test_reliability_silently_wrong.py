"""Silently wrong (issue 11): never a number lewie cannot stand behind. A SAM whose magnitudes double
precision cannot carry is refused by `sam check` and by `run` alike; an infinite cost is refused; a
chunk file damaged on disk is detected by its checksum and computed again, not merged."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from lewie.results.dataset import load_results

from lewie.runs.chunk_files import read_chunk
from lewie.runs.dask_batch import dask_client, run_batch
from lewie.runs.chunk_files import ChunkCorrupted
from lewie.sam.io import read_sam, write_sam

from .reliability import EXAMPLE_SAM, REPO, assert_clean_error, lewie, scenario_text, write


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_magnitudes_double_precision_cannot_carry_are_refused(tmp_path, capsys, scale):
    sam = write_sam(read_sam(EXAMPLE_SAM) * scale, tmp_path / "scaled.csv")
    rc, out, err = lewie(capsys, "sam", "check", sam)
    assert rc == 1 and "magnitude" in out and "SAM OK" not in out and "rescale the SAM" in out
    text = scenario_text(amount=f"amount = {480.0 * scale!r}").replace(str(EXAMPLE_SAM), str(sam))
    scen = write(tmp_path, "scaled.toml", text)
    rc, out, err = lewie(capsys, "run", scen, "--out", tmp_path / "r.nc")
    assert_clean_error(rc, err, names=("scaled.csv", "double precision", "rescale the SAM"))
    assert "multiplier" not in out.lower() and not (tmp_path / "r.nc").exists()


def test_a_sam_with_one_cell_out_of_range_is_refused_naming_the_cell(tmp_path, capsys):
    from lewie.sam.check import flow_is_supported
    s = read_sam(EXAMPLE_SAM)
    n = int((s != 0).sum().sum())
    r, c = next((r, c) for r in s.index for c in s.columns if s.at[r, c] == 0 and flow_is_supported(r, c))
    s.loc[r, c] = 1e-200  # a speck no balance check can see
    rc, out, _ = lewie(capsys, "sam", "check", write_sam(s, tmp_path / "speck.csv"))
    assert rc == 1 and f"1 of {n + 1} non-zero cells" in out and f"(row '{r}', column '{c}') = 1e-200" in out


@pytest.mark.parametrize("cost", ["inf", "-inf", "nan", "0"])
def test_a_meaningless_cost_never_gives_multipliers(tmp_path, capsys, cost):
    scen = write(tmp_path, "cost.toml", scenario_text(amount=f"amount = 480.0\ncost = {cost}"))
    rc, out, err = lewie(capsys, "run", scen, "--out", tmp_path / "r.nc")
    assert_clean_error(rc, err, names=("cost.toml", "'interventions[0].cost'"))
    assert "multiplier" not in out.lower()


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=1, processes=False) as c:
        yield c


def test_a_chunk_with_zeroed_bytes_is_detected_and_recomputed(tmp_path, client):
    """64 bytes zeroed inside a chunk's data: it still opens as netCDF (the old check passed it and NaN
    became 0.0 in the merged results); its checksum does not match, so --resume computes it again."""
    zambia = REPO / "scenarios" / "zambia_cgp.toml"
    out = tmp_path / "out"
    first = run_batch([zambia], out, draws=5, chunk_size=3, client=client, progress=False, keep_chunks=True)
    whole = load_results(first.outputs[0])
    chunk = first.plan.chunks[1].path(out)
    data = bytearray(chunk.read_bytes())
    at = len(data) - 200
    data[at:at + 64] = bytes(64)
    chunk.write_bytes(bytes(data))
    with xr.open_dataset(chunk, engine="scipy") as ds:  # still readable: only a checksum finds it
        ds.load()
    with pytest.raises(ChunkCorrupted, match="do not match its checksum"):
        read_chunk(chunk)
    first.outputs[0].unlink()
    again = run_batch([zambia], out, draws=5, chunk_size=3, client=client, progress=False, resume=True)
    assert again.computed == [first.plan.chunks[1].ident] and len(again.reused) == 1
    xr.testing.assert_identical(load_results(again.outputs[0]), whole)


def test_a_chunk_without_its_checksum_is_recomputed(tmp_path, client):
    from lewie.runs.chunk_files import checksum_path
    zambia = REPO / "scenarios" / "zambia_cgp.toml"
    out = tmp_path / "out"
    first = run_batch([zambia], out, draws=2, chunk_size=2, client=client, progress=False, keep_chunks=True)
    checksum_path(first.plan.chunks[0].path(out)).unlink()  # killed between writing the chunk and its checksum
    first.outputs[0].unlink()
    again = run_batch([zambia], out, draws=2, chunk_size=2, client=client, progress=False, resume=True)
    assert again.computed == [first.plan.chunks[0].ident]
    assert np.isfinite(load_results(again.outputs[0])["income"]).all()
