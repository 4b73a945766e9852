"""The run store: every ``generate`` on record (../shared/design/platform.md, "Runs are records").

A run is one execution — schema × overrides × seed × target × mode. ``datagen.api.generate``
records each one here, whatever its sink (files, memory, a temporary folder) and whether the
command line or Python called it::

    pending ──▶ running ──▶ success
       │           ├──────▶ failed        (the error's message, never a traceback)
       │           └──────▶ interrupted   (Ctrl-C, SIGTERM; or found dead later)
       └──▶ failed                        (refused: another run is writing to the target)

The store is one SQLite file (stdlib ``sqlite3``, imported on first use): ``--runs-db PATH`` /
``runs_db=``, else ``$DATAGEN_RUNS_DB``, else ``$XDG_STATE_HOME/datagen/runs.sqlite``
(``~/.local/state/datagen/runs.sqlite``). Each operation opens it, runs one short transaction
(``BEGIN IMMEDIATE`` under a busy timeout) and closes it, so no descriptor stays open during a
run. ``PRAGMA user_version`` numbers the table layout for later migrations.

Each row keeps what ``runs rerun`` needs to make the same bytes again: the schema's own bytes,
its label, and the settings (seed, row overrides, scale, profile, corruption choice, anchor,
block size, format and its options). Everything stored passes through
``shared.io.redact.redact`` first: no password reaches the file.

Two runs into one target: a new run is refused while the store holds a ``pending`` or
``running`` row for the same target key whose process is alive (pid, host and the process's
start time, so a reused pid is not mistaken for the run); a row whose process is gone is marked
``interrupted`` when found.

See docs/runs.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.api import jsonable
from shared.errors import DatagenError, OutputError, UsageError
from shared.io.redact import MASK, redact, redact_text

if TYPE_CHECKING:
    import sqlite3

    from shared.schema_dsl.planner import Plan

__all__ = ["STATUSES", "ENV", "RunStore", "Recorder", "store_path", "run_config", "config_hash", "run_record"]

STATUSES = ("pending", "running", "success", "failed", "interrupted")
#: the statuses of a run that may still be writing to its target
ACTIVE = ("pending", "running")
ENV = "DATAGEN_RUNS_DB"
#: the layout of the table (``PRAGMA user_version``); a store of a later layout is refused
LAYOUT_VERSION = 1
BUSY_TIMEOUT_S = 15.0
HINT = f"choose another file with --runs-db PATH or {ENV}"

_COLUMNS = (
    ("id", "TEXT PRIMARY KEY"), ("status", "TEXT NOT NULL"), ("started_at", "TEXT NOT NULL"),
    ("finished_at", "TEXT"), ("seconds", "REAL"), ("seed", "INTEGER"), ("config_hash", "TEXT"),
    ("schema_name", "TEXT"), ("schema_version", "INTEGER"), ("schema_sha256", "TEXT"),
    ("target", "TEXT NOT NULL"), ("target_key", "TEXT"), ("rows", "TEXT"), ("tables", "TEXT"),
    ("warnings", "TEXT"), ("error", "TEXT"), ("record", "TEXT"), ("replay", "TEXT"), ("schema_source", "BLOB"),
    ("tool_version", "TEXT"), ("pid", "INTEGER"), ("host", "TEXT"), ("proc_start", "TEXT"),
)
_JSON = ("target", "rows", "tables", "warnings", "record", "replay")

#: the runs this process has begun and not yet finished (its own rows are live exactly then)
_IN_PROGRESS: set[str] = set()
#: runs of child processes this process watches over and ends itself if the child dies (the
#: service's runs): a reader in this process leaves them to it
SUPERVISED: set[str] = set()


# --- where ------------------------------------------------------------------------------------


def store_path(runs_db: str | os.PathLike | None = None) -> Path:
    """The store's file: ``runs_db`` (``--runs-db``), else ``$DATAGEN_RUNS_DB``, else
    ``$XDG_STATE_HOME/datagen/runs.sqlite`` (an absolute ``XDG_STATE_HOME`` only, as the XDG
    specification says), else ``~/.local/state/datagen/runs.sqlite``."""
    if runs_db is not None:
        if not str(runs_db).strip():
            raise UsageError("--runs-db '': an empty path (omit it for the default run store)")
        return Path(runs_db).expanduser()
    env = os.environ.get(ENV, "")
    if env.strip():
        return Path(env).expanduser()
    state = os.environ.get("XDG_STATE_HOME", "")
    try:
        base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    except RuntimeError:  # no home directory to be found
        raise OutputError(f"the run store: no home directory to keep it in; {HINT}") from None
    return base / "datagen" / "runs.sqlite"


# --- what determines the bytes ------------------------------------------------------------------


def run_config(plan: Plan, format_name: str | None, options: Mapping[str, Any], target_kind: str | None,
               exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything that determines a run's output, as plain data: the schema's SHA-256, the
    resolved seed, row overrides, scale, profile, corruption choice, anchor, format, the format's
    options (checked; secrets redacted; ``exclude``: those that say *where*, e.g. a database
    path), the target's kind and its mode (``options["mode"]``). Never the worker count, block
    size, paths or a password: none of them changes a byte."""
    opts = {str(k): v for k, v in sorted(options.items())
            if not str(k).startswith("_") and k not in exclude and jsonable(v)}
    return {"schema_sha256": plan.schema.source.sha256, "seed": plan.seed,
            "rows_overrides": dict(sorted(plan.rows_overrides.items())), "scale": plan.scale,
            "profile": plan.profile, "corrupt": dict(plan.corrupt) if plan.corrupt is not None else None,
            "anchor": plan.schema.anchor, "format": format_name, "options": redact(opts),
            "target_kind": target_kind, "mode": opts.get("mode"), **_selection(plan)}


