"""PostgreSQL as a target: every table of the schema loaded into a database by ``COPY`` straight
from the engine's Arrow batches; ``validate`` reads it back with ``COPY … TO STDOUT`` and checks
keys, references and nulls in SQL. The whole design, with the type mapping, is in docs/targets.md.

Options (``--option KEY=VALUE``, or the flags ``--target``, ``--db-schema``, ``--mode``,
``--atomic``, ``--defer-constraints``):

* ``target`` — a ``postgresql://`` URL, a libpq keyword string, or the name of a target in
  ``targets/*.yaml``. Never written anywhere in clear: the manifest holds it redacted.
* ``db_schema`` — the PostgreSQL schema (namespace) of the tables, default ``public``.
* ``mode`` — ``create`` (default; sdgen's ``create_if_missing``): create the tables that are
  missing, an existing table must have the schema's columns with types that hold their values,
  and its primary key, UNIQUE and FOREIGN KEY constraints, else the run fails before anything is
  written, naming each mismatch; rows are added. ``truncate`` (``truncate_then_insert``): the
  tables must exist (same check); all of them are emptied in one ``TRUNCATE``, then loaded.
  ``append`` (``append_only``): the tables must exist; rows are added.
* ``atomic`` — ``true``: one transaction over the whole run (a failure leaves the database as it
  was); default ``false``: one transaction per table, in dependency order (a failure leaves the
  tables loaded before it, whole, and nothing of the one that failed).
* ``defer_constraints`` — ``true``: the tables this run creates get their keys, references and
  indexes after their rows (one index build instead of an insert per row into each index).

* ``copy`` — how the rows travel: ``auto`` (default) binary when every column has a binary
  encoding for its column's type, else CSV text; ``binary``: binary or an error; ``text``: CSV.
* ``streams`` — ``auto`` (default): with ``--workers`` > 1 (and not ``--atomic``) each table is
  loaded on its own connection, several ``COPY`` streams at once (load.py); ``1``: one
  connection for every table (a server short of connections).

Loading: the rows travel in COPY's binary format, encoded column by column from the Arrow
batches (binary.py: fixed-width big-endian values, base-10000 numerics, raw UUIDs, jsonb with its
version byte), or as CSV text made by Arrow's C++ writer (nested values as their JSON text); with
``--workers N`` the workers encode the blocks while this process streams them to the server, a
stream per table on its own connection, several at once (load.py).
Binary is the default because it measures faster at both ends: the encoding is ~8× cheaper than
CSV text and the server converts no text (docs/performance.md). Two runs into the same schema of the same database at once: the
second is refused (a session-level advisory lock on the database, keyed by the schema and the
table names), so it works across machines too.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from generators.common.nested_text import from_text, text_schema, to_text
from generators.common.sql_target import bool_option, dsl_named, mode_option, sql_arrow_schema
from generators.postgres_target.binary import HEADER as BINARY_HEADER
from generators.postgres_target.binary import TRAILER as BINARY_TRAILER
from generators.postgres_target.binary import BinaryRenderer, encoder_for
from generators.postgres_target.connection import connect, describe, identity, looks_like_dsn, redact
from generators.postgres_target.ddl import COLUMNS_SQL, PgTable, compare, pg_table, quote_ident, table_kind
from generators.postgres_target.load import LoadRun, TableStream, begin_table, end_table
from shared.errors import OutputError, Problem, UsageError
from shared.formats import Format, RunInfo, Written, check_known_options, register
from shared.model.schema import fmt_path
from shared.validation.checks import result

OPTIONS = ("target", "db_schema", "mode", "atomic", "defer_constraints", "copy", "streams")
COPY_FORMATS = ("auto", "binary", "text")
STREAMS = ("auto", "1")
RUN_KEY = "_postgres_run"
DSN_KEY = "_postgres_dsn"
MANIFEST_KEY = "_postgres_manifest"
READ_CHUNK = 1 << 20
SAMPLE = 5


def resolve_target(value: str) -> tuple[str, str, dict[str, str]]:
    """(DSN, how to name it in messages and the manifest, default options) for ``--target``: a DSN
    as given, or a named target of ``targets/*.yaml`` (its DSN with ``${VAR}`` taken from the
    environment, its ``schema`` and ``options`` as defaults). The DSN is checked by libpq's parser."""
    from generators.postgres_target.connection import check_dsn

    value = str(value).strip()
    if not value:
        raise UsageError("--target '': give a postgresql:// URL, a libpq connection string or a target name")
    if looks_like_dsn(value):
        check_dsn(value)
        return value, redact(value), {}
    from generators.common.targets import find_target

    target = find_target(value)
    if target.kind != "postgres":
        raise UsageError(f"--target {value}: a {target.kind} target ({target.path}), not postgres")
    check_dsn(target.dsn)
    defaults = dict(target.options)
    if target.schema:
        defaults["db_schema"] = target.schema
    return target.dsn, f"{value} ({redact(target.dsn)})", defaults


def lock_key(db_schema: str, names: list[str]) -> int:
    """The advisory-lock key of a run into these tables (a signed 64-bit int, stable)."""
    digest = hashlib.blake2b("\x00".join([db_schema, *sorted(names)]).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class CsvRenderer:
    """A batch as COPY's CSV text (nested values as their JSON text): pure and picklable, so the
    workers can run it."""

    def __call__(self, batch: pa.RecordBatch) -> pa.Buffer:
        import pyarrow.csv as pcsv

        sink = pa.BufferOutputStream()
        pcsv.write_csv(to_text(batch), sink, pcsv.WriteOptions(include_header=False, batch_size=4096))
        return sink.getvalue()


def _streams_option(opts: dict[str, Any]) -> str:
    value = str(opts.get("streams", "auto")).strip().lower()
    if value not in STREAMS:
        raise UsageError(f"--option streams={opts.get('streams')!r}: auto (a COPY stream per table with --workers > 1) "
                         f"or 1 (one connection for every table)")
    return value


def _copy_option(opts: dict[str, Any]) -> str:
    value = str(opts.get("copy", "auto")).strip().lower()
    if value not in COPY_FORMATS:
        raise UsageError(f"--option copy={opts.get('copy')!r}: one of {', '.join(COPY_FORMATS)}")
    return value


class PgWriter:
    """One table on the run's connection: ``COPY … FROM STDIN`` open from the first batch to
    ``close``; binary when ``binary`` (a :class:`BinaryRenderer` for the table's column types),
    else CSV."""

    def __init__(self, run: LoadRun, spec: PgTable, arrow_schema: pa.Schema, binary: BinaryRenderer | None,
                 created: bool):
        self.run = run
        self.spec = spec
        self.binary = binary is not None
        self.sql = copy_sql(spec, arrow_schema, self.binary)
        self.renderer: Any = binary if binary is not None else CsvRenderer()
        self.created = created
        self.rows = 0
        self._t0 = time.perf_counter()
        self._cm: Any = None
        self._copy: Any = None
        self._cur = run.conn.cursor()

    def _start(self) -> None:
        self._cm = self._cur.copy(self.sql)
        self._copy = self._cm.__enter__()
        if self.binary:
            self._copy.write(BINARY_HEADER)

    def write_rendered(self, text, rows: int) -> None:
        import psycopg

        try:
            if self._copy is None:
                self._start()
            self._copy.write(memoryview(text))
        except psycopg.Error as exc:
            raise self.run.fail(self.spec.name, exc) from None
        self.rows += rows

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self.write_rendered(self.renderer(batch), batch.num_rows)

    def close(self) -> list[Path | Written]:
        import psycopg

        run = self.run
        try:
            if self._copy is None:
                self._start()
            if self.binary:
                self._copy.write(BINARY_TRAILER)
            cm, self._cm, self._copy = self._cm, None, None
            cm.__exit__(None, None, None)
            end_table(run.conn, run, self.spec, self.created)
            if not run.atomic:
                run.conn.commit()
        except psycopg.Error as exc:
            raise run.fail(self.spec.name, exc) from None
        run.loaded(self.spec.name, self.rows, time.perf_counter() - self._t0, committed=not run.atomic)
        return []

    def abort(self) -> None:
        if self._cm is not None:
            with contextlib.suppress(Exception):
                self._cm.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)  # ends COPY with an error
        self._cm = self._copy = None
        self.run.abort()


class PgStreamWriter:
    """One table of a run with parallel streams: the blocks go to its :class:`TableStream`, which
    loads them on its own connection (load.py)."""

    def __init__(self, stream: TableStream, renderer: Any):
        self.stream = stream
        self.renderer = renderer

    def write_rendered(self, text, rows: int) -> None:
        self.stream.put(text, rows)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self.write_rendered(self.renderer(batch), batch.num_rows)

    def close(self) -> list[Path | Written]:
        self.stream.close()
        return []

    def abort(self) -> None:
        self.stream.run.abort()


def copy_sql(spec: PgTable, arrow_schema: pa.Schema, binary: bool) -> str:
    names = text_schema(arrow_schema).names
    how = "binary" if binary else "csv"
    return f"COPY {spec.qualified} ({', '.join(map(quote_ident, names))}) FROM STDIN WITH (FORMAT {how})"


@register("postgres")
class PostgresFormat(Format):
    name = "postgres"
    aliases = ("postgresql",)
    option_help = {
        "target": "postgresql:// URL, libpq string or targets/*.yaml name (or --target)",
        "db_schema": "the PostgreSQL schema of the tables, default public (or --db-schema)",
        "mode": "create (default; create_if_missing), truncate (truncate_then_insert) or append (append_only)",
        "atomic": "true: one transaction for the whole run; default false: one per table (or --atomic)",
        "defer_constraints": "true: keys, references and indexes built after the rows (or --defer-constraints)",
        "copy": "auto (default: binary where every column has a binary encoding), binary or text (CSV)",
        "streams": "auto (default: with --workers > 1, each table on its own connection, several COPY at once) "
                   "or 1 (one connection for every table)",
    }
    #: the command line's flags that set these options
    flag_options = {"target": "target", "db_schema": "db_schema", "mode": "mode", "atomic": "atomic",
                    "defer_constraints": "defer_constraints"}
    stores_tables = True
    widths = {"int": 6.0, "float": 10.0, "decimal": 9.0, "bool": 2.0, "string": 14.0, "date": 11.0,
              "timestamp": 27.0, "uuid": 37.0}

    # --- options --------------------------------------------------------------------------

    def check_options(self, opts: dict[str, Any]) -> dict[str, Any]:
        if DSN_KEY in opts:  # already checked (options travel on through the run)
            return dict(opts)
        dsn, label = None, None
        if "target" in opts:
            dsn, label, defaults = resolve_target(str(opts["target"]))
            opts = {**defaults, **opts}  # a named target's options, under the command line's
        check_known_options(opts, OPTIONS, "PostgreSQL")
        mode = mode_option(opts)
        db_schema = str(opts.get("db_schema", "public")).strip()
        if not db_schema or "\x00" in db_schema:
            raise UsageError(f"--db-schema {opts.get('db_schema')!r}: give a schema name")
        return {"target": label, "db_schema": db_schema, "mode": mode,
                "atomic": bool_option(opts, "atomic", False),
                "defer_constraints": bool_option(opts, "defer_constraints", False),
                "copy": _copy_option(opts), "streams": _streams_option(opts), DSN_KEY: dsn}

    #: options that say where the rows go, not what they are: left out of the run's config hash
    target_options = ("target", "db_schema", "atomic", "defer_constraints", "copy", "streams")

    def target_identity(self, options: dict[str, Any]) -> dict[str, Any]:
        """Where a run writes, without secrets (run records, the concurrency check: docs/runs.md)."""
        opts = self._with_target(options)
        ident = identity(opts[DSN_KEY])
        key = f"postgres://{ident['host']}:{ident['port']}/{ident['database']}/{opts['db_schema']}"
        return {"kind": "postgres", "format": self.name, "target": opts["target"], **ident,
                "db_schema": opts["db_schema"], "mode": opts["mode"], "key": key, "label": f"--target {opts['target']}"}

    def _with_target(self, options: dict[str, Any]) -> dict[str, Any]:
        opts = self.check_options(options)
        if opts.get(DSN_KEY) is None:
            raise UsageError("--format postgres needs --target: a postgresql:// URL, a libpq connection string "
                             "or the name of a target in targets/*.yaml")
        return opts

    # --- writing --------------------------------------------------------------------------

    def prepare(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> None:
        """Connect, take the target's lock, and check every table against the database before a
        row is generated (mode create: existing tables; truncate, append: all of them)."""
        import psycopg

        opts = self._with_target(options)
        options.update(opts)
        conn = connect(opts[DSN_KEY])
        constraints = (run.profile if run else schema.profile) != "dirty"
        state = LoadRun(conn, opts["target"], opts["db_schema"], opts["mode"], opts["atomic"],
                        opts["defer_constraints"], constraints, dsn=opts[DSN_KEY])
        # parallel streams (load.py) with workers; one transaction is one connection
        state.parallel = bool(run is not None and run.workers > 1 and not state.atomic and opts["streams"] == "auto")
        try:
            state.server_version = conn.execute("SHOW server_version").fetchone()[0]
            names = [t.name for t in schema.tables]
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(state.db_schema, names),)).fetchone()[0]
            if not got:
                raise OutputError(f"PostgreSQL target {state.label}: another datagen run is loading into "
                                  f"{state.db_schema} ({', '.join(names)}) right now; wait for it to finish")
            conn.commit()
            if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (state.db_schema,)).fetchone() is None:
                raise UsageError(f"--db-schema {state.db_schema}: no such schema in the database",
                                 [Problem(f"schema {state.db_schema!r} does not exist", "",
                                          hint=f"CREATE SCHEMA {quote_ident(state.db_schema)}, or pick another")])
            sql = schema.sql_named  # the statements name what SQL sees (sql_name)
            tables = {t.name: t for t in sql.tables}
            problems: list[Problem] = []
            unencoded: list[Problem] = []
            with conn.cursor() as cur:
                for dsl, t in zip(schema.tables, sql.tables, strict=True):
                    spec = state.specs[t.name] = pg_table(t, tables, state.db_schema, constraints=constraints)
                    state.names[dsl.name] = t.name
                    problems += self._table_problems(cur, state.mode, t, spec)
                    if opts["copy"] == "binary":
                        unencoded += self._binary_problems(cur, t, spec, not constraints)
            conn.rollback()
            if problems:
                raise UsageError(f"PostgreSQL target {state.label} mode={state.mode}: the database does not fit "
                                 f"the schema; nothing was changed", problems)
            if unencoded:
                raise UsageError(f"PostgreSQL target {state.label}: --option copy=binary cannot send every column "
                                 f"in binary; nothing was changed", unencoded)
        except psycopg.Error as exc:
            state.abort()
            raise OutputError(f"PostgreSQL target {state.label}: {describe(exc)}") from None
        except BaseException:
            state.abort()
            raise
        options[RUN_KEY] = state

    @staticmethod
    def _binary_problems(cur, table, spec: PgTable, dirty: bool) -> list[Problem]:
        """With ``copy=binary``: each column the binary encoding cannot send into its column type."""
        from shared.schema_dsl.engine import arrow_schema

        have = {r[0]: r[1] for r in cur.execute(COLUMNS_SQL, (spec.qualified,)).fetchall()} \
            if table_kind(cur, spec) is not None else {c.name: c.type for c in spec.columns}
        fields = text_schema(arrow_schema(table, dirty=dirty))
        return [Problem(f"column {f.name!r} ({have.get(f.name, '?')}) has no binary encoding here",
                        fmt_path(table.path), hint="use --option copy=auto (binary where it can) or copy=text")
                for f in fields if encoder_for(f.type, have.get(f.name, "")) is None]

    @staticmethod
    def _table_problems(cur, mode: str, table, spec: PgTable) -> list[Problem]:
        where = fmt_path(table.path)
        kind = table_kind(cur, spec)
        if kind is None:
            if mode == "create":
                return []
            return [Problem(f"table {spec.schema}.{spec.name} does not exist", where,
                            hint="use --mode create to create it")]
        cols = {c.name: c for c in table.columns}
        return [Problem(f"table {spec.schema}.{spec.name}: {msg}", fmt_path(cols[col].path) if col in cols else where,
                        hint=None) for col, msg in compare(cur, spec)]

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None) -> PgWriter | PgStreamWriter:
        import psycopg

        state: LoadRun | None = options.get(RUN_KEY)
        if state is None:
            raise OutputError("PostgreSQL target: open_writer before prepare (no connection)")
        spec = state.specs[state.names[table.name]]
        arrow_schema = sql_arrow_schema(table, arrow_schema)  # the batches' columns by position
        try:
            if state.parallel:
                with state.conn.cursor() as cur:
                    exists = table_kind(cur, spec) is not None
                state.conn.rollback()
                binary = self._binary(state, spec, arrow_schema, options, exists)
                stream = TableStream(state, spec, copy_sql(spec, arrow_schema, binary is not None), binary is not None,
                                     will_create=not exists)
                state.streams[spec.name] = stream
                return PgStreamWriter(stream, binary if binary is not None else CsvRenderer())
            created = begin_table(state.conn, state, spec)
            binary = self._binary(state, spec, arrow_schema, options, True)
        except psycopg.Error as exc:
            error = state.fail(table.name, exc)
            state.abort()
            options.pop(RUN_KEY, None)
            raise error from None
        except BaseException:
            state.abort()
            options.pop(RUN_KEY, None)
            raise
        return PgWriter(state, spec, arrow_schema, binary, created)

    @staticmethod
    def _binary(state: LoadRun, spec: PgTable, arrow_schema: pa.Schema, options: dict[str, Any],
                exists: bool) -> BinaryRenderer | None:
        """The binary encoding for the table's columns as they are in the database (or will be,
        when the table is still to be created), or ``None`` (CSV text) when ``copy`` says text or,
        with ``auto``, some column has none."""
        how = options.get("copy", "auto")
        if how == "text":
            return None
        if exists:
            with state.conn.cursor() as cur:
                have = {r[0]: r[1] for r in cur.execute(COLUMNS_SQL, (spec.qualified,)).fetchall()}
            if state.parallel:
                state.conn.rollback()
        else:
            have = {c.name: c.type for c in spec.columns}
        names = text_schema(arrow_schema).names
        return BinaryRenderer.plan(arrow_schema, [have.get(n, "") for n in names])

    def abort_run(self, options: dict[str, Any]) -> None:
        state = options.pop(RUN_KEY, None)
        if state is not None:
            state.abort()

    def finish(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> list[Path]:
        import psycopg

        state: LoadRun | None = options.get(RUN_KEY)
        if state is None:
            return []
        for stream in state.streams.values():
            stream.wait()  # raises the run's first failure (abort_run then stops the others)
        options.pop(RUN_KEY, None)
        try:
            if state.atomic:
                state.conn.commit()
                state.committed = list(state.rows)
            with contextlib.suppress(psycopg.Error):
                state.conn.execute("SELECT pg_advisory_unlock_all()")
        except psycopg.Error as exc:
            state.abort()
            raise OutputError(f"PostgreSQL target {state.label}: the commit failed: {describe(exc)}; "
                              f"the whole run was rolled back") from None
        finally:
            with contextlib.suppress(Exception):
                state.conn.close()
        options[MANIFEST_KEY] = {
            "target": state.label, "db_schema": state.db_schema, "mode": state.mode, "atomic": state.atomic,
            "defer_constraints": state.defer, "constraints": "declared" if state.constraints else "relaxed",
            "tables_created": list(state.created),
            "rows_written": {dsl: state.rows[n] for dsl, n in state.names.items() if n in state.rows},
            "streams": max(1, len(state.streams)),
            "load_s": {dsl: state.seconds[n] for dsl, n in state.names.items() if n in state.rows},
            "server_version": state.server_version,
        }
        return []

    def manifest_extra(self, out_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
        extra = options.pop(MANIFEST_KEY, None)
        return {"postgres": extra} if extra is not None else {}

    # --- reading --------------------------------------------------------------------------

    _reading: dict[str, Any] | None = None

    def for_reading(self, options: dict[str, Any]) -> PostgresFormat:
        clone = copy.copy(self)
        clone._reading = self.check_options(options) if options else None
        return clone

    def _read_conn(self):
        if self._reading is None or self._reading.get(DSN_KEY) is None:
            raise UsageError("validate --format postgres needs --target (the database to check); the manifest "
                             "names it only redacted")
        conn = connect(self._reading[DSN_KEY], autocommit=True)
        return conn

    def _spec(self, table) -> PgTable:
        """The table as SQL names it (``sql_name``), for reading."""
        db_schema = self._reading["db_schema"] if self._reading else "public"
        t = table.sql_named
        return pg_table(t, {t.name: t}, db_schema)

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        return []

    def table_present(self, out_dir: Path, table) -> str | None:
        """None when the table is in the database, else why not (validate's ``artifact_exists``)."""
        conn = self._read_conn()
        try:
            with conn.cursor() as cur:
                spec = self._spec(table)
                kind = table_kind(cur, spec)
                if kind is None:
                    return f"no table {spec.schema}.{spec.name} in {self._reading['target']}"  # type: ignore[index]
                return None if kind == "table" else f"{spec.schema}.{spec.name} is a {kind}"
        finally:
            conn.close()

    def count_rows(self, out_dir: Path, table) -> int | None:
        conn = self._read_conn()
        try:
            return int(conn.execute(f"SELECT count(*) FROM {self._spec(table).qualified}").fetchone()[0])
        finally:
            conn.close()

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        return self.read_batches(out_dir, table, arrow_schema).read_all()

    def read_batches(self, out_dir: Path, table, arrow_schema: pa.Schema,
                     columns: list[str] | None = None) -> pa.RecordBatchReader:
        """The table in load order (``ctid``: a table a run created or truncated holds its rows in
        the order they were copied), streamed through Arrow's CSV reader."""
        import pyarrow.csv as pcsv

        conn = self._read_conn()
        spec = self._spec(table)
        with conn.cursor() as cur:
            have = {r[0] for r in cur.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (spec.qualified,)).fetchall()}
        sql_names = table.sql_columns
        wanted = [f for f in arrow_schema
                  if sql_names.get(f.name, f.name) in have and (columns is None or f.name in columns)]
        text = text_schema(pa.schema(wanted))
        select, types = [], {}
        for f, t in zip(wanted, text, strict=True):
            q, alias = quote_ident(sql_names.get(f.name, f.name)), quote_ident(f.name)
            if pa.types.is_timestamp(t.type):
                select.append(f"({q} AT TIME ZONE 'UTC') AS {alias}")
                types[f.name] = pa.timestamp("us")
            else:
                select.append(f"{q} AS {alias}")
                types[f.name] = t.type
        if not select:
            conn.close()
            return pa.RecordBatchReader.from_batches(pa.schema([]), [])
        sql = f"COPY (SELECT {', '.join(select)} FROM {spec.qualified} ORDER BY ctid) TO STDOUT WITH (FORMAT csv)"
        stream = _CopyStream(conn, sql)
        reader = pcsv.open_csv(
            stream, read_options=pcsv.ReadOptions(column_names=[f.name for f in wanted], block_size=READ_CHUNK),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(column_types=types, true_values=["t"], false_values=["f"],
                                                null_values=[""], strings_can_be_null=True,
                                                quoted_strings_can_be_null=False))
        out_schema = pa.schema(wanted)

        def batches() -> Any:
            try:
                for batch in reader:
                    arrays = [arr.cast(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(arr.type) else arr
                              for arr in batch.columns]
                    plain = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
                    got = from_text(plain, out_schema)
                    try:  # the schema's own fields (nullability included), as the other formats read
                        yield pa.RecordBatch.from_arrays(list(got.columns), schema=out_schema)
                    except (pa.ArrowInvalid, pa.ArrowTypeError):
                        yield got
            finally:
                stream.close()

        return pa.RecordBatchReader.from_batches(out_schema, batches())

    # --- SQL checks -----------------------------------------------------------------------

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        import psycopg

        try:
            conn = self._read_conn()
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            return [result("pg_connect", None, None, "fail", str(exc))]
        constraints = (plan.profile if plan is not None else "clean") != "dirty"
        sql = schema.sql_named  # checked under the names SQL sees, reported under the schema's
        tables = {t.name: t for t in sql.tables}
        out: list[dict] = []
        try:
            with conn.cursor() as cur:
                for t in sql.tables:
                    spec = pg_table(t, tables, self._reading["db_schema"], constraints=constraints)  # type: ignore[index]
                    if table_kind(cur, spec) != "table":
                        continue
                    problems = compare(cur, spec, keys=constraints)
                    what = "columns, types, NOT NULL, keys and references" if constraints else \
                        "columns and types (constraints relaxed: dirty profile)"
                    out.append(result("pg_schema", t.name, None, "fail" if problems else "pass",
                                      "; ".join(m for _, m in problems[:3]) + (
                                          f" … and {len(problems) - 3} more" if len(problems) > 3 else "")
                                      if problems else f"{what} as the schema says",
                                      unexpected_count=len(problems), sample=[m for _, m in problems[:SAMPLE]]))
                    out += sql_checks(cur, t, spec, tables, constraints)
        except psycopg.Error as exc:
            out.append(result("pg_sql", None, None, "fail", f"SQL checks failed: {describe(exc)}"))
        finally:
            conn.close()
        return dsl_named(out, schema)


class _CopyStream(io.RawIOBase):
    """``COPY … TO STDOUT`` as a readable binary stream (for Arrow's streaming CSV reader)."""

    def __init__(self, conn, sql: str):
        self.conn = conn
        self._cur = conn.cursor()
        self._cm = self._cur.copy(sql)
        self._copy = self._cm.__enter__()
        self._buf: bytes | memoryview = b""
        self._pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        """Fill ``b`` as far as the data goes (COPY sends a message per row or so; Arrow's reader
        makes a batch of each read, so small reads would mean tiny batches)."""
        view = memoryview(b).cast("B")
        filled = 0
        while filled < len(view):
            if not self._buf:
                if self._done:
                    break
                chunk = self._copy.read()
                if not chunk:
                    self._done = True
                    break
                self._buf, self._pos = chunk, 0
            n = min(len(view) - filled, len(self._buf) - self._pos)
            view[filled:filled + n] = self._buf[self._pos:self._pos + n]
            filled += n
            self._pos += n
            if self._pos >= len(self._buf):
                self._buf = b""
        return filled

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._cm.__exit__(None, None, None)
            with contextlib.suppress(Exception):
                self.conn.close()
        super().close()


def _sql_value(c, value) -> tuple[str, Any]:
    """A bound or allowed value of column ``c`` (engine units: days for dates, microseconds for
    timestamps) as an SQL expression with its parameter."""
    kind = c.dtype.kind
    if kind == "date":
        return "(DATE '1970-01-01' + %s::integer)", int(value)
    if kind == "timestamp":
        return "(TIMESTAMPTZ '1970-01-01 00:00:00+00' + %s::bigint * INTERVAL '1 microsecond')", int(value)
    if kind in ("int", "float", "decimal"):
        return "%s::numeric", str(value)
    if kind == "bool":
        return "%s::boolean", bool(value)
    return "%s::text", str(value)


def value_checks(cur, table, spec: PgTable, constraints: bool) -> list[dict]:
    """Ranges, allowed values and patterns computed by the server, one scan per table: the rows
    outside ``[min, max]``, not in ``allowed``, or not fully matching ``pattern`` (PostgreSQL's
    regular expressions; a pattern they cannot read is reported as such — the client-side
    ``pattern`` check, on Arrow's RE2 engine, still covers it)."""
    q = quote_ident
    exprs: list[tuple[str, str, str, list[Any]]] = []  # (kind, column, SQL, params)
    for c in table.columns:
        col = q(c.name)
        if (c.min is not None or c.max is not None) and c.dtype.is_ordered:
            parts, params = [], []
            for op, bound in (("<", c.min), (">", c.max)):
                if bound is not None:
                    sql, value = _sql_value(c, bound)
                    parts.append(f"{col} {op} {sql}")
                    params.append(value)
            lo = c.raw_min if c.min is not None else "-∞"
            hi = c.raw_max if c.max is not None else "+∞"
            exprs.append(("pg_range", c.name, f"count(*) FILTER (WHERE {' OR '.join(parts)})", params))
            exprs[-1] = (*exprs[-1][:3], params + [f"[{lo}, {hi}]"])
        if c.allowed:
            items = [_sql_value(c, v) for v in c.allowed]
            exprs.append(("pg_allowed", c.name, f"count(*) FILTER (WHERE {col} IS NOT NULL AND {col} NOT IN "
                                                f"({', '.join(sql for sql, _ in items)}))",
                          [v for _, v in items] + [None]))
        if c.pattern and c.dtype.kind in ("string", "uuid"):
            exprs.append(("pg_pattern", c.name, f"count(*) FILTER (WHERE {col}::text !~ %s)",
                          [f"^(?:{c.pattern})$", None]))
    out: list[dict] = []
    status_bad = "fail" if constraints else "warning"
    for kind, column, sql, params in exprs:
        *values, label = params
        try:
            with cur.connection.transaction():
                bad = int(cur.execute(f"SELECT {sql} FROM {spec.qualified}", values).fetchone()[0])
        except Exception as exc:  # noqa: BLE001 - a pattern PostgreSQL's regex dialect cannot read
            import psycopg

            if not isinstance(exc, psycopg.errors.InvalidRegularExpression):
                raise
            out.append(result(kind, table.name, column, "warning",
                              f"PostgreSQL cannot read the pattern ({describe(exc)}); the client-side pattern "
                              f"check covers it"))
            continue
        what = {"pg_range": f"outside {label}", "pg_allowed": "not in the allowed list",
                "pg_pattern": "not fully matching the pattern"}[kind]
        out.append(result(kind, table.name, column, status_bad if bad else "pass",
                          f"{bad} value(s) {what} (SQL)" if bad else f"no value {what} (SQL)",
                          unexpected_count=bad))
    return out


def sql_checks(cur, table, spec: PgTable, tables: dict, constraints: bool) -> list[dict]:
    """Keys, references and NOT NULL computed by the server: duplicate keys (GROUP BY), orphans
    (an anti-join against the parent) and nulls where the schema allows none; then ranges,
    allowed values and patterns (:func:`value_checks`)."""
    q = quote_ident
    out = []
    n_rows = int(cur.execute(f"SELECT count(*) FROM {spec.qualified}").fetchone()[0])
    keys = ([tuple(table.primary_key)] if table.primary_key else []) + \
        [(c.name,) for c in table.columns if c.unique] + [tuple(g) for g in table.unique]
    for key in dict.fromkeys(keys):
        cols = ", ".join(map(q, key))
        dup = int(cur.execute(f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {spec.qualified} "
                              f"WHERE {' AND '.join(f'{q(c)} IS NOT NULL' for c in key)} GROUP BY {cols} "
                              f"HAVING count(*) > 1) d").fetchone()[0])
        status = "pass" if not dup else ("fail" if constraints else "warning")
        out.append(result("pg_unique", table.name, ", ".join(key), status,
                          f"{dup} duplicate value(s) of ({', '.join(key)}) in SQL" if dup else
                          f"({', '.join(key)}) unique in SQL", unexpected_count=dup, element_count=n_rows))
    for ref in table.foreign_keys:
        parent = tables.get(ref.parent)
        if parent is None or None in ref.parent_columns:
            continue
        pspec = pg_table(parent, tables, spec.schema)
        pairs = list(zip(ref.columns, ref.parent_columns, strict=True))  # a composite key's too
        present = " AND ".join(f"c.{q(a)} IS NOT NULL" for a, _ in pairs)  # MATCH SIMPLE
        orphan = (f"FROM {spec.qualified} c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {pspec.qualified} p "
                  f"WHERE {' AND '.join(f'p.{q(str(b))} = c.{q(a)}' for a, b in pairs)})")
        orphans = int(cur.execute(f"SELECT count(*) {orphan}").fetchone()[0])
        shown = " || ', ' || ".join(f"c.{q(a)}::text" for a, _ in pairs)
        sample = [r[0] for r in cur.execute(f"SELECT {shown} {orphan} LIMIT {SAMPLE}").fetchall()] if orphans else []
        status = "pass" if not orphans else ("fail" if constraints else "warning")
        cols, pcols = ", ".join(ref.columns), ", ".join(map(str, ref.parent_columns))
        target = f"{ref.parent}.{pcols}" if len(pairs) == 1 else f"{ref.parent} ({pcols})"
        out.append(result("pg_foreign_key", table.name, cols, status,
                          f"{orphans} row(s) reference no {target} (anti-join)" if orphans else
                          f"every {cols} has its {target} (anti-join)",
                          unexpected_count=orphans, element_count=n_rows, sample=sample))
    required = [c for c in table.columns if not c.nullable]
    if required and n_rows:
        counts = cur.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {q(c.name)} IS NULL)" for c in required)
                             + f" FROM {spec.qualified}").fetchone()
        for c, n in zip(required, counts, strict=True):
            if n:
                out.append(result("pg_not_null", table.name, c.name, "fail" if constraints else "warning",
                                  f"{n} null(s) in SQL where the schema allows none", unexpected_count=int(n),
                                  element_count=n_rows))
        if not any(counts):
            out.append(result("pg_not_null", table.name, None, "pass",
                              f"no nulls in {len(required)} required column(s) (SQL)", element_count=n_rows))
    return out + value_checks(cur, table, spec, constraints)

