"""docs/architecture.md names every module (one line each) and the planned layout."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_module_has_its_line_in_the_architecture_page():
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    for folder in ("lewie", "solvers", "sam"):
        for f in sorted((REPO / folder).glob("*.py")):
            assert f"`{f.name}`" in text, f"docs/architecture.md does not describe {folder}/{f.name}"
    assert "## Next step: a layout by stage" in text
