"""Fixtures shared by the test modules. Plain helpers (paths, the CliRunner factory) live in
``tests/helpers.py`` so modules can import them; these fixtures wrap them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import make_runner


@pytest.fixture
def runner() -> CliRunner:
    """A CliRunner with stderr kept apart from stdout."""
    return make_runner()


@pytest.fixture
def write_schema(tmp_path: Path) -> Callable[..., Path]:
    """``write_schema(text, name="schema.yaml")``: the (dedented) text as a file in tmp_path."""

    def write(text: str, name: str = "schema.yaml") -> Path:
        p = tmp_path / name
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return p

    return write
