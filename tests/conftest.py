"""Fixtures shared by the test modules. Plain helpers (paths, the CliRunner factory) live in
``tests/helpers.py`` so modules can import them; these fixtures wrap them."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import make_runner


@pytest.fixture(scope="session", autouse=True)
def _run_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every run the tests make is recorded (docs/runs.md): into a store of this session, never
    the user's. ``XDG_STATE_HOME`` too, for the subprocesses that drop the ``DATAGEN_*`` names."""
    state = tmp_path_factory.mktemp("state")
    saved = {k: os.environ.get(k) for k in ("DATAGEN_RUNS_DB", "XDG_STATE_HOME")}
    os.environ["DATAGEN_RUNS_DB"] = str(state / "runs.sqlite")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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


@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL cluster for the session (``tests/pg_server.py``), started on first
    use and removed at the end. ``DATAGEN_TEST_POSTGRES=skip`` skips the tests that need it."""
    import os

    if os.environ.get("DATAGEN_TEST_POSTGRES", "").lower() == "skip":
        pytest.skip("DATAGEN_TEST_POSTGRES=skip")
    from tests import pg_server as pg

    server = pg.start()
    try:
        yield server
    finally:
        pg.stop(server)


@pytest.fixture
def pg_dsn(pg_server, request) -> str:
    """A new, empty database on the session's server: its DSN (password included)."""
    import hashlib

    name = "t_" + hashlib.blake2b(request.node.nodeid.encode(), digest_size=8).hexdigest()
    return pg_server.create_database(name)
