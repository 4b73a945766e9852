"""SQLite output: one database file ``<out>/<schema name>.sqlite`` holding every table.

Each schema table becomes one SQL table (``generators.sqlite_seed.ddl``: declared types, NOT NULL,
PRIMARY KEY, UNIQUE, FOREIGN KEY) loaded from the engine's Arrow batches with ``executemany`` over
columns converted by ``generators.sqlite_seed.convert``. The whole design, with the type mapping,
is in docs/formats/sqlite.md.

Writing a new database (the default): the file is created in the temporary output folder that
``generate`` swaps into place, so a failed run leaves nothing behind. While loading:
``journal_mode=OFF``, ``synchronous=OFF``, ``foreign_keys=OFF``, a 64 MiB page cache, one
transaction per table, the indexes on foreign-key columns built after the table's rows. At the
end ``PRAGMA foreign_key_check`` must find nothing, ``journal_mode`` is set back to ``DELETE`` and
the connection closed with ``foreign_keys=ON``. Same schema, seed and SQLite library → the same
bytes (the library version is recorded in the manifest: it is part of the file header).

Options (``--option KEY=VALUE``):

* ``mode`` — ``create`` (default): create every table, an existing table is an error;
  ``truncate``: empty the existing tables, then load; ``append``: add rows to the existing tables.
  ``truncate`` and ``append`` need ``database``; the existing tables must have the schema's columns,
  compatible declared types, NOT NULL and PRIMARY KEY (else exit 2, nothing changed).
* ``database=PATH`` — write into this existing database file instead of ``<out>/<name>.sqlite``.
  It is changed in place inside ONE transaction for all tables (its own journal mode kept), so any
  failure rolls everything back; the manifest still goes to ``--out`` and names the database.
* ``strict`` — ``true`` declares ``STRICT`` tables (SQLite ≥ 3.37 refuses values of the wrong
  type); default ``false``, so the file opens in every SQLite version.

The dirty profile breaks NOT NULL, keys and references on purpose, so its tables are created
without those constraints (``constraints: relaxed`` in the manifest).
"""

from __future__ import annotations

import contextlib
import copy
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from generators.common.nested_text import NESTED_LAYOUTS, flat_table, from_text, normalise, text_schema, to_text
from generators.common.sql_target import bool_option, dsl_named, mode_option, sql_arrow_schema
from generators.sqlite_seed.convert import storage_type, to_arrow, to_sql_columns
from generators.sqlite_seed.ddl import (
    TableSpec,
    compare,
    create_index_sql,
    create_table_sql,
    find_table,
    index_problems,
    quote_identifier,
    storage_classes,
    table_spec,
)
from shared.errors import OutputError, Problem, UsageError
from shared.formats import Format, RunInfo, check_known_options, choice_option, register
from shared.model.schema import fmt_path
from shared.validation.checks import result

OPTIONS = ("database", "mode", "strict", "nested")
STRICT_MIN_VERSION = (3, 37, 0)
SQLITE_MAGIC = b"SQLite format 3\x00"
CACHE_KIB = 64 * 1024
FETCH_ROWS = 65536
SAMPLE = 5
#: where a run's open database lives between open_writer calls (private: not in the manifest)
RUN_KEY = "_sqlite_run"  # this format's own state between open_writer and finish (never in the manifest)
MANIFEST_KEY = "_sqlite_manifest"
SQL_KEY = "_sqlite_sql_schema"  # the run's schema under its SQL names (sql_name), from prepare


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    else:
        conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    return conn


@dataclass
class _Run:
    """One generate run's open database, shared by the writers of all its tables."""

    conn: sqlite3.Connection
    path: Path
    in_place: bool  # database=PATH: one transaction for everything, committed by finish()
    mode: str
    strict: bool
    constraints: bool
    tables: dict = field(default_factory=dict)  # name -> schema Table, in generation order
    specs: dict[str, TableSpec] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # SQL name -> DSL name (sql_name)

    def abort(self) -> None:
        """Roll back what is not committed and close (a new database is discarded with the
        temporary folder; database=PATH is left exactly as it was)."""
        with contextlib.suppress(sqlite3.Error):
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()


