"""Loading a run's tables: the run's state, each table's DDL at the start and the end of its
transaction, and — with ``--workers`` > 1 — parallel streams.

Parallel streams: each table is loaded on its own connection by a background thread
(:class:`TableStream`), fed through a small bounded queue by the process that receives the
encoded blocks, so several ``COPY`` streams run at once in several backends: a table's COPY
overlaps the tail of the one before it (its flush, its index builds, the reference checks and
the commit) and every table that does not wait for it. What a table waits for keeps the
guarantees of one transaction per table: it starts its COPY only once every table of the run it
references has committed (the server checks each reference against committed rows), except a
table this run creates with ``--defer-constraints``, which has no reference to check while it
loads — it streams at once and waits only before adding its foreign keys. So a referencing table
never commits before the tables it references, and a failure leaves whole tables or nothing.
``--atomic`` is one transaction, hence one connection and one stream.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from generators.postgres_target.binary import HEADER as BINARY_HEADER
from generators.postgres_target.binary import TRAILER as BINARY_TRAILER
from generators.postgres_target.connection import connect, describe
from generators.postgres_target.ddl import PgTable, add_constraints_sql, create_indexes_sql, create_table_sql, table_kind
from shared.errors import OutputError

#: blocks queued per stream: bounds the client's memory (a few blocks per table in flight)
QUEUE_DEPTH = 4
#: how often a waiting side looks whether the run failed or was cancelled (seconds)
POLL_S = 0.1


@dataclass
class LoadRun:
    """One generate run: the connection that holds the target's lock (and, with one stream,
    loads every table), the options, and what was loaded so far."""

    conn: Any
    label: str
    db_schema: str
    mode: str
    atomic: bool
    defer: bool
    constraints: bool
    dsn: str = field(default="", repr=False)
    #: by SQL name (``sql_name``): what the statements and the references name
    specs: dict[str, PgTable] = field(default_factory=dict)
    #: each table's SQL name by its DSL name
    names: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    committed: list[str] = field(default_factory=list)
    server_version: str = ""
    #: one stream per table, each on its own connection (``--workers`` > 1, not ``--atomic``)
    parallel: bool = False
    #: parallel streams, by table, in the order they were opened
    streams: dict[str, TableStream] = field(default_factory=dict)
    #: the first table that failed (parallel streams): every other side gives up on seeing it
    failure: OutputError | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def abort(self) -> None:
        """Stop every stream (what they have not committed is rolled back), roll back what is not
        committed here and close the connection (the advisory lock goes with the session)."""
        self.cancel_streams()
        with contextlib.suppress(Exception):
            self.conn.rollback()
        with contextlib.suppress(Exception):
            self.conn.close()

    def cancel_streams(self) -> None:
        self.cancelled.set()
        for stream in self.streams.values():
            stream.cancel()
        for stream in self.streams.values():
            stream.thread.join()

    def fail(self, table: str, exc: BaseException) -> OutputError:
        with self.lock:
            committed = list(self.committed)
        kept = f"; tables committed before it: {', '.join(committed)}" if committed and not self.atomic else ""
        scope = "the whole run was rolled back" if self.atomic else f"table {table} was rolled back"
        return OutputError(f"PostgreSQL target {self.label}: loading {self.db_schema}.{table} failed: "
                           f"{describe(exc)}; {scope}{kept}")

    def loaded(self, table: str, rows: int, seconds: float, committed: bool) -> None:
        with self.lock:
            self.rows[table] = rows
            self.seconds[table] = round(seconds, 4)
            if committed:
                self.committed.append(table)

    def note_created(self, table: str) -> None:
        with self.lock:
            self.created.append(table)


def referencing_closure(specs: dict[str, PgTable], name: str) -> list[str]:
    """``name`` and every table of the run that references it, directly or not (in run order)."""
    found = {name}
    changed = True
    while changed:
        changed = False
        for n, spec in specs.items():
            if n not in found and any(fk.parent in found for fk in spec.foreign_keys):
                found.add(n)
                changed = True
    return [n for n in specs if n in found]


def begin_table(conn, run: LoadRun, spec: PgTable, exists: bool | None = None) -> bool:
    """The table's DDL at the start of its load, in the transaction open on ``conn``: created when
    missing (its keys and references now, or after the rows with ``--defer-constraints``), else
    emptied first when the mode says so or it is empty anyway. True when it was created."""
    import psycopg

    with conn.cursor() as cur:
        if table_kind(cur, spec) is None:
            cur.execute(create_table_sql(spec, with_constraints=not run.defer))
            run.note_created(spec.name)
            return True
        closure = [n for n in referencing_closure(run.specs, spec.name)
                   if n == spec.name or table_kind(cur, run.specs[n]) is not None]
        empty = run.mode == "truncate" or not any(
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {run.specs[n].qualified})").fetchone()[0] for n in closure)
        if empty:
            # emptied in the load's own transaction (truncate mode; or already empty): PostgreSQL
            # then writes the new pages in order, without reusing free space, so the table holds
            # its rows in load order. The tables of the run that reference it are named too
            # (PostgreSQL refuses to empty a referenced table alone); nothing outside the run is
            # cascaded into.
            truncate = "TRUNCATE " + ", ".join(run.specs[n].qualified for n in closure)
            if run.mode == "truncate":
                cur.execute(truncate)
            else:
                # an empty table that a table outside the run references cannot be emptied (it is
                # empty anyway): the rows are then simply added
                try:
                    with conn.transaction():
                        cur.execute(truncate)
                except psycopg.errors.FeatureNotSupported:
                    pass
    return False


def end_table(conn, run: LoadRun, spec: PgTable, created: bool) -> None:
    """After the rows, in the same transaction: the deferred keys and references, and the indexes,
    of a table this run created."""
    if not created:
        return
    if run.defer:
        for sql in add_constraints_sql(spec):
            conn.execute(sql)
    for sql in create_indexes_sql(spec):
        conn.execute(sql)


class _Abandoned(Exception):
    """The run failed elsewhere or was cancelled: this stream stops without a message of its own."""


class TableStream:
    """One table loaded by ``COPY`` on its own connection in a background thread, in its own
    transaction: begin (DDL), the blocks from the queue, end (constraints, indexes), commit."""

    def __init__(self, run: LoadRun, spec: PgTable, copy_sql: str, binary: bool, will_create: bool):
        self.run = run
        self.spec = spec
        self.copy_sql = copy_sql
        self.binary = binary
        parents = [run.streams[fk.parent] for fk in spec.foreign_keys
                   if fk.parent != spec.name and fk.parent in run.streams]
        # a table created with its references deferred has nothing to check while it loads
        self.before_copy = [] if will_create and run.defer else parents
        self.before_constraints = parents if will_create and run.defer else []
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self.committed = threading.Event()
        self.done = threading.Event()
        self.error: OutputError | None = None
        self.rows = 0
        self._conn: Any = None
        self.thread = threading.Thread(target=self._load, name=f"datagen-copy-{spec.name}", daemon=True)
        self.thread.start()

    # --- the producing side (the run's main thread) -------------------------------------------

    def put(self, data, rows: int) -> None:
        """Queue a block (copied: the caller's buffer may be reused once this returns); raises the
        run's failure as soon as there is one."""
        self._offer((bytes(data), rows))

    def close(self) -> None:
        """No more blocks: the stream finishes (and commits) on its own."""
        self._offer(None)

    def _offer(self, item) -> None:
        while True:
            self.check()
            try:
                self.queue.put(item, timeout=POLL_S)
                return
            except queue.Full:
                continue

    def check(self) -> None:
        failure = self.run.failure
        if failure is not None:
            raise failure
        if self.done.is_set() and not self.committed.is_set():  # gave up (cancelled)
            raise OutputError(f"PostgreSQL target {self.run.label}: loading {self.run.db_schema}.{self.spec.name} "
                              f"stopped; table {self.spec.name} was rolled back")

    def cancel(self) -> None:
        """Stop now: a COPY or a statement under way on the server is cancelled."""
        conn = self._conn
        if conn is not None and not self.done.is_set():
            with contextlib.suppress(Exception):
                conn.cancel_safe(timeout=5)

    # --- the loading side (this stream's thread) ----------------------------------------------

    def _wait(self, streams: list[TableStream]) -> None:
        for other in streams:
            while not other.committed.wait(POLL_S):
                # done is set after committed: read committed again once done is seen, or a parent that
                # commits between the wait timing out and this check looks abandoned (a busy CI machine
                # stretched that window and rolled back a child whose parent had committed)
                gave_up = other.done.is_set() and not other.committed.is_set()
                if gave_up or self.run.cancelled.is_set() or self.run.failure is not None:
                    raise _Abandoned

    def _next(self):
        while True:
            if self.run.cancelled.is_set() or self.run.failure is not None:
                raise _Abandoned
            try:
                return self.queue.get(timeout=POLL_S)
            except queue.Empty:
                continue

    def _load(self) -> None:
        import psycopg

        run, name = self.run, self.spec.name
        t0 = time.perf_counter()
        try:
            self._wait(self.before_copy)
            conn = self._conn = connect(run.dsn)
            created = begin_table(conn, run, self.spec)
            with conn.cursor() as cur, cur.copy(self.copy_sql) as copy:
                if self.binary:
                    copy.write(BINARY_HEADER)
                while (item := self._next()) is not None:
                    copy.write(item[0])
                    self.rows += item[1]
                if self.binary:
                    copy.write(BINARY_TRAILER)
            self._wait(self.before_constraints)
            end_table(conn, run, self.spec, created)
            conn.commit()
            run.loaded(name, self.rows, time.perf_counter() - t0, committed=True)
            self.committed.set()
        except _Abandoned:
            pass
        except (psycopg.Error, OutputError) as exc:
            if not run.cancelled.is_set():
                self.error = exc if isinstance(exc, OutputError) else run.fail(name, exc)
                with run.lock:
                    if run.failure is None:
                        run.failure = self.error
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread, not lost in this one
            self.error = run.fail(name, exc)
            with run.lock:
                if run.failure is None:
                    run.failure = self.error
        finally:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.rollback()
                with contextlib.suppress(Exception):
                    self._conn.close()
            self.done.set()

    def wait(self) -> None:
        """Until the stream has finished; its failure (or the run's) raised."""
        while not self.done.wait(POLL_S):
            if self.run.failure is not None:
                raise self.run.failure
        self.check()
