"""SQL over a generated output folder: each table a DuckDB view over its files.

``datagen query --out DIR "SQL"`` and :func:`query` read the folder's ``manifest.json`` (what
``generate`` wrote: the format, its options, each table's files and — since issue 15 — each
table's columns with their DSL types), make one view per table over those files, and run the SQL
in an in-memory DuckDB. Nothing is copied or loaded up front: DuckDB reads the files when the
query needs them (for SQLite output, whose database DuckDB opens only through an extension it
would download, the tables are read with Python's sqlite3 first).

=============  ================================================================================
format         view
=============  ================================================================================
parquet        ``read_parquet`` over the table's part files (Hive folders of ``partition_by``)
csv            ``read_csv`` with the dialect the manifest records (delimiter, header, null
               marker, encoding, gzip/zstd) and the schema's column types — no sniffing
json, ndjson   ``read_json`` (array / newline-delimited) with the schema's column types
event_stream   each table's ``<table>.ndjson``, and ``events``: the merged stream
sqlite         the database's tables read with sqlite3, cast to the schema's types
=============  ================================================================================

Types: the DSL type of each column (manifest ``columns``) maps to one DuckDB type (``int32`` →
``INTEGER``, ``decimal(10,2)`` → ``DECIMAL(10,2)``, ``timestamp`` → ``TIMESTAMPTZ`` in UTC, …),
so a CSV column reads back exactly as the schema typed it. Output of an older datagen without
``columns``, and the text formats of a dirty-profile run (whose corruption writes ``N/A`` into
number columns), are read with DuckDB's own detection instead (text for dirty columns).

Every problem — no such folder, a folder ``generate`` did not write, an SQL error, an unknown
table (with the closest names and the list) — is a :class:`~shared.errors.UsageError`: one message,
exit 2 on the command line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from generators.common.sql_target import quote_identifier, quote_string
from shared.errors import UsageError
from shared.registry import did_you_mean

__all__ = ["QueryTable", "tables", "query", "connect", "duckdb_type", "to_records", "cell_text", "write_csv"]

MANIFEST = "manifest.json"
#: the view name of the merged event stream of ``--format event_stream``
EVENTS_VIEW = "events"
#: the kind of a table of ``--format event_stream`` that is only in the merged stream (its rows are
#: the ``data`` of the events whose ``table`` names it)
EVENT_TABLE = "event_table"

_INT = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT"}
_SIMPLE = {"float32": "FLOAT", "float64": "DOUBLE", "bool": "BOOLEAN", "string": "VARCHAR", "uuid": "VARCHAR",
           "date": "DATE", "timestamp": "TIMESTAMPTZ"}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


@dataclass(frozen=True)
class QueryTable:
    """One table of an output folder as ``query`` sees it: its files and its typed columns."""

    name: str
    format: str
    files: tuple[Path, ...]
    #: (column, DSL type) in file order; empty when the manifest does not record them
    columns: tuple[tuple[str, str], ...] = ()
    rows: int | None = None
    options: dict[str, Any] = field(default_factory=dict, compare=False)


def duckdb_type(dsl_type: str) -> str | None:
    """The DuckDB type a DSL type reads as; None for the nested types (struct, list), which a text
    format holds as JSON text and a typed format (Parquet) carries itself."""
    if dsl_type in _INT:
        return _INT[dsl_type]
    if dsl_type in _SIMPLE:
        return _SIMPLE[dsl_type]
    m = _DECIMAL.match(dsl_type)
    if m:
        return f"DECIMAL({m.group(1)},{m.group(2)})"
    return None


def _manifest(out_dir: str | Path) -> tuple[Path, dict[str, Any]]:
    out = Path(out_dir)
    if not out.exists():
        raise UsageError(f"--out {out}: no such folder")
    if not out.is_dir():
        raise UsageError(f"--out {out}: not a folder")
    path = out / MANIFEST
    if not path.is_file():
        raise UsageError(f"--out {out}: not a datagen output folder (no {MANIFEST}; write one with "
                         "`datagen generate --out DIR`)")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not readable JSON ({exc})") from None
    if not (isinstance(m, dict) and isinstance(m.get("files"), list) and isinstance(m.get("format"), str)):
        raise UsageError(f"{path}: not a datagen manifest (no 'format' and 'files')")
    return out, m


def tables(out_dir: str | Path) -> dict[str, QueryTable]:
    """The tables of an output folder, by name (in the manifest's order), with their files."""
    out, m = _manifest(out_dir)
    fmt = m["format"]
    files: dict[str, list[Path]] = {}
    loose: list[Path] = []
    for f in m["files"]:
        if not (isinstance(f, dict) and isinstance(f.get("path"), str)):
            raise UsageError(f"{out / MANIFEST}: a 'files' entry without a path")
        p = out / f["path"]
        if not p.resolve().is_relative_to(out.resolve()):
            raise UsageError(f"{out / MANIFEST}: file {f['path']!r} lies outside the folder")
        if isinstance(f.get("table"), str):
            files.setdefault(f["table"], []).append(p)
        else:
            loose.append(p)
    rows: dict[str, Any] = m["rows"] if isinstance(m.get("rows"), dict) else {}
    cols: dict[str, Any] = m["columns"] if isinstance(m.get("columns"), dict) else {}
    options: dict[str, Any] = m["options"] if isinstance(m.get("options"), dict) else {}
    names = list(rows) + [n for n in files if n not in rows]
    events = [p for p in loose if p.name == "events.ndjson"]
    found: dict[str, QueryTable] = {}
    for name in names:
        these, kind = files.get(name, []), fmt
        if fmt == "sqlite":
            these = [p for p in loose if p.suffix in (".sqlite", ".db", ".sqlite3")]
        elif fmt == "event_stream" and not these and events:
            these, kind = events, EVENT_TABLE  # an event table lives in the merged stream only
        if not these:
            continue  # a database target (postgres) keeps its tables elsewhere
        spec = tuple((c["name"], c["type"]) for c in cols.get(name, ())
                     if isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("type"), str))
        found[name] = QueryTable(name, kind, tuple(these), spec, rows.get(name), options)
    if fmt == "event_stream" and events and EVENTS_VIEW not in found:
        found[EVENTS_VIEW] = QueryTable(EVENTS_VIEW, "ndjson", tuple(events), (), None, options)
    if not found:
        raise UsageError(f"--out {out}: the manifest lists no table files ({fmt} output"
                         + (": its tables live in the database, query it there)" if fmt == "postgres" else ")"))
    return found


