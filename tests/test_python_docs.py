"""The code blocks of docs/python.md run, in order, in one namespace: the page cannot drift from
what ``import datagen`` does."""

from __future__ import annotations

import os
import re

from tests.helpers import ROOT

DOC = ROOT / "docs" / "python.md"


def test_every_python_block_of_the_page_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(ROOT)  # the page's paths are relative to the repository
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"{DOC.name} block {i + 1}", "exec"), namespace)  # noqa: S102 - our own page
    finally:
        os.chdir(cwd)
