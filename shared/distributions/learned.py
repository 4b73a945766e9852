"""Values sampled from a learned model: ``learned`` reads a CTGAN model file (``datagen fit --deep``).

A table's columns fed by the same model take one joint sample per chunk of rows, so the
relations the model learned between them hold row by row. Addressable like every other stream:
rows are sampled in fixed, aligned chunks (chunk ``c`` covers rows ``[c·CHUNK_ROWS,
(c+1)·CHUNK_ROWS)``), each from its own seed ``stream_key(seed, table, "learned:" + model,
"chunk", c)``, one thread, with numpy's and torch's global random states set for the call and
restored after (CTGAN draws from both). A block then takes its rows out of the chunks it spans —
the same bytes whatever the block size or worker count. Sampled chunks are kept per process
(``_FRAMES``, a bounded cache), so the columns of one block and the next block of the same chunk
sample the model once.

The model file is named relative to the schema's folder; its SHA-256 is part of the schema's
identity (``Source.sha256``, via ``Generator.files``), so a changed model changes the
fingerprint of every run. A model file is a pickle (``torch.load``): load only models you
trust, as you would run their code.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from shared.distributions.base import Generator, file_sha256, obj, register, schema_file
from shared.io import rng

#: rows per sampled chunk: the unit of determinism (changing it changes the data)
CHUNK_ROWS = 2048
#: sampled chunks kept per process (each a frame of CHUNK_ROWS rows of the model's columns)
MAX_FRAMES = 64
#: the hint shown when the learned backend's packages are missing
INSTALL_HINT = ("install the fit-deep extra: `.venv/bin/pip install --no-deps -r requirements-fit-deep.txt`, "
                "or `python3 all-in-one/datagen_bootstrap.py --setup`")

_MODELS: dict[tuple[str, str], Any] = {}
_FRAMES: OrderedDict[tuple, Any] = OrderedDict()


def null_column(name: str) -> str:
    """The model's companion column of a continuous column with nulls (CTGAN takes none in a
    continuous column): true where the value is missing."""
    return f"{name} (null)"


def backend_missing() -> str | None:
    """Why the learned backend cannot run here (its packages are not installed), or None."""
    try:
        import ctgan  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        return f"the learned backend needs ctgan and torch, which are not installed ({exc})"
    return None


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread for the call (reproducible float sums), restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_model(path: Path) -> Any:
    """The CTGAN model in ``path`` (``ctgan``'s own ``load``), once per process per file content."""
    key = (str(path), file_sha256(path))
    model = _MODELS.get(key)
    if model is None:
        from ctgan import CTGAN

        model = _MODELS[key] = CTGAN.load(str(path))
    return model


def model_columns(model: Any) -> list[str]:
    """The columns a CTGAN model generates, in its order."""
    return [info.column_name for info in model._transformer._column_transform_info_list]


def chunk_seed(seed: int, table: str, model: str, chunk: int) -> int:
    """The 32-bit seed of one chunk (numpy's legacy ``RandomState`` takes 32 bits)."""
    return rng.stream_key(seed, table, "learned:" + model, "chunk", int(chunk)) & 0xFFFFFFFF


def sample_chunk(model: Any, seed32: int, n: int = CHUNK_ROWS) -> Any:
    """``n`` rows of ``model`` from ``seed32``: numpy's and torch's global states are set for the
    call by ctgan's own ``set_random_state`` (and restored after it), on one torch thread."""
    with one_thread():
        model.set_random_state(int(seed32))
        return model.sample(n)


def _frame(path: Path, digest: str, model_name: str, seed: int, table: str, chunk: int) -> Any:
    key = (str(path), digest, seed, table, model_name, chunk)
    got = _FRAMES.get(key)
    if got is not None:
        _FRAMES.move_to_end(key)
        return got
    got = sample_chunk(load_model(path), chunk_seed(seed, table, model_name, chunk))
    _FRAMES[key] = got
    while len(_FRAMES) > MAX_FRAMES:
        _FRAMES.popitem(last=False)
    return got


def _engine_values(kind: str, series: Any) -> tuple[Any, np.ndarray]:
    """A sampled pandas column → (values in engine units, missing mask)."""
    import pandas as pd

    missing = np.asarray(pd.isna(series), dtype=bool)
    if kind in ("string", "uuid"):
        # the whole column as text at once, its missing cells null: no Python object per row
        text = pa.array(series.astype(str).to_numpy(dtype=object), type=pa.string())
        return pa.compute.if_else(pa.array(missing), pa.scalar(None, pa.string()), text), missing
    if kind == "bool":
        text = np.asarray(series.astype(str).str.lower().isin(["true", "1", "1.0", "yes"]), dtype=bool)
        return text, missing
    x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return x, missing | np.isnan(x)


@register("learned")
class Learned(Generator):
    """Values of one column of a learned model (a CTGAN model file that `datagen fit --deep` wrote).

    The columns of a table fed by the same model are sampled jointly, row by row, so the
    relations it learned between them hold. `model`: the file, relative to the schema's folder;
    `column`: the model's column (default: this column's name). Rows are sampled in fixed chunks
    of 2,048, each from its own seed, on one thread: the same bytes whatever the block size or
    worker count. The model file's SHA-256 is part of the schema's fingerprint. Needs the
    fit-deep extra (ctgan, torch on CPU); a model file is a pickle: use only models you trust."""

    kinds = frozenset({"int", "float", "decimal", "bool", "string", "date", "timestamp"})
    params_schema = obj(("model",), model={"type": "string", "minLength": 1},
                        column={"type": "string", "minLength": 1})

    def files(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        return (str(params["model"]),) if isinstance(params.get("model"), str) else ()

    def check(self, column, table, schema):
        params = column.generator.params
        name = params.get("model")
        if not isinstance(name, str):
            return [("learned needs 'model', the model file", "params.model", None)]
        path = schema_file(schema, name)
        if not path.is_file():
            return [(f"no model file {name!r} (looked for {path})", "params.model",
                     "give the path relative to the schema's folder; `datagen fit --deep TABLE` writes "
                     "models/TABLE.ctgan.pkl next to the schema")]
        missing = backend_missing()
        if missing:
            return [(missing, "params.model", INSTALL_HINT)]
        try:
            model = load_model(path)
            names = model_columns(model)
        except Exception as exc:  # noqa: BLE001 - any unreadable pickle is the user's file problem
            return [(f"cannot read the model file {name!r}: {type(exc).__name__}: {exc}", "params.model",
                     "write it again with `datagen fit --deep TABLE`")]
        wanted = str(params.get("column") or column.name)
        if wanted not in names:
            from shared.registry import did_you_mean

            hint = did_you_mean(wanted, names)
            return [(f"the model {name!r} has no column {wanted!r} (it has: {', '.join(names)})",
                     "params.column" if params.get("column") else "params", hint)]
        return []

    def generate(self, ctx):
        params = ctx.params
        name = str(params["model"])
        path = schema_file(ctx.schema, name)
        digest = file_sha256(path)
        wanted = str(params.get("column") or ctx.column.name)
        rows = np.asarray(ctx.rows, dtype=np.int64)
        kind = ctx.column.dtype.kind
        if rows.size == 0:
            import pandas as pd

            return _engine_values(kind, pd.Series([], dtype=object))[0]
        chunks = rows // CHUNK_ROWS
        values: Any = None
        missing = np.zeros(rows.shape, dtype=bool)
        parts: list[tuple[np.ndarray, Any]] = []
        for c in np.unique(chunks):
            at = np.flatnonzero(chunks == c)
            frame = _frame(path, digest, name, ctx.seed, ctx.table.name, int(c))
            pick = rows[at] - int(c) * CHUNK_ROWS
            v, m = _engine_values(kind, frame[wanted].iloc[pick])
            flag = null_column(wanted)
            if flag in frame.columns:
                m = m | _engine_values("bool", frame[flag].iloc[pick])[0]
            missing[at] = m
            parts.append((at, v))
        if kind in ("string", "uuid"):
            if len(parts) == 1:
                values = parts[0][1]
            else:
                order = np.concatenate([at for at, _ in parts])
                joined = pa.concat_arrays([v for _, v in parts])
                values = joined.take(pa.array(np.argsort(order, kind="stable")))
        else:
            values = np.empty(rows.shape, dtype=parts[0][1].dtype)
            for at, v in parts:
                values[at] = v
        return (values, missing) if missing.any() else values

    def describe(self, params: Mapping[str, Any]) -> str:
        col = params.get("column")
        return f"learned({params.get('model')}" + (f", column={col}" if col else "") + ")"