def _selection(plan: Plan) -> dict[str, Any]:
    """``--table-scale`` and the tables left out, only when used (earlier hashes stay as they were)."""
    out: dict[str, Any] = {}
    if plan.table_scale:
        out["table_scale"] = dict(sorted(plan.table_scale.items()))
    if plan.excluded:
        out["excluded"] = list(plan.excluded)
    return out


def plan_recipe(plan: Plan) -> dict[str, Any]:
    """What rebuilds ``plan`` elsewhere (another process, a Spark executor, a rerun), as plain
    data: the schema's label, anchor and every setting the planner took. With the schema's bytes
    (``plan.schema.source.raw``), :func:`datagen.api.plan_from_recipe` gives the same plan — the same bytes."""
    return {"schema_label": plan.schema.source.path, "seed": plan.seed,
            "rows_overrides": dict(plan.rows_overrides), "scale": plan.scale, "profile": plan.profile,
            "corrupt": dict(plan.corrupt) if plan.corrupt is not None else None,
            "anchor": plan.schema.anchor, "anchor_from": plan.schema.anchor_from,
            "block_rows": plan.block_rows, "allow_huge": plan.allow_huge,
            "table_scale": dict(plan.table_scale), "include": list(plan.include) if plan.include is not None
            else None, "exclude": list(plan.exclude)}


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``config`` (sorted keys, no spaces)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


def run_record(plan: Plan, manifest: Mapping[str, Any], target: Mapping[str, Any], started: float, finished: float,
               *, config: Mapping[str, Any] | None = None, run_id: str | None = None,
               warnings: list[str] | None = None) -> dict[str, Any]:
    """The run's record: its id and status, start and end, the resolved seed, the config hash
    (``run_config``), the schema (name, version, SHA-256), the target, the resolved rows, each
    table's rows and seconds, the warnings and the error."""
    if config is None:
        config = run_config(plan, manifest.get("format"), manifest.get("options", {}), target.get("kind"))
    timings = dict(manifest.get("timings", {}).get("tables_s", {}))
    # a target that loads tables in streams of their own times each to its commit (the engine's
    # figure is then the time spent handing the table's blocks over)
    section = manifest.get(str(manifest.get("format")))
    if isinstance(section, Mapping):
        timings.update(section.get("load_s") or {})
    return {
        "record_version": 1, "id": run_id, "status": "success", "started_at": _iso(started),
        "finished_at": _iso(finished), "seed": plan.seed, "config_hash": config_hash(config), "config": dict(config),
        "schema": {"name": plan.schema.name, "version": plan.schema.version, "sha256": plan.schema.source.sha256},
        "target": redact(dict(target)), "rows": {n: plan.tables[n].rows for n in plan.kept},
        "tables": {n: {"rows": plan.tables[n].rows, "seconds": timings.get(n)} for n in plan.kept},
        "warnings": list(warnings or []), "error": None,
    }