def _duckdb():
    try:
        import duckdb
    except ImportError:
        raise UsageError("datagen query needs DuckDB: install the sql extra (pip install 'datagen[sql]'; the "
                         "bootstrap installs it on first use)") from None
    return duckdb


_q = quote_identifier
_s = quote_string


def _list(files: tuple[Path, ...]) -> str:
    return "[" + ", ".join(_s(str(p)) for p in files) + "]"


def _struct(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_s(n)}: {_s(t)}" for n, t in columns.items()) + "}"


def _typed(t: QueryTable, dirty: bool, nested: str) -> dict[str, str] | None:
    """Column → DuckDB type for a text format's reader; None: let DuckDB detect them."""
    if not t.columns:
        return None
    out: dict[str, str] = {}
    for name, dsl in t.columns:
        typ = duckdb_type(dsl)
        if dirty:
            typ = "VARCHAR"
        if typ is None:
            if nested == "flatten":
                return None  # a struct is many columns: their names come from the file
            typ = "VARCHAR" if t.format == "csv" else "JSON"
        out[name] = typ
    return out


_CSV_DELIMS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


def _view_sql(t: QueryTable, dirty: bool) -> str:
    """The ``SELECT`` a table's view is."""
    fmt = "ndjson" if t.format == "event_stream" else t.format
    o = t.options
    if fmt == "parquet":
        hive = any("=" in part for p in t.files for part in p.parts)
        return f"SELECT * FROM read_parquet({_list(t.files)}, hive_partitioning = {str(hive).lower()})"
    if fmt == EVENT_TABLE:
        stream = (f"read_json({_list(t.files)}, format = 'newline_delimited', "
                  "columns = {'table': 'VARCHAR', 'data': 'JSON'})")
        if not t.columns:
            return f"SELECT data FROM {stream} WHERE \"table\" = {_s(t.name)}"
        parts = []
        for name, dsl in t.columns:
            path = _s('$."' + name.replace('"', '\\"') + '"')
            typ = None if dirty else duckdb_type(dsl)
            if typ is None and duckdb_type(dsl) is None:
                parts.append(f"json_extract(data, {path}) AS {_q(name)}")
            else:
                parts.append(f"CAST(json_extract_string(data, {path}) AS {typ or 'VARCHAR'}) AS {_q(name)}")
        return f"SELECT {', '.join(parts)} FROM {stream} WHERE \"table\" = {_s(t.name)}"
    if fmt in ("json", "ndjson"):
        cols = _typed(t, dirty, str(o.get("nested", "json")))
        args = [_list(t.files), f"format = {_s('array' if fmt == 'json' else 'newline_delimited')}"]
        args.append(f"columns = {_struct(cols)}" if cols else "auto_detect = true")
        return f"SELECT * FROM read_json({', '.join(args)})"
    if fmt == "csv":
        delim = str(o.get("delimiter", ","))
        delim = _CSV_DELIMS.get(delim, delim)
        header = str(o.get("header", True)).lower() in ("true", "1", "yes")
        args = [_list(t.files), f"delim = {_s(delim)}", f"header = {str(header).lower()}", "quote = '\"'",
                "escape = '\"'", f"nullstr = {_s(str(o.get('null', '')))}"]
        enc = str(o.get("encoding", "utf-8")).lower()
        if enc in ("utf-16", "latin-1"):
            args.append(f"encoding = {_s(enc)}")
        comp = str(o.get("compression", "none")).lower()
        if comp in ("gzip", "zstd"):
            args.append(f"compression = {_s(comp)}")
        if any("=" in part for p in t.files for part in p.parts):
            args.append("hive_partitioning = true")
        cols = _typed(t, dirty, str(o.get("nested", "json")))
        if cols and header:
            args.append(f"columns = {_struct(cols)}")
        elif cols:
            args.append(f"names = [{', '.join(_s(n) for n in cols)}], types = {_struct(cols)}")
        return f"SELECT * FROM read_csv({', '.join(args)})"
    raise UsageError(f"--out {t.files[0].parent}: datagen query does not read {t.format} output "
                     "(it reads csv, json, ndjson, parquet, event_stream and sqlite)")


