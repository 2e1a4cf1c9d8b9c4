"""docs/economics.md is generated from the model (tools/economics_doc.py) and must be up to date."""
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_economics_page_is_generated_from_the_current_model():
    spec = importlib.util.spec_from_file_location("economics_doc", REPO / "tools" / "economics_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (REPO / "docs" / "economics.md").read_text() == mod.page(), \
        "regenerate: .venv/bin/python tools/economics_doc.py > docs/economics.md"