def manifest_warnings(manifest: Mapping[str, Any]) -> list[str]:
    """What a run reports without failing: corruption kinds the format cannot hold."""
    skipped = (manifest.get("corruption") or {}).get("not_applicable") or {}
    return [f"corruption kind {k} not applied: {why}" for k, why in sorted(skipped.items())]


# --- processes ----------------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of a process, from /proc (None elsewhere
    or when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    return (fields[0].decode(), fields[19].decode()) if len(fields) > 19 else None


def _host() -> str:
    return socket.gethostname()


def _me() -> tuple[int, str, str]:
    pid = os.getpid()
    stat = _proc_stat(pid)
    return pid, _host(), stat[1] if stat else ""


def _alive(row: Mapping[str, Any]) -> bool:
    """Whether the process that holds a pending or running row still runs it. A row of another
    host cannot be checked: it counts as alive."""
    pid, host, marker = row.get("pid"), row.get("host"), row.get("proc_start") or ""
    if row["id"] in SUPERVISED:
        return True
    if not isinstance(pid, int) or pid <= 0:
        return False
    if host != _host():
        return True
    if pid == os.getpid():
        return row["id"] in _IN_PROGRESS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    except OSError:
        return True
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc: the pid exists, that is all one can tell
    state, start = stat
    return state not in ("Z", "X") and (not marker or start == marker)


# --- the store ----------------------------------------------------------------------------------


def new_id(t: float | None = None) -> str:
    """A sortable, unique run id: the UTC start to the millisecond and 6 random hex digits
    (``20250301T101502.123-9f3a1c``)."""
    import time

    now = dt.datetime.fromtimestamp(time.time() if t is None else t, dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}-{secrets.token_hex(3)}"


