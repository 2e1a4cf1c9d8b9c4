"""The HTML report: one self-contained file (no external src/href, figures embedded as PNG), with the
tables and figures it promises and the numbers of the analysis functions; `lewie report`."""
from html.parser import HTMLParser
import base64
import io

import numpy as np
import pytest
from PIL import Image

import lewie
from lewie.results import analysis as A
from lewie.cli.report_commands import load_for_report, report_cmd
from lewie.errors import InputError
from lewie.results.dataset import save_results

from .conftest import EXAMPLE_SCENARIO
from .draws_fixture import lesotho, lesotho_draws, report

TABLES_ALWAYS = {"table-variants", "table-multipliers", "table-multipliers-detail", "table-income",
                 "table-production", "table-production-multipliers", "table-prices", "table-inequality",
                 "table-synergy", "table-synergy-multiplier", "table-provenance"}


class Page(HTMLParser):
    """What a reader's browser would load and show: tags, attributes, tables with their cells."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.tables: dict[str, dict] = {}
        self.figcaptions: list[str] = []
        self.style = ""
        self._table = None
        self._row = None
        self._text = None
        self._where = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self._table = {"caption": "", "header": [], "rows": []}
            self.tables[a.get("id", f"table{len(self.tables)}")] = self._table
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th", "caption", "figcaption", "style"):
            self._text, self._where = [], tag

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th", "caption", "figcaption", "style") and self._text is not None:
            text = "".join(self._text).strip()
            if tag == "caption":
                self._table["caption"] = text
            elif tag == "figcaption":
                self.figcaptions.append(text)
            elif tag == "style":
                self.style += text
            else:
                self._row.append(text)
            self._text = None
        elif tag == "tr" and self._row is not None:
            if self._table["header"]:
                self._table["rows"].append(self._row)
            else:
                self._table["header"] = self._row
            self._row = None
        elif tag == "table":
            self._table = None

    def rows(self, table: str) -> list[dict]:
        t = self.tables[table]
        return [dict(zip(t["header"], r)) for r in t["rows"]]

    def of(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


@pytest.fixture(scope="module")
def pages():
    return {name: Page(report(name)) for name in ("point", "draws")}


@pytest.mark.parametrize("name", ["point", "draws"])
def test_the_report_is_self_contained(pages, name):
    page = pages[name]
    text = report(name)
    assert not page.of("script") and not page.of("link") and not page.of("iframe") and not page.of("object")
    ids = {a["id"] for _, a in page.tags if "id" in a}
    for tag, a in page.tags:
        for attr in ("src", "href", "srcset", "data", "poster", "action"):
            if attr not in a:
                continue
            if attr == "href":
                assert a[attr].startswith("#") and a[attr][1:] in ids, (tag, a[attr])
            else:
                assert a[attr].startswith("data:image/png;base64,"), (tag, a[attr][:60])
    assert "url(" not in page.style and "@import" not in page.style
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text
    for img in page.of("img"):
        assert img["alt"].strip()
        png = Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1])))
        assert png.format == "PNG" and png.size == (int(img["width"]), int(img["height"]))
        assert np.asarray(png.convert("L")).std() > 10  # something is drawn


def test_figures_and_tables_are_there(pages):
    p, d = pages["point"], pages["draws"]
    assert len(p.of("figure")) == len(p.of("img")) == 4  # no variance decomposition, no convergence plot
    assert len(d.of("figure")) == len(d.of("img")) == 6
    for page in (p, d):
        assert [c.split(".")[0] for c in page.figcaptions] == [f"Figure {i}" for i in range(1, len(page.figcaptions) + 1)]
        assert TABLES_ALWAYS <= set(page.tables)
        for tid, t in page.tables.items():
            assert t["caption"] and t["rows"], tid
    assert "table-drivers" in d.tables and "table-drivers" not in p.tables
    alts = " ".join(i["alt"] for i in d.of("img"))
    for what in ("multipliers", "income change", "output of each activity", "prices", "running mean", "explained variance"):
        assert what in alts


def test_without_draws_the_report_says_so_and_shows_point_values(pages):
    text = report("point")
    assert "No Monte Carlo draws" in text and "no bands" in text
    rows = pages["point"].rows("table-multipliers")
    assert set(rows[0]) == {"variant", "measure", "group", "value"}
    m = A.income_multiplier(lesotho()).sel(draw=0)
    got = {r["variant"]: r["value"] for r in rows if r["measure"] == "nominal income multiplier" and r["group"] == "total"}
    assert got == {str(v): f"{float(m.sel(variant=v)):.3f}" for v in m["variant"].values}


def test_with_draws_the_tables_show_bands_and_exclusions(pages):
    text = report("draws")
    assert "80 random draws" in text and "1 failed solve was excluded" in text
    rows = pages["draws"].rows("table-multipliers")
    assert set(rows[0]) == {"variant", "measure", "group", "point estimate", "mean", "5th pct", "95th pct", "draws"}
    b = A.bands(A.income_multiplier(lesotho_draws(), real=True))
    for r in rows:
        if r["measure"] == "real income multiplier" and r["group"] == "total":
            got = b.sel(variant=r["variant"])
            assert r["5th pct"] == f"{float(got.sel(statistic='p05')):.3f}"
            assert r["95th pct"] == f"{float(got.sel(statistic='p95')):.3f}"
            assert r["draws"] == ("79" if r["variant"] == "springs" else "80")
    syn = pages["draws"].rows("table-synergy")
    assert {r["variant"] for r in syn} == {"cgp+springs"} and {r["parts"] for r in syn} == {"cgp + springs"}
    effects = {(r["variant"], r["household"]): r["effect"] for r in pages["draws"].rows("table-income")}
    assert effects["cgp", "cgp_eligible"] == "direct + indirect" and effects["cgp", "traders"] == "spillover"


def test_provenance(pages):
    ds = lesotho_draws()
    prov = {r["key"]: r["value"] for r in pages["draws"].rows("table-provenance")}
    assert prov["lewie_version"] == lewie.__version__ and prov["report written by lewie"] == lewie.__version__
    assert prov["sam_sha256"] == ds.attrs["sam_sha256"] and len(prov["sam_sha256"]) == 64
    assert prov["seed"] == "11" and prov["solver"] == ds.attrs["solver"] and prov["random draws"] == "80"
    assert prov["failed solves (excluded)"] == "1"
    assert "Scenario as run (JSON)" in report("draws")


def test_a_sweep_is_shown_in_the_tables():
    page = Page(report("sweep"))
    assert "labour_supply_elasticity = 1, 100" in report("sweep")
    rows = page.rows("table-multipliers")
    assert {r["labour_supply_elasticity"] for r in rows} == {"1.0", "100.0"}
    assert len(page.of("img")) == 6


# ------------------------------------------------------------------------------------------------
# lewie report
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "example.nc"
    save_results(lewie.run(EXAMPLE_SCENARIO, draws=0), path)
    return path


def test_cli_report_writes_the_html(results_file, tmp_path, capsys):
    out = tmp_path / "sub" / "report.html"
    report_cmd.main([str(results_file), "--out", str(out)], standalone_mode=False)
    assert str(out) in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert text.count("<figure ") == 4 and "Example village" in text


def test_cli_report_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"missing\.nc: results file not found"):
        report_cmd.main([str(tmp_path / "missing.nc")], standalone_mode=False)
    bad = tmp_path / "notes.nc"
    bad.write_text("not netCDF")
    with pytest.raises(InputError, match=r"notes\.nc: not a lewie results file"):
        load_for_report(bad)
    other = tmp_path / "other.nc"
    import xarray as xr
    xr.Dataset({"x": ("i", [1.0, 2.0])}).to_netcdf(other, engine="h5netcdf")
    with pytest.raises(InputError, match=r"other\.nc: not a lewie results file \(no income"):
        load_for_report(other)


def test_every_figure_has_axis_labels_and_says_what_its_bars_are(monkeypatch):
    """Every matplotlib axes of every figure has an x and a y label (checked before embedding); the
    income figure's caption matches its bars; the drivers figure names parameters in words."""
    import lewie.report.html_report as R
    from .draws_fixture import lesotho_draws
    seen = []
    real = R._embed

    def spy(fig, alt, caption, number):
        seen.append((number, R.axis_labels(fig), caption, [t.get_text() for ax in fig.get_axes()
                                                           for t in ax.get_yticklabels()]))
        return real(fig, alt, caption, number)
    monkeypatch.setattr(R, "_embed", spy)
    R.render_report(lesotho_draws())
    assert [n for n, *_ in seen] == list(range(1, 7))
    for n, labels, caption, _ in seen:
        assert labels and all(x and y for x, y in labels), (n, labels)
    income = seen[1]
    assert all(y == "income change (SAM currency)" for _, y in income[1])
    assert "not split" in income[2] and "split into the direct and indirect" not in income[2]
    assert all("point estimates (draw 0), not Monte Carlo means" in c for _, _, c, _ in seen[:4])
    drivers = seen[4]
    assert all(x in ("share of the explained variance", "first-order sensitivity index") for x, _ in drivers[1])
    ticks = [t for t in drivers[3] if t]
    assert ticks and not any("|" in t for t in ticks)
    assert any(" share of " in t and t.endswith(")") for t in ticks)
    # a figure without labels is refused, not embedded
    from matplotlib.figure import Figure
    fig = Figure()
    fig.add_subplot().plot([0, 1])
    with pytest.raises(ValueError, match="axis label"):
        real(fig, "alt", "caption", 9)


def test_entry_labels_read_as_words():
    from lewie.report.html_report import _entry_label
    assert _entry_label("factor_share|crop||Labor|Elig") == "Labor share of crop (Elig)"
    assert _entry_label("budget_share|retail|||Elig") == "budget share of retail (Elig)"
    assert _entry_label("savings_rate||||Trader") == "savings rate (Trader)"
