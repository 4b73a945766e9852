"""Reading the real and synthetic tables, their sdtypes and relationships, and encoding columns.

* **Reading.** ``--real`` and ``--holdout`` are any source ``datagen fit`` reads
  (:func:`datagen.fit.sources.read_source`: a folder of CSV/Parquet/NDJSON, an SQLite file, a
  PostgreSQL DSN, a mapping of DataFrames / Arrow tables). ``--synthetic`` is the same, or a folder
  ``datagen generate`` wrote: its ``manifest.json`` lists each table's files; with ``--schema`` they
  are read by the format's own reader with the schema's Arrow types (as ``validate`` reads them),
  without it Parquet is read by pyarrow and the other formats through ``datagen query``'s views.
* **sdtypes** (SDMetrics' words): ``id`` (a primary or foreign key), ``numerical``, ``datetime``,
  ``categorical``, ``boolean``, ``text`` (free text: only missing values, coverage of nothing).
  From ``--schema`` when given (types, keys, foreign keys, ``choice`` / ``allowed`` → categorical),
  else from the real data with ``datagen fit``'s inference (its primary keys and foreign keys).
  Text is categorical when it has at most ``MAX_TEXT_CATEGORIES`` distinct values, each seen twice
  on average (fit's rule). The result is SDMetrics-shaped metadata (``{"tables": {…},
  "relationships": […]}``), which ``metadata=`` may also give directly.
* **Encoding.** A continuous column (numerical, datetime) becomes ``float64`` with NaN for missing
  (datetimes: microseconds since the epoch; dates and timestamps written as text are parsed); a
  discrete one (categorical, boolean, text) becomes ``int64`` codes into one dictionary shared by
  real, synthetic and holdout, ``-1`` for missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.errors import UsageError

__all__ = ["read_tables", "read_synthetic", "infer_metadata", "metadata_from_schema", "Column", "encode_column",
           "CONTINUOUS", "DISCRETE", "MAX_TEXT_CATEGORIES"]

CONTINUOUS = ("numerical", "datetime")
DISCRETE = ("categorical", "boolean")
SDTYPES = ("id", "numerical", "datetime", "categorical", "boolean", "text")
#: text with at most this many distinct values, each seen twice on average, is categorical
MAX_TEXT_CATEGORIES = 50


def _relabel(exc: UsageError, option: str) -> UsageError:
    text = str(exc).replace("--source", option).replace("no table left to fit", "no table left to compare")
    return UsageError(text.replace("fit: ", "report: ", 1))


def read_tables(source: Any, option: str, include: list[str] | None = None) -> dict[str, pa.Table]:
    """Every table of a real (or holdout) source, by name."""
    from datagen.fit.sources import read_source

    try:
        return read_source(source, include=include)
    except UsageError as exc:
        raise _relabel(exc, option) from None


def read_synthetic(source: Any, schema: Any | None, include: list[str] | None = None) -> dict[str, pa.Table]:
    """The synthetic tables: a folder ``generate`` wrote (read through its manifest), else any
    source ``read_tables`` takes."""
    if isinstance(source, Mapping) or not (Path(str(source)) / "manifest.json").is_file():
        return read_tables(source, "--synthetic", include)
    import datagen.query as q

    out = Path(str(source))
    try:
        found = q.tables(out)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--out", "--synthetic")) from None
    found.pop(q.EVENTS_VIEW, None)
    if include:
        from shared.registry import did_you_mean

        for name in include:
            if name not in found:
                hint = did_you_mean(name, found)
                raise UsageError(f"--include {name}: no such table in {out}" + (f" ({hint})" if hint else "")
                                 + f"; tables: {', '.join(found)}")
        found = {n: t for n, t in found.items() if n in include}
    tables: dict[str, pa.Table] = {}
    model = schema.written if schema is not None else None
    manifest = q._manifest(out)[1]
    rest = []
    for name, t in found.items():
        if model is not None and any(mt.name == name for mt in model.tables) and t.format != q.EVENT_TABLE:
            from shared.formats import get_format
            from shared.schema_dsl.engine import arrow_schema

            mt = model.table(name)
            arrow = arrow_schema(mt, dirty=isinstance(manifest.get("corruption"), dict))
            try:
                tables[name] = get_format(manifest["format"]).read_table(out, mt, arrow)
                continue
            except (NotImplementedError, pa.ArrowException, OSError, KeyError):
                pass
        if t.format == "parquet":
            import pyarrow.parquet as pq

            tables[name] = pa.concat_tables([pq.read_table(f) for f in t.files], promote_options="permissive")
        else:
            rest.append(name)
    if rest:
        con = q.connect(out)
        try:
            for name in rest:
                tables[name] = con.sql(f"SELECT * FROM {q._q(name)}").to_arrow_table()
        finally:
            con.close()
    return tables


# --- sdtypes ------------------------------------------------------------------------------------

def _text_is_categorical(values: pa.ChunkedArray | pa.Array) -> bool:
    present = pc.drop_null(values)
    n = len(present)
    if n == 0:
        return False
    distinct = pc.count_distinct(present).as_py()
    return distinct <= MAX_TEXT_CATEGORIES and distinct * 2 <= n


def _kind(t: pa.DataType) -> str | None:
    if pa.types.is_dictionary(t):
        return _kind(t.value_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numerical"
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return "text"
    return None


def infer_metadata(real: dict[str, pa.Table]) -> dict[str, Any]:
    """SDMetrics-shaped metadata from the real data: fit's types, primary keys and foreign keys."""
    from datagen.fit.infer import composite_key, infer_table
    from datagen.fit.relations import find_relations

    facts = {name: infer_table(name, t) for name, t in real.items()}
    relations, _notes = find_relations(facts, set())
    fks: dict[str, set[str]] = {}
    for r in relations:
        fks.setdefault(r.child, set()).add(r.column)
    for name, f in facts.items():
        if not f.primary_key:
            pair = composite_key(real[name], f, sorted(fks.get(name, ())))
            if pair:
                f.primary_key, f.key_kind = pair, "composite"
    tables: dict[str, Any] = {}
    for name, f in facts.items():
        cols: dict[str, Any] = {}
        for cname in real[name].column_names:
            c = f.columns.get(cname)
            if c is None:
                continue
            if cname in f.primary_key or cname in fks.get(name, ()):
                sd = "id"
            elif c.kind == "bool":
                sd = "boolean"
            elif c.kind in ("date", "timestamp"):
                sd = "datetime"
            elif c.kind in ("int", "float"):
                sd = "numerical"
            else:
                sd = "categorical" if _text_is_categorical(c.values) else "text"
            cols[cname] = {"sdtype": sd}
        node: dict[str, Any] = {"columns": cols}
        if f.primary_key:
            node["primary_key"] = f.primary_key[0] if len(f.primary_key) == 1 else list(f.primary_key)
        tables[name] = node
    rels = [{"parent_table_name": r.parent, "parent_primary_key": r.parent_column, "child_table_name": r.child,
             "child_foreign_key": r.column} for r in relations if not r.self_reference]
    return {"tables": tables, "relationships": rels}


