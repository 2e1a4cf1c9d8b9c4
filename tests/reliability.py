"""Helpers of the reliability tests (issue 11): run the CLI in-process, write bad inputs."""
from __future__ import annotations

from pathlib import Path

from lewie.cli.main import run_main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SCENARIO = REPO / "scenarios" / "example_village.toml"
EXAMPLE_SAM = REPO / "sam" / "data" / "example_village" / "sam.csv"
EXAMPLE_TEXT = EXAMPLE_SCENARIO.read_text(encoding="utf-8")


def lewie(capsys, *args) -> tuple[int, str, str]:
    """Run ``lewie ARGS`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    rc = run_main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def assert_clean_error(rc: int, err: str, *, code: int = 1, names: tuple[str, ...] = ()) -> None:
    """One clear error: the exit code, every name in ``names`` (the file, the field ...) in the message,
    no traceback, no 'internal error'."""
    assert rc == code, (rc, err)
    assert "Traceback" not in err and "internal error" not in err, err
    for n in names:
        assert n in err, (n, err)


def scenario_text(**replace: str) -> str:
    """The example scenario's text with the SAM path absolute and ``old=new`` replacements (keys are
    looked up in `EDITS`)."""
    text = EXAMPLE_TEXT.replace('sam = "../sam/data/example_village/sam.csv"', f'sam = "{EXAMPLE_SAM}"')
    for old, new in replace.items():
        old = EDITS.get(old, old)
        assert old in text, old
        text = text.replace(old, new)
    return text


EDITS = {"amount": "amount = 480.0", "elasticity": "elasticity = 100", "labour": "[labour_supply]"}


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p
