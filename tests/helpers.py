"""Plain helpers shared by the test modules (the fixtures over them are in ``conftest.py``)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "schemas" / "examples"
#: every example schema, sorted (what ``datagen.example_schemas()`` ships)
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))


def make_runner() -> CliRunner:
    """A CliRunner that keeps stderr apart from stdout (click < 8.2 needs asking; 8.2 does so)."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def output_text(result) -> str:
    """Everything a CLI run printed: stdout, then stderr when kept apart."""
    text = result.output
    try:
        err = result.stderr
    except ValueError:  # stderr mixed into output
        return text
    return text if err in text else text + err