def metadata_from_schema(schema: Any, real: dict[str, pa.Table]) -> dict[str, Any]:
    """SDMetrics-shaped metadata from a DSL schema (its written tables that the real data has)."""
    model = schema.written
    tables: dict[str, Any] = {}
    rels = []
    for mt in model.tables:
        if mt.name not in real:
            continue
        data = real[mt.name]
        fk_cols = {fk.column for fk in mt.foreign_keys}
        cols: dict[str, Any] = {}
        for c in mt.columns:
            if c.name not in data.column_names:
                continue
            kind = c.dtype.kind
            gen = c.generator.type if c.generator is not None else None
            if c.name in mt.primary_key or c.name in fk_cols:
                sd = "id"
            elif kind == "bool":
                sd = "boolean"
            elif kind in ("date", "timestamp"):
                sd = "datetime"
            elif gen == "choice" or c.allowed:
                sd = "categorical"
            elif kind in ("int", "float", "decimal"):
                sd = "numerical"
            elif kind in ("string", "uuid"):
                sd = "categorical" if _text_is_categorical(data.column(c.name)) else "text"
            else:
                continue
            cols[c.name] = {"sdtype": sd}
        node: dict[str, Any] = {"columns": cols}
        if mt.primary_key:
            node["primary_key"] = mt.primary_key[0] if len(mt.primary_key) == 1 else list(mt.primary_key)
        tables[mt.name] = node
        for fk in mt.foreign_keys:
            if fk.parent in real and fk.parent != mt.name:
                rels.append({"parent_table_name": fk.parent, "parent_primary_key": fk.parent_column,
                             "child_table_name": mt.name, "child_foreign_key": fk.column})
    return {"tables": tables, "relationships": rels}


