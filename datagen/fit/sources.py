"""Reading the real data a fit learns from: one Arrow table per source table.

A source is one of:

* a folder of files, one table each, named after the file's stem: ``*.csv`` (also ``.csv.gz``,
  ``.csv.bz2``), ``*.parquet`` / ``*.pq``, ``*.ndjson`` / ``*.jsonl`` (newline-delimited JSON);
* an SQLite database file (read with ``sqlite3``, every table of ``sqlite_master``);
* a PostgreSQL DSN (``postgresql://…`` or a libpq string), every base table of the ``public``
  schema (or ``db_schema``), fetched in batches into Arrow;
* in Python, a mapping of table name → ``pandas.DataFrame`` or ``pyarrow.Table``.

CSV is read by pyarrow with its type inference (``NA``, ``NULL``, ``""`` … are nulls), so ISO
dates and timestamps arrive typed; other text dates are recognised later (``infer``). Every
problem — a missing path, an empty folder, a file that cannot be parsed, an unknown table in
``include`` — is one :class:`~shared.errors.UsageError` naming the file or table, with a hint.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from shared.errors import UsageError
from shared.registry import did_you_mean

__all__ = ["read_source", "SUFFIXES", "source_label"]

#: file suffix → reader kind
SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".csv.bz2": "csv", ".parquet": "parquet", ".pq": "parquet",
            ".ndjson": "ndjson", ".jsonl": "ndjson"}
_IDENT = re.compile(r"[^A-Za-z0-9_]")
_FETCH_BATCH = 10_000


def table_name(stem: str) -> str:
    """A file stem as a DSL identifier (``order-items`` → ``order_items``)."""
    name = _IDENT.sub("_", stem) or "t"
    return name if not name[0].isdigit() else "t_" + name


def source_label(source: Any) -> str:
    if isinstance(source, Mapping):
        return "<tables in memory>"
    text = str(source)
    if _looks_like_dsn(text):
        from generators.postgres_target.connection import redact

        return redact(text)
    return text


def _looks_like_dsn(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://")) or ("dbname=" in text and "=" in text.split()[0])


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return None


def read_source(source: Any, *, include: list[str] | None = None, exclude: list[str] | None = None,
                db_schema: str | None = None) -> dict[str, pa.Table]:
    """Every table of ``source`` as Arrow, by name (sorted), after ``include``/``exclude``."""
    if isinstance(source, Mapping):
        tables = _from_mapping(source)
    else:
        text = str(source)
        if not text.strip():
            raise UsageError("--source '': an empty source (give a folder, an SQLite file or a PostgreSQL DSN)")
        if _looks_like_dsn(text):
            tables = _from_postgres(text, db_schema or "public", include)
        else:
            path = Path(text)
            if not path.exists():
                raise UsageError(f"--source {text}: no such file or folder (hint: a folder of CSV/Parquet/"
                                 "NDJSON files, an SQLite file or a postgresql:// DSN)")
            tables = _from_folder(path) if path.is_dir() else _from_sqlite(path)
    return _select(tables, include, exclude, source_label(source))


def _select(tables: dict[str, pa.Table], include, exclude, label: str) -> dict[str, pa.Table]:
    for opt, names in (("--include", include or []), ("--exclude", exclude or [])):
        for name in names:
            if name not in tables:
                hint = did_you_mean(name, tables)
                raise UsageError(f"{opt} {name}: no such table in {label}" + (f" ({hint})" if hint else "")
                                 + f"; tables: {', '.join(sorted(tables))}")
    kept = {n: t for n, t in sorted(tables.items())
            if (not include or n in include) and n not in (exclude or [])}
    if not kept:
        raise UsageError(f"{label}: no table left to fit (hint: check --include/--exclude)")
    return kept


def _from_mapping(source: Mapping[str, Any]) -> dict[str, pa.Table]:
    out: dict[str, pa.Table] = {}
    if not source:
        raise UsageError("fit: an empty mapping of tables (give {'name': DataFrame, …})")
    for name, value in source.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UsageError(f"fit: table name {name!r} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)")
        if isinstance(value, pa.Table):
            out[name] = value
        elif hasattr(value, "to_arrow") and not hasattr(value, "columns"):
            out[name] = value.to_arrow()
        elif hasattr(value, "columns") and hasattr(value, "dtypes"):  # a pandas DataFrame
            out[name] = pa.Table.from_pandas(value, preserve_index=False)
        else:
            raise UsageError(f"fit: table {name!r} is a {type(value).__name__} "
                             "(hint: give a pandas DataFrame or a pyarrow Table)")
    return out


def _from_folder(folder: Path) -> dict[str, pa.Table]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and _suffix(p) is not None)
    if not files:
        raise UsageError(f"--source {folder}: no data files in the folder "
                         f"(hint: one file per table, named TABLE{{{', '.join(sorted(SUFFIXES))}}})")
    out: dict[str, pa.Table] = {}
    for path in files:
        suffix = _suffix(path)
        assert suffix is not None
        name = table_name(path.name[: -len(suffix)])
        if name in out:
            raise UsageError(f"--source {folder}: two files for table {name!r} (hint: keep one format per table)")
        out[name] = _read_file(path, SUFFIXES[suffix])
    return out


def _read_file(path: Path, kind: str) -> pa.Table:
    try:
        if kind == "csv":
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                null_values=["", "NA", "N/A", "NULL", "null", "NaN", "nan", "None"], strings_can_be_null=True))
        elif kind == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.json as pajson

            table = pajson.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"--source {path}: cannot read it as {kind}: {first} "
                         f"(hint: one {kind} table per file, UTF-8, a header row for CSV)") from None
    if table.num_columns == 0:
        raise UsageError(f"--source {path}: no columns (hint: CSV needs a header row)")
    return table


def _from_sqlite(path: Path) -> dict[str, pa.Table]:
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise UsageError(f"--source {path}: cannot read it: {exc.strerror}") from None
    if head != b"SQLite format 3\x00":
        raise UsageError(f"--source {path}: not a folder, an SQLite database or a PostgreSQL DSN "
                         "(hint: give the folder holding the data files)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = {}
        for name in names:
            cur = conn.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - a name sqlite_master holds
            cols = [d[0] for d in cur.description]
            out[table_name(name)] = _rows_to_arrow(cols, cur)
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"--source {path}: cannot read the SQLite database: {exc}") from None
    finally:
        conn.close()
    if not out:
        raise UsageError(f"--source {path}: the SQLite database has no tables")
    return out


def _rows_to_arrow(cols: list[str], cursor: Any) -> pa.Table:
    """A DB-API cursor's rows as Arrow, fetched in batches; each batch transposed once."""
    batches: list[list[list[Any]]] = [[] for _ in cols]
    while True:
        rows = cursor.fetchmany(_FETCH_BATCH)
        if not rows:
            break
        for i, values in enumerate(zip(*rows, strict=True)):
            batches[i].extend(values)
    arrays = []
    for col_values in batches:
        try:
            arrays.append(pa.array(col_values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed affinities: text
            arrays.append(pa.array([None if v is None else str(v) for v in col_values], pa.string()))
    return pa.table(dict(zip(cols, arrays, strict=True))) if cols else pa.table({})


def _from_postgres(dsn: str, db_schema: str, include: list[str] | None) -> dict[str, pa.Table]:
    from generators.postgres_target.connection import connect

    conn = connect(dsn)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' ORDER BY table_name", (db_schema,))]
        out = {}
        for name in names:
            if include and name not in include:
                out[name] = pa.table({})
                continue
            with conn.cursor() as cur:
                from psycopg import sql

                cur.execute(sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(db_schema), sql.Identifier(name)))
                cols = [d.name for d in cur.description or []]
                out[table_name(name)] = _rows_to_arrow(cols, cur)
    finally:
        conn.close()
    if not out:
        raise UsageError(f"--source {source_label(dsn)}: no tables in schema {db_schema!r} "
                         "(hint: --db-schema names another schema)")
    return out