def _sqlite_table(t: QueryTable) -> pa.Table:
    """A table of a SQLite output database as text columns (cast to the schema's types by its view)."""
    import sqlite3

    path = t.files[0]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cur = conn.execute(f"SELECT * FROM {_q(t.name)}")
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UsageError(f"{path}: cannot read table {t.name}: {exc}") from None
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [pa.array([None if v is None else (v.hex() if isinstance(v, bytes) else str(v)) for v in col],
                       pa.string()) for col in columns]
    return pa.table(dict(zip(names, arrays, strict=True)))


def _sqlite_view(t: QueryTable, relation: str, dirty: bool) -> str:
    types = dict(t.columns)
    parts = []
    for name, dsl in types.items():
        typ = None if dirty else duckdb_type(dsl)
        if typ == "BOOLEAN":
            parts.append(f"CAST(CAST({_q(name)} AS INTEGER) AS BOOLEAN) AS {_q(name)}")
        elif typ is not None:
            parts.append(f"CAST({_q(name)} AS {typ}) AS {_q(name)}")
        else:
            parts.append(_q(name))
    return f"SELECT {', '.join(parts) if parts else '*'} FROM {relation}"


def connect(out_dir: str | Path):
    """An in-memory DuckDB connection with one view per table of ``out_dir`` (close it when done)."""
    duckdb = _duckdb()
    out, m = _manifest(out_dir)
    found = tables(out)
    dirty = isinstance(m.get("corruption"), dict)
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
    try:
        con.execute("SET TimeZone = 'UTC'")
        for t in found.values():
            if t.format == "sqlite":
                data = _sqlite_table(t)
                hidden = f"__datagen_sqlite_{t.name}"
                con.register(hidden, data)
                select = _sqlite_view(t, _q(hidden), dirty) if t.columns else f"SELECT * FROM {_q(hidden)}"
            else:
                select = _view_sql(t, dirty and t.format in ("csv", "json", "ndjson", "event_stream", EVENT_TABLE))
            con.execute(f"CREATE VIEW {_q(t.name)} AS {select}")
    except duckdb.Error as exc:
        con.close()
        raise UsageError(f"--out {out}: cannot read the tables: {_first_line(exc)}") from None
    except BaseException:
        con.close()
        raise
    return con


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_MISSING_TABLE = re.compile(r"Table with name (\S+?) does not exist", re.IGNORECASE)


