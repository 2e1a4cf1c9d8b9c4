"""The report as a reader sees it: rendered by headless Chromium, every figure decoded and laid out,
every table there with its caption, nothing fetched from outside.

Needs Debian's `chromium` (tools/setup_chromium.sh installs it; $LEWIE_CHROMIUM names another
binary). Skipped with the reason when it is missing, except with CI=true, where that is a failure.
"""
import html
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from .draws_fixture import report

# Added to a test copy of the page: after layout, write what the browser made of it into the DOM.
PROBE = """<script>
window.addEventListener("load", () => {
  const box = e => { const r = e.getBoundingClientRect(); return {w: r.width, h: r.height}; };
  const out = {
    title: document.title,
    images: [...document.images].map(i => ({alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth,
                                            naturalHeight: i.naturalHeight, shown: box(i)})),
    figures: [...document.querySelectorAll("figure")].map(f => ({
        caption: (f.querySelector("figcaption") || {}).textContent || "", shown: box(f),
        xlabel: f.dataset.xlabel || "", ylabel: f.dataset.ylabel || ""})),
    tables: [...document.querySelectorAll("table")].map(t => ({
        id: t.id, caption: t.caption ? t.caption.textContent : "", rows: t.tBodies[0] ? t.tBodies[0].rows.length : 0,
        columns: t.tHead ? t.tHead.rows[0].cells.length : 0, shown: box(t)})),
    resources: performance.getEntriesByType("resource").map(r => r.name),
  };
  const pre = document.createElement("pre");
  pre.id = "lewie-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars"]


def chromium() -> str:
    exe = os.environ.get("LEWIE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    reason = "headless Chromium is not installed (tools/setup_chromium.sh installs Debian's chromium as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI=true requires it")
    pytest.skip(reason)


def run_chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


def probe(tmp_path, name: str) -> tuple[dict, str]:
    text = report(name)
    page = tmp_path / f"{name}.html"
    page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    m = re.search(r'<pre id="lewie-probe">(.*?)</pre>', dom, re.S)
    assert m, "the page's load handler did not run (no probe in the dumped DOM)"
    return json.loads(html.unescape(m.group(1))), text


@pytest.mark.parametrize("name, n_figures", [("draws", 6), ("point", 4)])
def test_chromium_shows_every_figure_and_table(tmp_path, name, n_figures):
    got, text = probe(tmp_path, name)
    assert got["title"].startswith("Lesotho")
    assert len(got["images"]) == len(got["figures"]) == n_figures
    for img in got["images"]:
        assert img["complete"] and img["naturalWidth"] > 0 and img["naturalHeight"] > 0, img["alt"]
        assert img["shown"]["w"] > 100 and img["shown"]["h"] > 100, img["alt"]
    for i, fig in enumerate(got["figures"], 1):
        assert fig["caption"].startswith(f"Figure {i}.")
        # every panel of every figure has both axis labels (checked on the matplotlib axes when embedding,
        # recorded on the figure element, read back here from the rendered page)
        xs, ys = fig["xlabel"].split(" | "), fig["ylabel"].split(" | ")
        assert len(xs) == len(ys) >= 1 and all(x.strip() for x in xs) and all(y.strip() for y in ys), fig
    ylabels = " ".join(f["ylabel"] for f in got["figures"])
    assert "income change (SAM currency)" in ylabels and "change per unit of cost" in ylabels
    assert len(got["tables"]) == text.count("<table")
    ids = {t["id"] for t in got["tables"]}
    assert {"table-multipliers", "table-income", "table-production", "table-prices", "table-synergy",
            "table-provenance"} <= ids
    assert ("table-drivers" in ids) == (name == "draws")
    for t in got["tables"]:
        assert t["caption"] and t["rows"] > 0 and t["columns"] >= 2 and t["shown"]["w"] > 0, t["id"]
    assert not [r for r in got["resources"] if not r.startswith("data:")]  # nothing fetched


def test_chromium_screenshot_is_not_blank(tmp_path):
    page = tmp_path / "point.html"
    page.write_text(report("point"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    run_chromium(tmp_path, "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri())
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[:2] == (3000, 1200)
    ink = (img < 200).any(axis=2).mean()
    assert 0.01 < ink < 0.6  # text, tables and a figure: neither empty nor a solid block
    colour = (np.ptp(img.astype(int), axis=2) > 60).mean()
    assert colour > 0.001  # the figures' coloured bars are painted