class SqliteWriter:
    def __init__(self, run: _Run, spec: TableSpec, arrow_schema: pa.Schema, layout: str = "json"):
        self.run = run
        self.spec = spec
        self.layout = layout
        q = quote_identifier
        names = text_schema(arrow_schema, layout).names
        self.sql = (f"INSERT INTO {q(spec.name)} ({', '.join(map(q, names))}) "
                    f"VALUES ({', '.join('?' for _ in names)})")
        self.rows = 0

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if self.layout != "json":
            batch = to_text(batch, self.layout)
        insert_batch(self.run.conn, self.sql, batch, self.spec.name, self.run.path)
        self.rows += batch.num_rows

    def close(self) -> list[Path]:
        conn = self.run.conn
        try:
            for sql in create_index_sql(self.spec):  # after the rows: one sort instead of n inserts
                conn.execute(sql)
            if not self.run.in_place:
                conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise write_error(self.run.path, exc) from None
        self.run.rows[self.spec.name] = self.rows
        return []  # the one database file is listed by finish()

    def abort(self) -> None:
        self.run.abort()


def insert_batch(conn: sqlite3.Connection, sql: str, batch: pa.RecordBatch, table: str, path: Path) -> None:
    """Insert one Arrow batch: columns converted vectorised, then zipped into rows."""
    columns = to_sql_columns(batch)
    try:
        conn.executemany(sql, zip(*columns, strict=True))
    except sqlite3.IntegrityError as exc:
        raise OutputError(f"{path}: table {table}: {exc} (are the rows already there? with "
                          f"--option mode=append the keys must not exist yet)") from None
    except sqlite3.OperationalError as exc:
        raise write_error(path, exc) from None