def query(out_dir: str | Path, sql: str, *, limit: int | None = None) -> pa.Table:
    """Run ``sql`` over the tables of ``out_dir`` (a folder ``generate`` wrote) and return the result;
    ``limit`` caps the rows returned."""
    if not sql or not sql.strip():
        raise UsageError("an empty query: give the SQL to run, e.g. \"SELECT count(*) FROM orders\"")
    if limit is not None and limit < 0:
        raise UsageError(f"--limit {limit}: must be at least 0")
    duckdb = _duckdb()
    con = connect(out_dir)
    try:
        try:
            rel = con.sql(sql)
            if rel is None:
                raise UsageError("the SQL returned no result: give a query (SELECT …, WITH …, DESCRIBE …)")
            if limit is not None:
                rel = rel.limit(limit)
            return rel.to_arrow_table()
        except duckdb.CatalogException as exc:
            m = _MISSING_TABLE.search(str(exc))
            if m:
                names = [n for n in tables(out_dir)]
                hint = did_you_mean(m.group(1), names)
                raise UsageError(f"unknown table {m.group(1)}" + (f" ({hint})" if hint else "")
                                 + f"; tables: {', '.join(names)}") from None
            raise UsageError(f"SQL error: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            raise UsageError(f"SQL error: {_first_line(exc)}") from None
    finally:
        con.close()


def _json_value(v: Any) -> Any:
    """A result value as JSON: decimals as exact strings (as datagen's JSON writes them), times
    in ISO 8601 (UTC with ``Z``), bytes as hex; nested values converted throughout."""
    import datetime as dt
    from decimal import Decimal

    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else str(v)
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            return v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return v.isoformat(timespec="microseconds")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return str(v)


def to_records(result: pa.Table) -> list[dict[str, Any]]:
    """The result's rows as JSON-ready objects (column → value)."""
    return [{k: _json_value(v) for k, v in row.items()} for row in result.to_pylist()]


def cell_text(v: Any) -> str:
    """One value as text for CSV and the table view: null as empty, times as in datagen's CSV
    (``2024-01-02 03:04:05.123456Z``), nested values as JSON."""
    j = _json_value(v)
    if j is None:
        return ""
    if isinstance(j, bool):
        return "true" if j else "false"
    if isinstance(j, (dict, list)):
        return json.dumps(j, ensure_ascii=False)
    if isinstance(j, str) and j.endswith("Z") and len(j) >= 20 and j[10:11] == "T":
        return j[:10] + " " + j[11:]
    return str(j)


def write_csv(result: pa.Table, stream) -> None:
    """The result as CSV (a header row, then one line per row) on a text stream."""
    import csv

    w = csv.writer(stream, lineterminator="\n")
    w.writerow(result.column_names)
    for row in zip(*(c.to_pylist() for c in result.columns), strict=True):
        w.writerow([cell_text(v) for v in row])
