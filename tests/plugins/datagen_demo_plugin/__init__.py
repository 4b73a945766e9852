"""An out-of-tree plugin, as another package would ship it: one generator and one format.

``tests/test_plugins.py`` puts this folder on ``PYTHONPATH`` and loads the package through
``DATAGEN_PLUGINS=datagen_demo_plugin`` or through an entry point; nothing in the repository
names it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from shared.distributions.base import Generator, obj, register
from shared.formats import Format, Written
from shared.formats import register as register_format


@register("countdown")
class Countdown(Generator):
    """``start - row``: a deterministic integer column counting down."""

    kinds = frozenset({"int"})
    params_schema = obj(("start",), start={"type": "integer"})
    unique_strategy = "native"  # distinct by construction: a capability, declared on the class

    def generate(self, ctx):
        return np.int64(ctx.params["start"]) - ctx.rows


class _PipeWriter:
    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self._w = pacsv.CSVWriter(str(path), schema, write_options=pacsv.WriteOptions(delimiter="|"))

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self._w.write_batch(batch)

    def close(self) -> list[Path | Written]:
        self._w.close()
        return [Path(self.path.name)]

    def abort(self) -> None:
        self._w.close()


@register_format("pipes")
class PipeFormat(Format):
    """``<table>.psv``: pipe-separated text with a header."""

    option_help = {"note": "free text, ignored (shows that options reach the format)"}

    def open_writer(self, out_dir, table, arrow_schema, options, run=None):
        return _PipeWriter(Path(out_dir) / f"{table.name}.psv", arrow_schema)

    def artifacts(self, out_dir, table):
        return [Path(out_dir) / f"{table.name}.psv"]

    def read_table(self, out_dir, table, arrow_schema):
        return pacsv.read_csv(str(self.artifacts(out_dir, table)[0]),
                              parse_options=pacsv.ParseOptions(delimiter="|"),
                              convert_options=pacsv.ConvertOptions(column_types=arrow_schema))