def write_error(path: Path, exc: sqlite3.OperationalError) -> OutputError:
    """SQLite's write failures (it reports no errno) as one clear message, exit 3."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    hint = " (disk full, or a file-size limit reached?)" if code in (10, 13) else ""  # SQLITE_IOERR, SQLITE_FULL
    return OutputError(f"{path}: SQLite cannot write: {exc}{hint}; the transaction was rolled back")


def database_path(out_dir: Path, schema_name: str) -> Path:
    return Path(out_dir) / f"{schema_name}.sqlite"


@register("sqlite")
class SqliteFormat(Format):
    name = "sqlite"
    option_help = {
        "database": "an existing database file to load into instead of <out>/<schema>.sqlite",
        "mode": "create (default; create_if_missing: an existing table must match), truncate "
                "(truncate_then_insert) or append (append_only); truncate and append need database=PATH",
        "strict": "true: STRICT tables (SQLite 3.37+); default false",
        "nested": "json (default: a struct or list is its JSON text) or flatten (a column per struct field)",
    }
    @property
    def _layouts(self) -> dict[str, str]:
        """The nested layout each table was last read in (for ``replay_batches``): this
        instance's own, never shared through the class."""
        return self.__dict__.setdefault("_layout_by_table", {})
    #: ``--target PATH`` and ``--mode`` set these options
    flag_options = {"target": "database", "mode": "mode"}
    #: rough bytes per value in an SQLite record (payload plus its serial-type byte)
    widths = {"int": 3.0, "float": 9.0, "decimal": 9.0, "bool": 1.0, "string": 12.0, "date": 11.0,
              "timestamp": 28.0, "uuid": 37.0}

    #: options that say where a run writes, not what (left out of the run's config hash)
    target_options = ("database",)

    # --- options --------------------------------------------------------------------------

    def target_identity(self, options: dict[str, Any]) -> dict[str, Any] | None:
        """The run store's name for the target (docs/runs.md): with ``database=PATH`` that
        database file — two runs loading it at once are refused — else None (the output folder)."""
        database = options.get("database")
        if database is None:
            return None
        path = os.path.abspath(database)
        return {"kind": "sqlite", "format": self.name, "database": path, "mode": options.get("mode"),
                "key": f"sqlite:{path}", "label": f"--option database={database}"}

    def check_options(self, opts: dict[str, Any]) -> dict[str, Any]:
        check_known_options(opts, OPTIONS, "SQLite")
        mode = mode_option(opts)
        strict = bool_option(opts, "strict", False)
        if strict and sqlite3.sqlite_version_info < STRICT_MIN_VERSION:
            raise UsageError(f"--option strict=true: needs SQLite 3.37 or later, this Python has "
                             f"{sqlite3.sqlite_version}")
        database = opts.get("database")
        if database is not None:
            database = self._check_database(str(database))
        elif mode != "create":
            raise UsageError(f"--option mode={mode}: needs --option database=PATH (an existing database "
                             f"file); the output folder always gets a new database")
        out = {"mode": mode, "database": database, "strict": strict}
        if "nested" in opts:  # recorded only when given: the default manifest stays as it was
            out["nested"] = choice_option(opts, "nested", NESTED_LAYOUTS, "json")
        return out

    @staticmethod
    def _check_database(value: str) -> str:
        if not value.strip():
            raise UsageError("--option database=: give the path of an existing SQLite database file")
        p = Path(value).expanduser()
        if not p.exists() and "/" not in value and os.sep not in value and "." not in value:
            from generators.common.targets import find_target  # --target NAME: targets/NAME.yaml

            target = find_target(value)
            if target.kind != "sqlite":
                raise UsageError(f"--target {value}: a {target.kind} target ({target.path}), not sqlite")
            p = Path(target.dsn).expanduser()
        if not p.is_file():
            raise UsageError(f"--option database={value}: no such file (it must be an existing SQLite "
                             f"database; to write a new one, leave the option out)")
        try:
            with open(p, "rb") as f:
                head = f.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise UsageError(f"--option database={value}: cannot read it: {exc.strerror}") from None
        if head and head != SQLITE_MAGIC:  # an empty file is an empty database
            raise UsageError(f"--option database={value}: not an SQLite database file")
        return str(p.resolve())

    # --- writing --------------------------------------------------------------------------

    def _start(self, out_dir: Path, options: dict[str, Any], run: RunInfo | None) -> _Run:
        opts = self.check_options({k: v for k, v in options.items() if not k.startswith("_")})
        options.update(opts)
        constraints = run is None or run.profile != "dirty"
        if opts["database"] is not None:
            path = Path(opts["database"])
            conn = _connect(path)
            try:
                conn.execute("PRAGMA foreign_keys=OFF")  # per connection; only outside a transaction
                conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
                conn.execute("BEGIN IMMEDIATE")  # the write lock now, not halfway through
            except sqlite3.Error as exc:
                conn.close()
                raise OutputError(f"--option database={path}: cannot start writing: {exc}") from None
            return _Run(conn, path, True, opts["mode"], opts["strict"], constraints)
        path = database_path(out_dir, run.schema_name if run else "datagen")
        conn = _connect(path)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", f"cache_size=-{CACHE_KIB}",
                       "temp_store=MEMORY"):
            conn.execute(f"PRAGMA {pragma}")
        return _Run(conn, path, False, opts["mode"], opts["strict"], constraints)

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None) -> SqliteWriter:
        state = options.get(RUN_KEY)
        if state is None:
            state = options[RUN_KEY] = self._start(Path(out_dir), options, run)
        return self._open_table(state, table, arrow_schema, options)

    def _open_table(self, run: _Run, table, arrow_schema: pa.Schema, options: dict[str, Any]) -> SqliteWriter:
        layout = options.get("nested", "json")
        sql_schema = options.get(SQL_KEY)  # the run's schema under its SQL names (prepare)
        sql_table = sql_schema.table(table.sql_name or table.name) if sql_schema is not None else table.sql_named
        arrow_schema = sql_arrow_schema(table, arrow_schema)
        shaped = flat_table(sql_table) if layout == "flatten" else sql_table
        try:
            spec = table_spec(shaped, run.tables.get, constraints=run.constraints)
            run.tables[sql_table.name] = sql_table
            run.specs[sql_table.name] = spec
            run.names[sql_table.name] = table.name
            self._prepare_table(run, shaped, spec)
        except BaseException:
            run.abort()
            options.pop(RUN_KEY, None)
            raise
        return SqliteWriter(run, spec, arrow_schema, layout)

    def prepare(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> None:
        """Check every table against ``database=PATH`` before anything is generated (``generate``
        calls this before the first writer opens); each writer checks its table again."""
        opts = self.check_options({k: v for k, v in options.items() if not k.startswith("_")})
        schema = options[SQL_KEY] = schema.sql_named  # statements name what SQL sees (sql_name)
        if opts["database"] is None:
            return
        if run is not None and run.out:
            out = Path(run.out).resolve()
            db = Path(opts["database"]).resolve()
            if db == out or out in db.parents:
                raise UsageError(f"--option database={opts['database']}: the database is inside --out {run.out}, "
                                 f"which generate replaces as a whole: the load would be deleted with the old "
                                 f"output (hint: keep the database outside --out, or leave the option out to "
                                 f"write a new database into --out)")
        constraints = (run.profile if run else schema.profile) != "dirty"
        tables = {t.name: t for t in schema.tables}
        problems: list[Problem] = []
        conn = _connect(Path(opts["database"]), read_only=True)
        try:
            for t in schema.tables:
                shaped = flat_table(t) if opts.get("nested") == "flatten" else t
                spec = table_spec(shaped, tables, constraints=constraints)
                problems += self._table_problems(conn, opts["mode"], shaped, spec)
        finally:
            conn.close()
        if problems:
            raise UsageError(f"--option database={opts['database']} mode={opts['mode']}: the database does "
                             f"not fit the schema; nothing was changed", problems)

    @staticmethod
    def _table_problems(conn, mode: str, table, spec: TableSpec) -> list[Problem]:
        where = fmt_path(table.path)
        if table.name.lower().startswith("sqlite_"):
            return [Problem(f"table name {table.name!r} is reserved by SQLite (names starting with sqlite_)",
                            where, hint="rename the table")]
        found = find_table(conn, table.name)
        if mode == "create":
            if found is None:
                return []
            if found[0] != "table":
                return [Problem(f"table {table.name!r}: a {found[0]} {found[1]!r} already exists", where,
                                hint="drop it, or rename the table")]
            # sdgen's create_if_missing: an existing table must match (keys and references too)
            cols = {c.name: c for c in table.columns}
            return [Problem(f"table {table.name!r}: {msg}", fmt_path(cols[col].path) if col in cols else where,
                            hint="use --mode truncate or append after fixing it, or drop the table")
                    for col, msg in compare(conn, spec)]
        if found is None:
            return [Problem(f"table {table.name!r} does not exist in the database", where,
                            hint="use --option mode=create to create it")]
        cols = {c.name: c for c in table.columns}
        return [Problem(f"table {table.name!r}: {msg}",
                        fmt_path(cols[col].path) if col in cols else where)
                for col, msg in compare(conn, spec, keys_and_references=False)]

    def _prepare_table(self, run: _Run, table, spec: TableSpec) -> None:
        conn = run.conn
        problems = self._table_problems(conn, run.mode, table, spec)
        if problems:
            where = f"--option database={run.path} mode={run.mode}" if run.in_place else f"table {table.name}"
            raise UsageError(f"{where}: the database does not fit the schema; nothing was changed", problems)
        if not run.in_place:
            conn.execute("BEGIN")
        if run.mode == "create" and find_table(conn, spec.name) is None:
            conn.execute(create_table_sql(spec, strict=run.strict))
        elif run.mode == "truncate":
            conn.execute(f"DELETE FROM {quote_identifier(spec.name)}")

    def finish(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> list[Path]:
        state: _Run | None = options.pop(RUN_KEY, None)
        if state is None:
            return []
        conn = state.conn
        try:
            violations = {name: conn.execute("SELECT count(*) FROM pragma_foreign_key_check(?)",
                                             (name,)).fetchone()[0]
                          for name, spec in state.specs.items() if spec.foreign_keys}
            bad = {k: v for k, v in violations.items() if v}
            if bad:
                raise OutputError(f"{state.path}: PRAGMA foreign_key_check finds rows without a parent ("
                                  + ", ".join(f"{k}: {v}" for k, v in bad.items()) + "); nothing was written")
            if state.in_place:
                conn.execute("COMMIT")
            else:
                conn.execute("PRAGMA journal_mode=DELETE")  # what the file is opened with from now on
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            state.abort()
            raise
        conn.close()
        options[MANIFEST_KEY] = {
            "database": str(state.path) if state.in_place else state.path.name,
            "mode": state.mode,
            "strict": state.strict,
            "constraints": "declared" if state.constraints else "relaxed",
            "rows_written": {state.names.get(n, n): rows for n, rows in state.rows.items()},
            "sqlite_version": sqlite3.sqlite_version,
        }
        return [] if state.in_place else [state.path.relative_to(out_dir)]

    def manifest_extra(self, out_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
        """``sqlite``: the database written, the mode, the constraints and the rows written."""
        extra = options.pop(MANIFEST_KEY, None)
        return {"sqlite": extra} if extra is not None else {}

    # --- reading --------------------------------------------------------------------------

    #: the database ``validate --option database=PATH`` names (``for_reading``); None: the one in --out
    _reading_database: Path | None = None

    def for_reading(self, options: dict[str, Any]) -> SqliteFormat:
        if not options.get("database"):
            return self
        clone = copy.copy(self)
        clone._reading_database = Path(options["database"])
        return clone

    @staticmethod
    def _manifest_database(out_dir: Path) -> Path | None:
        """The database the manifest names, inside ``--out``; an ``OutputError`` when it names one
        elsewhere (validate opens nothing outside --out on a manifest's word)."""
        from shared.validation.runner import inside, read_manifest

        m = read_manifest(Path(out_dir))
        db = (m or {}).get("sqlite", {}).get("database") if isinstance((m or {}).get("sqlite"), dict) else None
        if not db or not isinstance(db, str):
            return None
        p = inside(Path(out_dir), db)
        if p is None:
            raise OutputError(f"manifest.json names the database {db!r}, outside --out; validate opens nothing "
                              f"outside --out on a manifest's word (pass --option database=PATH to check it there)")
        return p

    def _candidates(self, out_dir: Path, schema_name: str | None = None) -> list[Path]:
        if self._reading_database is not None:
            return [self._reading_database]
        try:
            db = self._manifest_database(out_dir)
        except OutputError:
            return []
        if db is not None:
            return [db]
        if schema_name is not None and database_path(out_dir, schema_name).is_file():
            return [database_path(out_dir, schema_name)]
        return sorted(Path(out_dir).glob("*.sqlite"))

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        # a database=PATH outside --out as a path through --out (``out/../app.db``): validate
        # reports artifacts relative to --out
        return [Path(out_dir) / os.path.relpath(p, out_dir) for p in self._candidates(out_dir)]

    def _database(self, out_dir: Path, schema_name: str | None = None) -> Path:
        if self._reading_database is None:
            self._manifest_database(out_dir)  # raises for a database outside --out
        found = self._candidates(out_dir, schema_name)
        if not found:
            raise OutputError(f"{out_dir}: no .sqlite database")
        special = [p for p in found if p.exists() and not p.is_file()]
        if special:
            raise OutputError(f"{special[0]}: not a regular file (a pipe, device or socket); not opened")
        if len(found) > 1:
            raise OutputError(f"{out_dir}: several .sqlite files ({', '.join(p.name for p in found)}) and no "
                              f"manifest.json naming one")
        return found[0]

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        path = self._database(out_dir)
        conn = _connect(path, read_only=True)
        dsl, table, arrow_schema = table, table.sql_named, sql_arrow_schema(table, arrow_schema)
        try:
            layout = self._layouts[dsl.name] = stored_layout(conn, table)
            if layout == "json":
                got = read_sql_table(conn, table, arrow_schema)
            else:
                data = read_sql_table(conn, flat_table(table), text_schema(arrow_schema, layout))
                got = pa.Table.from_batches([from_text(data, arrow_schema, layout)])
        finally:
            conn.close()
        if table is dsl:
            return got
        back = {sql: name for name, sql in dsl.sql_columns.items()}
        return got.rename_columns([back.get(n, n) for n in got.column_names])

    def replay_batches(self, want: pa.Table, table) -> pa.Table:
        """A regenerated table as the layout it was read in reads back."""
        return normalise(want, self._layouts.get(table.name, "json"))

    # --- format-aware checks --------------------------------------------------------------

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        from shared.validation.runner import read_manifest

        try:
            path = self._database(out_dir, schema.name)
        except OutputError as exc:
            return [result("sqlite_integrity", None, None, "fail", str(exc))]
        manifest = read_manifest(Path(out_dir)) or {}
        sq = manifest.get("sqlite") if isinstance(manifest.get("sqlite"), dict) else {}
        constraints = sq.get("constraints", "declared") != "relaxed"
        try:
            conn = _connect(path, read_only=True)
        except sqlite3.Error as exc:
            return [result("sqlite_integrity", None, None, "fail", f"cannot open {path.name}: {exc}")]
        sql = schema.sql_named  # checked under the names SQL sees, reported under the schema's
        try:
            return dsl_named([_integrity_check(conn, path)]
                             + [_schema_check(conn, t, sql, constraints) for t in sql.tables]
                             + [_index_check(conn, t, sql, constraints) for t in sql.tables if t.indexes]
                             + [c for t in sql.tables for c in _fk_check(conn, t, constraints)], schema)
        finally:
            conn.close()


# --- reading ------------------------------------------------------------------------------


def _order_by(conn, name: str, db_cols: list[str]) -> str:
    """Row order: the rowid (= insertion order; for a rowid alias the ascending key), or the
    primary key of a WITHOUT ROWID table."""
    lower = {c.lower() for c in db_cols}
    q = quote_identifier
    for rid in ("rowid", "_rowid_", "oid"):
        if rid not in lower:
            try:
                conn.execute(f"SELECT {rid} FROM {q(name)} LIMIT 0")
                return rid
            except sqlite3.OperationalError:
                break
    pk = [r[0] for r in sorted(conn.execute("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0",
                                            (name,)).fetchall(), key=lambda r: r[1])]
    return ", ".join(map(q, pk)) if pk else "1"


def read_sql_table(conn: sqlite3.Connection, table, arrow_schema: pa.Schema) -> pa.Table:
    """A table read back into the schema's Arrow types, in row order; columns whose stored values
    are not of the declared kind come back as stored (text), extra columns as text."""
    q = quote_identifier
    found = find_table(conn, table.name)
    if found is None:
        raise OutputError(f"no table {table.name!r} in the database")
    name = found[1]
    db_cols = [r[0] for r in conn.execute("SELECT name FROM pragma_table_info(?)", (name,)).fetchall()]
    by_lower = {c.lower(): c for c in db_cols}
    wanted = [(f, table.column(f.name), by_lower[f.name.lower()]) for f in arrow_schema
              if f.name.lower() in by_lower and table.has_column(f.name)]
    known = {f.name.lower() for f, _, _ in wanted}
    extra = [c for c in db_cols if c.lower() not in known]
    bad = set()
    if wanted:
        tests = [f"sum(typeof({q(db)}) NOT IN ('null', {', '.join(repr(s) for s in storage_classes(c.dtype))}))"
                 for _, c, db in wanted]
        counts = conn.execute(f"SELECT {', '.join(tests)} FROM {q(name)}").fetchone()
        bad = {f.name for (f, _, _), n in zip(wanted, counts, strict=True) if n}
    select, types, out_names = [], [], []
    for f, c, db in wanted:
        if f.name in bad:
            select.append(f"CAST({q(db)} AS TEXT)")
            types.append(pa.string())
        else:
            select.append(q(db))
            types.append(storage_type(c.dtype))
        out_names.append(f.name)
    for db in extra:
        select.append(f"CAST({q(db)} AS TEXT)")
        types.append(pa.string())
        out_names.append(db)
    if not select:
        return pa.table({})
    cur = conn.execute(f"SELECT {', '.join(select)} FROM {q(name)} ORDER BY {_order_by(conn, name, db_cols)}")
    chunks: list[list[pa.Array]] = [[] for _ in select]
    while rows := cur.fetchmany(FETCH_ROWS):
        for i, values in enumerate(zip(*rows, strict=True)):
            chunks[i].append(pa.array(values, type=types[i]))
    arrays = [pa.concat_arrays(ch) if ch else pa.array([], type=t) for ch, t in zip(chunks, types, strict=True)]
    for i, (f, c, _) in enumerate(wanted):
        if f.name not in bad:
            arrays[i] = to_arrow(arrays[i], c.dtype)
    return pa.table(arrays, names=out_names)


# --- checks -------------------------------------------------------------------------------


def _integrity_check(conn, path: Path) -> dict:
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(100)").fetchall()]
    except sqlite3.Error as exc:
        return result("sqlite_integrity", None, None, "fail", f"PRAGMA integrity_check on {path.name} failed: {exc}")
    if rows == ["ok"]:
        return result("sqlite_integrity", None, None, "pass", f"PRAGMA integrity_check on {path.name}: ok")
    return result("sqlite_integrity", None, None, "fail",
                  f"PRAGMA integrity_check on {path.name} reports {len(rows)}{'+' if len(rows) >= 100 else ''} "
                  f"problem(s)", unexpected_count=len(rows), sample=rows[:SAMPLE])


def stored_layout(conn, table) -> str:
    """``flatten`` when the stored table has a struct column's first field (``address.street``)
    instead of the struct column, else ``json``."""
    if not any(c.dtype.kind == "struct" for c in table.columns):
        return "json"
    try:
        found = find_table(conn, table.name)
        if found is None:
            return "json"
        names = {r[0].lower() for r in conn.execute("SELECT name FROM pragma_table_info(?)", (found[1],)).fetchall()}
    except sqlite3.Error:  # a damaged file: the integrity check and reading report it
        return "json"
    for c in table.columns:
        if c.dtype.kind == "struct" and c.name.lower() not in names and \
                any(n.startswith(c.name.lower() + ".") for n in names):
            return "flatten"
    return "json"


def _schema_check(conn, table, schema, constraints: bool) -> dict:
    tables = {t.name: t for t in schema.tables}
    if stored_layout(conn, table) == "flatten":
        table = flat_table(table)
    spec = table_spec(table, tables, constraints=constraints)
    try:
        problems = compare(conn, spec)
    except sqlite3.Error as exc:
        return result("sqlite_schema", table.name, None, "fail", f"cannot read the declared schema: {exc}")
    what = "columns, types, NOT NULL, PRIMARY KEY, UNIQUE and FOREIGN KEY" if constraints else \
        "columns and types (constraints relaxed: dirty profile)"
    if not problems:
        return result("sqlite_schema", table.name, None, "pass", f"{what} declared as the schema says",
                      element_count=len(spec.columns), unexpected_count=0)
    return result("sqlite_schema", table.name, None, "fail", "; ".join(m for _, m in problems[:3])
                  + (f" … and {len(problems) - 3} more" if len(problems) > 3 else ""),
                  unexpected_count=len(problems), sample=[m for _, m in problems[:SAMPLE]],
                  expected=create_table_sql(spec))


def _index_check(conn, table, schema, constraints: bool) -> dict:
    """The schema's ``indexes`` exist as declared (unique ones as UNIQUE, except in the dirty
    profile, whose data breaks them on purpose)."""
    spec = table_spec(table, {t.name: t for t in schema.tables}, constraints=constraints)
    try:
        problems = index_problems(conn, spec)
    except sqlite3.Error as exc:
        return result("sqlite_indexes", table.name, None, "fail", f"cannot read the indexes: {exc}")
    if not problems:
        return result("sqlite_indexes", table.name, None, "pass",
                      f"{len(spec.declared_indexes)} index(es) declared as the schema says",
                      element_count=len(spec.declared_indexes), unexpected_count=0)
    return result("sqlite_indexes", table.name, None, "fail", "; ".join(problems[:3])
                  + (f" … and {len(problems) - 3} more" if len(problems) > 3 else ""),
                  unexpected_count=len(problems), sample=problems[:SAMPLE])


def _fk_check(conn, table, constraints: bool) -> list[dict]:
    fk_cols = [r.column for r in table.foreign_keys]
    if not fk_cols:
        return []
    kind = "sqlite_foreign_key_check"
    if not constraints:
        return [result(kind, table.name, None, "skipped",
                       "no FOREIGN KEY declared: the dirty profile relaxes constraints")]
    q = quote_identifier
    try:
        found = find_table(conn, table.name)
        if found is None:
            return [result(kind, table.name, None, "fail", f"no table {table.name!r}")]
        name = found[1]
        refs = {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)", (name,)).fetchall()}
        n_rows = conn.execute(f"SELECT count(*) FROM {q(name)}").fetchone()[0]
        n_bad = conn.execute("SELECT count(*) FROM pragma_foreign_key_check(?)", (name,)).fetchone()[0]
        sample = []
        for rowid, parent, fkid in conn.execute("SELECT rowid, parent, fkid FROM pragma_foreign_key_check(?) "
                                                "LIMIT ?", (name, SAMPLE)).fetchall():
            _, col, pcol = refs.get(fkid, (parent, None, None))
            value = None
            if rowid is not None and col is not None:
                value = conn.execute(f"SELECT {q(col)} FROM {q(name)} WHERE rowid = ?", (rowid,)).fetchone()[0]
            sample.append({"rowid": rowid, "column": col, "value": value,
                           "parent": f"{parent}.{pcol}" if pcol else parent})
    except sqlite3.Error as exc:  # e.g. "foreign key mismatch": the parent key is not unique
        return [result(kind, table.name, None, "fail", f"PRAGMA foreign_key_check failed: {exc}")]
    if not refs:
        return [result(kind, table.name, None, "fail", f"no FOREIGN KEY declared for {', '.join(fk_cols)}")]
    res = result(kind, table.name, None, "fail" if n_bad else "pass",
                 f"{n_bad} row(s) reference no parent row" if n_bad else
                 f"{len(refs)} foreign key(s), every row has its parent",
                 unexpected_count=int(n_bad), element_count=int(n_rows),
                 unexpected_percent=round(100.0 * n_bad / n_rows, 4) if n_rows else 0.0, sample=sample)
    return [res]
