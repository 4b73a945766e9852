"""Console output shows user data as written: nothing in a schema or a report is read as rich markup."""

from __future__ import annotations

import io
import textwrap

from rich.console import Console

from shared import api
from shared.cli.common import render_describe, render_report

SCHEMA = textwrap.dedent(r"""
    version: 1
    name: mk
    description: "see [red]this[/red]"
    tables:
      - name: t
        rows: 5
        columns:
          - name: email
            type: string
            pattern: "[^@ ]+@[a-z]+\\.com"
            generator: {type: regex, params: {pattern: "[a-z]{3}@[a-z]{4}\\.com"}}
          - name: c
            type: string
            allowed: ["[bold]x", "y"]
            generator: {type: choice, params: {values: ["[bold]x", "y"]}}
""")


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=400, highlight=False, soft_wrap=True, color_system=None), buf


def test_describe_prints_patterns_and_values_verbatim(tmp_path):
    p = tmp_path / "mk.yaml"
    p.write_text(SCHEMA)
    info = api.describe(api.resolve_plan(api.load_schema(str(p))))
    console, buf = _console()
    render_describe(info, console)
    text = buf.getvalue()
    assert r"pattern [^@ ]+@[a-z]+\.com" in text
    assert "in {[bold]x, y}" in text
    assert "see [red]this[/red]" in text


def test_report_prints_messages_and_samples_verbatim(tmp_path):
    rep = {"output": str(tmp_path / "[o]"), "format": "parquet", "status": "fail",
           "summary": {"checks": 1, "passed": 0, "failed": 1, "warnings": 0, "skipped": 0},
           "checks": [{"kind": "allowed", "table": "t", "column": "c", "status": "fail",
                       "message": "2 values not in [bold]x, y", "sample": ["[bold]z", "[/]"]}]}
    console, buf = _console()
    render_report(rep, tmp_path / "[r].json", console)
    text = buf.getvalue()
    assert "2 values not in [bold]x, y" in text
    assert "['[bold]z', '[/]']" in text
    assert "[o]" in text and "[r].json" in text


def _generate_with_stderr(tmp_path, tty: bool, *extra: str) -> str:
    """Run ``datagen generate`` with stderr on a pseudo-terminal (or a pipe); what it wrote there."""
    import os
    import pty
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-P", "-m", "datagen", "generate", "--format", "csv", "--schema",
           str(root / "schemas" / "examples" / "shop.yaml"), "--out", str(tmp_path / "o"), "--workers", "1",
           "--rows", "customers=20000", "--force", *extra]
    env = dict(os.environ, PYTHONPATH=str(root), COLUMNS="120")
    if not tty:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=300)
        return r.stderr
    main, side = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=side, stdin=subprocess.DEVNULL)
    os.close(side)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=300) == 0
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_is_shown_on_a_terminal_only(tmp_path):
    shown = _generate_with_stderr(tmp_path, tty=True)
    assert "customers" in shown and "/20000" in shown, shown[-2000:]  # a bar per table: rows done of rows
    assert _generate_with_stderr(tmp_path, tty=False) == ""
    assert "customers" not in _generate_with_stderr(tmp_path, True, "--quiet")