class RunStore:
    """The run store at ``path`` (``RunStore.at(runs_db)`` resolves it). Every method opens the
    file, runs one short transaction and closes it; errors are ``OutputError`` naming the path."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @classmethod
    def at(cls, runs_db: str | os.PathLike | None = None) -> RunStore:
        return cls(store_path(runs_db))

    # --- connection ---------------------------------------------------------------------------

    def _error(self, doing: str, exc: BaseException) -> OutputError:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return OutputError(f"the run store {self.path}: cannot {doing}: {reason}; every run is recorded, so nothing "
                           f"was written ({HINT})")

    @contextlib.contextmanager
    def _connect(self, *, create: bool = True, write: bool = True) -> Iterator[sqlite3.Connection]:
        import sqlite3

        con = None
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_dir():
                raise OutputError(f"the run store {self.path}: is a folder, not a file; every run is recorded, so "
                                  f"nothing was written ({HINT})")
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.row_factory = sqlite3.Row
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._migrate(con, write)
            yield con
        except sqlite3.Error as exc:
            raise self._error("use it", exc) from None
        except OSError as exc:
            raise self._error("create its folder" if create else "open it", exc) from None
        finally:
            if con is not None:
                con.close()

    @contextlib.contextmanager
    def _tx(self, con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def _migrate(self, con: sqlite3.Connection, write: bool) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version == LAYOUT_VERSION:
            return
        if version > LAYOUT_VERSION:
            raise OutputError(f"the run store {self.path}: written by a later datagen (layout {version}, this one "
                              f"reads {LAYOUT_VERSION}); upgrade, or {HINT}")
        if not write:
            return
        with self._tx(con):
            if con.execute("PRAGMA user_version").fetchone()[0] == 0:  # another process may have done it
                cols = ", ".join(f"{n} {t}" for n, t in _COLUMNS)
                con.execute(f"CREATE TABLE IF NOT EXISTS runs ({cols})")
                con.execute("CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at, id)")
                con.execute("CREATE INDEX IF NOT EXISTS runs_by_target ON runs (target_key, status)")
                con.execute(f"PRAGMA user_version = {LAYOUT_VERSION}")

    def check_writable(self) -> None:
        """Open (creating the folder and the table on first use) and write nothing: raises the
        ``OutputError`` a run would meet."""
        with self._connect() as con, self._tx(con):
            pass

    # --- a run's life -------------------------------------------------------------------------

    def begin(self, fields: Mapping[str, Any], *, key: str | None, label: str, hint: str = "") -> str:
        """Record a new run as ``pending`` (``fields``: the columns known up front) and return
        its id. With a target ``key``: a live pending or running run of the same key refuses it
        (``OutputError``: the new run is recorded as ``failed`` with that message); one whose
        process is gone is marked ``interrupted``."""
        run_id = new_id()
        pid, host, marker = _me()
        row = {**{k: v for k, v in fields.items()}, "id": run_id, "status": "pending", "target_key": key,
               "pid": pid, "host": host, "proc_start": marker}
        refusal = None
        with self._connect() as con, self._tx(con):
            if key is not None:
                holders = [dict(r) for r in con.execute(
                    "SELECT id, status, started_at, pid, host, proc_start FROM runs WHERE target_key = ? AND "
                    "status IN (?, ?) ORDER BY started_at", (key, *ACTIVE))]
                for other in holders:
                    if _alive(other):
                        if refusal is None:
                            where = "" if other["host"] == host else f" on {other['host']}"
                            refusal = (f"{label}: another datagen run (pid {other['pid']}{where}) is writing here — run "
                                       f"{other['id']}, started {other['started_at']} (datagen runs show "
                                       f"{other['id']}); wait for it to end, or stop it{hint}")
                    else:
                        self._mark_dead(con, other)
            if refusal is not None:
                row.update(status="failed", error=refusal, finished_at=row.get("started_at"))
            self._insert(con, row)
        if refusal is not None:
            raise OutputError(refusal)
        _IN_PROGRESS.add(run_id)
        return run_id

    def _insert(self, con: sqlite3.Connection, row: Mapping[str, Any]) -> None:
        names = [n for n, _t in _COLUMNS if n in row]
        values = [_stored(n, row[n]) for n in names]
        con.execute(f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)

    def _mark_dead(self, con: sqlite3.Connection, row: Mapping[str, Any]) -> None:
        con.execute("UPDATE runs SET status = 'interrupted', error = ? WHERE id = ? AND status IN (?, ?)",
                    (f"its process (pid {row['pid']} on {row['host']}) ended before the run did (killed?)", row["id"],
                     *ACTIVE))

    def set_running(self, run_id: str) -> None:
        with self._connect() as con, self._tx(con):
            con.execute("UPDATE runs SET status = 'running' WHERE id = ?", (run_id,))

    def finish(self, run_id: str, status: str, *, finished_at: str, seconds: float,
               record: Mapping[str, Any] | None = None, error: str | None = None,
               warnings: list[str] | None = None, unfinished_only: bool = False) -> None:
        """The run's end: ``success`` with its record, or ``failed`` / ``interrupted`` with the
        error's message. ``unfinished_only``: only if nothing has ended it yet (no ``finished_at``:
        still pending or running, or found dead by a reader) — what the service does for a run
        whose process died without saying how it ended."""
        assert status in STATUSES
        values: dict[str, Any] = {"status": status, "finished_at": finished_at, "seconds": seconds, "error": error,
                                  "warnings": list(warnings or [])}
        if record is not None:
            values.update(record=record, rows=record.get("rows"), tables=record.get("tables"))
        try:
            with self._connect() as con, self._tx(con):
                sets = ", ".join(f"{n} = ?" for n in values)
                guard = " AND finished_at IS NULL" if unfinished_only else ""
                con.execute(f"UPDATE runs SET {sets} WHERE id = ?{guard}",
                            [*(_stored(n, v) for n, v in values.items()), run_id])
        finally:
            _IN_PROGRESS.discard(run_id)

    # --- reading ------------------------------------------------------------------------------

    def _reap(self, con: sqlite3.Connection) -> None:
        """Mark the pending and running rows whose process is gone ``interrupted`` (best effort:
        a read-only store is read as it is)."""
        import sqlite3

        rows = [dict(r) for r in con.execute("SELECT id, pid, host, proc_start FROM runs WHERE status IN (?, ?)",
                                             ACTIVE)]
        dead = [r for r in rows if not _alive(r)]
        if not dead:
            return
        try:
            with self._tx(con):
                for r in dead:
                    self._mark_dead(con, r)
        except sqlite3.Error:
            pass

    def list(self, *, limit: int | None = 20, status: str | None = None,
             columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The latest runs first (``status``: only those; ``columns``: only these, e.g. without
        the schema's bytes and the replay recipe a listing does not show)."""
        if status is not None:
            check_status(status)
        known = [n for n, _t in _COLUMNS]
        wanted = known if columns is None else [n for n in known if n in set(columns) | {"id"}]
        if not self.path.exists():
            return []
        with self._connect(create=False) as con:
            if not _has_table(con):
                return []
            self._reap(con)
            sql = (f"SELECT {', '.join(wanted)} FROM runs" + (" WHERE status = ?" if status else "")
                   + " ORDER BY started_at DESC, id DESC")
            args: list[Any] = [status] if status else []
            if limit is not None:
                sql += " LIMIT ?"
                args.append(int(limit))
            return [_row(r) for r in con.execute(sql, args)]

    def get(self, run_id: str) -> dict[str, Any]:
        """One run by its id (or a prefix naming one run); ``UsageError`` with the closest ids
        otherwise."""
        run_id = run_id.strip()
        if not run_id:
            raise UsageError("a run id is empty (datagen runs list shows them)")
        if not self.path.exists():
            raise UsageError(f"no run {run_id!r}: the run store {self.path} holds no runs yet")
        with self._connect(create=False) as con:
            if not _has_table(con):
                raise UsageError(f"no run {run_id!r}: the run store {self.path} holds no runs yet")
            self._reap(con)
            found = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if found is not None:
                return _row(found)
            like = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            matches = con.execute("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 6",
                                  (like + "%",)).fetchall()
            if len(matches) == 1:
                return _row(matches[0])
            if matches:
                shown = ", ".join(m["id"] for m in matches[:5])
                raise UsageError(f"run {run_id!r} is ambiguous: {len(matches)} ids begin with it ({shown}"
                                 f"{', …' if len(matches) > 5 else ''}); give more of it")
            ids = [r[0] for r in con.execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT 5000")]
        import difflib

        close = difflib.get_close_matches(run_id, ids, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (datagen runs list shows them)"
        raise UsageError(f"no run {run_id!r} in the run store {self.path}{hint}")


def check_status(status: str) -> str:
    if status not in STATUSES:
        from shared.registry import did_you_mean

        hint = did_you_mean(status, STATUSES)
        raise UsageError(f"--status {status!r}: not a run status" + (f" ({hint})" if hint else "")
                         + f"; one of: {', '.join(STATUSES)}")
    return status


def _has_table(con: sqlite3.Connection) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone() is not None


def _stored(name: str, value: Any) -> Any:
    """A value as the column keeps it: secrets redacted, JSON columns as text."""
    if name == "schema_source" or value is None:
        return value
    value = redact(value)
    if name in _JSON:
        return json.dumps(value, default=str)
    return value


def _row(r: sqlite3.Row) -> dict[str, Any]:
    out = dict(r)
    for name in _JSON:
        if out.get(name) is not None:
            out[name] = json.loads(out[name])
    return out


# --- recording one run --------------------------------------------------------------------------


class Recorder:
    """One run's record around its work::

        with Recorder(store, plan, ...) as rec:   # pending (or refused), then running
            manifest = write(...)
            record = rec.succeed(manifest)         # success, with the record
        # an exception: failed (its message) or interrupted (KeyboardInterrupt, a signal); re-raised

    ``store`` None: the record is built (``GenerateResult.record``) but kept nowhere. ``on_start``
    is called with the run's id once it is recorded as running (the service answers with it
    while the run goes on)."""

    def __init__(self, store: RunStore | None, plan: Plan, *, format_name: str | None, options: Mapping[str, Any],
                 raw_options: Mapping[str, str], target: Mapping[str, Any], key: str | None, label: str,
                 hint: str = "", replay: Mapping[str, Any], started: float, exclude: tuple[str, ...] = (),
                 on_start: Callable[[str], None] | None = None):
        self.store, self.plan = store, plan
        self.on_start = on_start
        self.target = dict(target)
        self.key, self.label, self.hint = key, label, hint
        self.started = started
        self.config = run_config(plan, format_name, options, self.target.get("kind"), exclude)
        self.hash = config_hash(self.config)
        self.replay = {**replay, "format": format_name, "options": redact(dict(raw_options)), **plan_recipe(plan)}
        self.run_id: str | None = None
        self.record: dict[str, Any] | None = None

    def __enter__(self) -> Recorder:
        if self.store is None:
            return self
        from shared import __version__

        schema = self.plan.schema
        fields = {"started_at": _iso(self.started), "seed": self.plan.seed, "config_hash": self.hash,
                  "schema_name": schema.name, "schema_version": schema.version, "schema_sha256": schema.source.sha256,
                  "target": self.target, "rows": {n: self.plan.tables[n].rows for n in self.plan.order},
                  "replay": self.replay, "schema_source": schema.source.raw, "tool_version": __version__,
                  "record": {"config": self.config}}
        self.run_id = self.store.begin(fields, key=self.key, label=self.label, hint=self.hint)
        try:
            self.store.set_running(self.run_id)
            if self.on_start is not None:
                self.on_start(self.run_id)
        except BaseException as exc:
            self._end(exc)
            raise
        return self

    def succeed(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        import time

        finished = time.time()
        self.record = run_record(self.plan, manifest, self.target, self.started, finished, config=self.config,
                                 run_id=self.run_id, warnings=manifest_warnings(manifest))
        if self.store is not None and self.run_id is not None:
            try:
                self.store.finish(self.run_id, "success", finished_at=self.record["finished_at"],
                                  seconds=round(finished - self.started, 4), record=self.record,
                                  warnings=self.record["warnings"])
            except DatagenError as exc:  # the output is complete: say so, do not fail the run for it
                import warnings

                note = f"the run succeeded but its record could not be stored: {exc}"
                self.record["warnings"].append(note)
                warnings.warn(note, RuntimeWarning, stacklevel=3)
            self.run_id = None
        return self.record

    def _end(self, exc: BaseException) -> None:
        import time

        if self.store is None or self.run_id is None:
            return
        run_id, self.run_id = self.run_id, None
        status = "failed" if isinstance(exc, Exception) else "interrupted"
        if isinstance(exc, DatagenError):
            message = exc.render()
        elif isinstance(exc, KeyboardInterrupt):
            signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            message = "interrupted" + (f" (signal {signum})" if signum else "")
        else:
            message = f"{type(exc).__name__}: {exc}"
        finished = time.time()
        try:
            self.store.finish(run_id, status, finished_at=_iso(finished), seconds=round(finished - self.started, 4),
                              error=redact_text(message))
        except Exception:  # noqa: BLE001 - the run's own error is what the caller must see
            _IN_PROGRESS.discard(run_id)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self._end(exc)


def replay_options(run: Mapping[str, Any]) -> dict[str, str]:
    """The format options a rerun passes (those the run was given); a redacted one cannot be
    replayed."""
    options = dict((run.get("replay") or {}).get("options") or {})
    hidden = sorted(k for k, v in options.items() if v == MASK or (isinstance(v, str) and MASK in v))
    if hidden:
        raise UsageError(f"run {run['id']}: the option(s) {', '.join(hidden)} held a secret, which the run store does "
                         "not keep; give the target again (runs rerun ID --target DSN_OR_NAME), or rerun it with "
                         "generate and the same options")
    return {str(k): str(v) for k, v in options.items()}