def check_metadata(metadata: Any) -> dict[str, Any]:
    """A ``metadata=`` argument checked: SDMetrics' shape, known sdtypes (others are skipped)."""
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("tables"), Mapping):
        raise UsageError("metadata: expected SDMetrics-shaped metadata {'tables': {TABLE: {'columns': {…}}}, "
                         "'relationships': […]}")
    for tname, t in metadata["tables"].items():
        if not isinstance(t, Mapping) or not isinstance(t.get("columns"), Mapping):
            raise UsageError(f"metadata: table {tname!r} has no 'columns' mapping")
        for cname, c in t["columns"].items():
            if not isinstance(c, Mapping) or "sdtype" not in c:
                raise UsageError(f"metadata: column {tname}.{cname} has no 'sdtype'")
    return {"tables": {k: dict(v) for k, v in metadata["tables"].items()},
            "relationships": [dict(r) for r in metadata.get("relationships") or []]}


# --- encoding -----------------------------------------------------------------------------------

@dataclass
class Column:
    """One column of one table, encoded alike in every dataset (``values[i]`` for ``datasets[i]``)."""

    name: str
    sdtype: str
    values: list[np.ndarray]
    labels: list[Any] | None = None  # discrete: the code → value dictionary

    @property
    def continuous(self) -> bool:
        return self.sdtype in CONTINUOUS

    @property
    def discrete(self) -> bool:
        return self.sdtype in DISCRETE


def _plain(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_dictionary(a.type):
        a = a.dictionary_decode()
    if pa.types.is_large_string(a.type):
        a = pc.cast(a, pa.string())
    return a


def to_float(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A column as float64 with NaN for missing; dates and timestamps in µs since the epoch."""
    a = _plain(arr)
    if pa.types.is_string(a.type) or pa.types.is_null(a.type):
        from datagen.fit.infer import _parse_text_time

        present = pc.drop_null(a)
        parsed = _parse_text_time(present) if len(present) else None
        if parsed is not None:
            mask = pc.is_valid(a).to_numpy(zero_copy_only=False)
            out = np.full(len(a), np.nan)
            out[mask] = to_float(parsed[0])
            return out
        try:
            a = pc.cast(a, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise UsageError(f"a column read as text is not numeric (e.g. {present[0].as_py()!r})") from None
    if pa.types.is_date(a.type):
        a = pc.cast(a, pa.timestamp("us"))
    if pa.types.is_timestamp(a.type):
        a = pc.cast(a, pa.timestamp("us", tz=a.type.tz))
        mask = pc.is_null(a).to_numpy(zero_copy_only=False)
        ints = pc.fill_null(a.view(pa.int64()), 0).to_numpy(zero_copy_only=False).astype(np.float64)
        ints[mask] = np.nan
        return ints
    if not pa.types.is_floating(a.type):
        a = pc.cast(a, pa.float64())
    return np.asarray(a.to_numpy(zero_copy_only=False), dtype=np.float64)


def _numberish(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_boolean(t)


def to_codes(arrays: list[pa.ChunkedArray | pa.Array]) -> tuple[list[np.ndarray], list[Any]]:
    """The arrays as int64 codes into one shared dictionary (−1: missing), and the dictionary."""
    plain = [_plain(a) for a in arrays]
    types = {a.type for a in plain if not pa.types.is_null(a.type)}
    if len(types) > 1:
        target = pa.float64() if all(_numberish(t) for t in types) else pa.string()
        plain = [pc.cast(a, target) for a in plain]
    elif len(types) == 1 and any(pa.types.is_null(a.type) for a in plain):
        t = next(iter(types))
        plain = [pc.cast(a, t) if pa.types.is_null(a.type) else a for a in plain]
    plain = [pc.if_else(pc.is_nan(a), pa.scalar(None, a.type), a) if pa.types.is_floating(a.type) else a
             for a in plain]
    whole = pa.concat_arrays(plain) if plain else pa.array([], pa.string())
    enc = pc.dictionary_encode(whole)
    codes = pc.fill_null(pc.cast(enc.indices, pa.int64()), -1).to_numpy(zero_copy_only=False)
    out, start = [], 0
    for a in plain:
        out.append(np.asarray(codes[start:start + len(a)], dtype=np.int64))
        start += len(a)
    return out, enc.dictionary.to_pylist()


def encode_column(name: str, sdtype: str, arrays: list[pa.ChunkedArray | pa.Array]) -> Column:
    if sdtype in CONTINUOUS:
        return Column(name, sdtype, [to_float(a) for a in arrays])
    codes, labels = to_codes(arrays)
    return Column(name, sdtype, codes, labels)
