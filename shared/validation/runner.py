"""``validate``: read the artifacts back, run every check, build ``validation_report.json``.

``validate_output(schema, fmt, out_dir, …)`` returns the report (a dict following
``schemas/validation_report.schema.json``); it does not raise for failed checks — the exit code
derives from the report (0 all passed, 1 some failed). Bad input (schema, options) still raises.

Artifact checks run first and gate the rest: ``artifact_exists`` (every file the format expects;
plus for datagen output every file in the manifest), ``checksum`` (sizes and sha256 against the
manifest — a truncated or edited file is caught even where it still parses), ``parseable``
(the format reads it back), ``columns`` (names and types), ``row_count``; then the data checks of
``shared.validation.checks``; then ``deterministic_replay`` (regenerate from the seed and compare)
and the format's own extras.

Bounded memory: each table is read once, as a stream of record batches (``Format.read_batches``),
and every batch goes through the accumulators of every check and the replay before the next is
read (``_read_table_stream``); the report lists the results in the order above all the same.
Before a byte is decoded, the row count the artifacts' metadata tells (``Format.count_rows``:
Parquet's footers) is compared with the plan: a table that disagrees fails
``row_count`` and is not read at all; a format without such metadata whose files can expand
(``Format.stop_past_plan``: compressed CSV, JSON) stops reading at the first batch past the
plan's rows. So a 1 MB part that expands to 100M rows costs neither
the memory nor the time of 100M rows when a manifest says otherwise, and without one (or with a
manifest forged to agree) it is checked a batch at a time.

Data that datagen did not produce (no ``manifest.json``) is checked as a *data contract*: the
schema's constraints are checked, ``row_count`` and ``deterministic_replay`` are reported as
``skipped`` with the reason.

Hostile folders: ``validate`` reads nothing outside ``--out`` and follows no link inside it. A
manifest that is not a JSON object of the expected shape fails the ``manifest`` check (and is
not used); a manifest entry whose path is absolute or climbs out of ``--out`` (``../…``) fails
``manifest`` and is never opened; any symbolic link inside ``--out`` fails ``artifact_exists``
and then no artifact is read at all (a link could point anywhere). A manifest whose settings
cannot be planned (over the size cap, a table the schema lacks …) fails ``manifest``; a table
whose row count differs from the plan is not replayed (``row_count`` already fails), so a
forged manifest cannot make ``validate`` regenerate more rows than the artifacts hold. A manifest
listing very many files costs one ``lstat`` per file, and its per-file results are capped
(``MAX_FILE_RESULTS`` per kind and status, the rest folded into one result).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from shared import TOOL_NAME, __version__
from shared.io.output import MANIFEST
from shared.validation.checks import CHECKS, SAMPLE, StreamingCheck, result
from shared.validation.nested import NestedParts

REPORT = "validation_report.json"
#: check kinds the runner itself produces (the data checks are the CHECKS registry)
RUNNER_KINDS = ("schema_match", "format_match", "run_match", "manifest", "checksum", "artifact_exists", "parseable", "columns",
                "row_count", "deterministic_replay", "format_extra")
REPORT_VERSION = 1
#: tables up to this many blocks are replayed whole; larger ones: first, last and 2 sampled blocks
REPLAY_ALL_BLOCKS = 8

# which corruption kinds (dirty profile) explain which check failures
CORRUPTION_EXPLAINS = {
    "nulls": {"not_null", "primary_key", "coverage"},
    "out_of_range": {"range"},
    "duplicates": {"primary_key", "unique"},
    "orphans": {"foreign_key", "coverage"},
    "typos": {"allowed", "pattern", "unique", "max_length"},
    "whitespace": {"allowed", "pattern", "unique", "max_length"},
    "casing": {"allowed", "pattern", "unique"},
    "encoding": {"allowed", "pattern", "unique", "max_length"},
    "malformed_dates": {"range", "parseable"},
    "keyboard_typos": {"allowed", "pattern", "unique", "max_length"},
    "bom": {"allowed", "pattern", "unique", "max_length"},
    # kinds that add rows: the written table holds more rows than the plan, keys repeat
    "extra_duplicates": {"row_count", "primary_key", "unique"},
    "near_duplicates": {"row_count", "primary_key", "unique", "allowed", "pattern", "max_length"},
    # text formats only: a cell whose text is not a value of its type reads as null
    "type_noise": {"parseable", "not_null"},
    "date_formats": {"parseable", "not_null"},
    "number_formats": {"parseable", "not_null"},
}


class ValidationContext:
    def __init__(self, schema, plan, fmt, out_dir: Path, manifest: dict | None, strict: bool):
        self.schema = schema
        self.plan = plan
        self.fmt = fmt
        self.out_dir = out_dir
        self.manifest = manifest
        self.strict = strict
        #: tables whose artifacts may be read (they exist, no link in --out, the row count their
        #: metadata tells agrees with the plan); a table that fails to parse is taken out
        self.readable: set[str] = set()
        #: rows read back per table (by its own pass, or by reading a parent's keys)
        self.rows: dict[str, int] = {}
        self.links: list[str] = []  # symbolic links found inside out_dir (then nothing is read)
        self._engine: Any = None  # an Engine, made on first use
        self._keys: dict[tuple[str, str], pa.Array | None] = {}
        self._tuples: dict[tuple[str, ...], pa.Table | None] = {}
        self._whole: dict[str, pa.Table | None] = {}
        self.corruption = (manifest or {}).get("corruption", {}).get("counts", {}) if manifest else {}
        #: tables the run did not write (``--include``/``--exclude``): not checked, not expected
        self.excluded: set[str] = set()
        self._written: dict[str, int] = {}

    def written_rows(self, name: str, observed: int) -> int:
        """The rows the plan says the table's artifacts hold: the plan's rows, plus those the
        dirty profile's kinds that add rows insert (computed from the plan, not the manifest,
        and only when the ``observed`` rows are within reach: ``corruption.expected_rows``)."""
        from shared.corruption import expected_rows

        if name in self._written:
            return self._written[name]
        n = expected_rows(self.plan, name, observed)
        if n != self.plan.rows(name) or observed == n:
            self._written[name] = n  # counted (or nothing is added): final
        return n

    def most_rows(self, name: str) -> int:
        """At most this many rows can be right for a table (a bound on ``written_rows``, no hashing)."""
        from shared.corruption import most_rows

        return most_rows(self.plan, name)

    @property
    def engine(self):
        from shared.schema_dsl.engine import Engine

        if self._engine is None:
            self._engine = Engine(self.plan, text=getattr(self.fmt, "renders_text", False))
        return self._engine

    def text_columns(self, name: str) -> list[str]:
        """The columns of a table with the dirty profile's text-only kinds, in a format that
        renders text: read as text and parsed here (``corruption.parse_text``)."""
        if self.plan is None or not getattr(self.fmt, "renders_text", False):
            return []
        from shared.corruption import text_columns

        return text_columns(self.plan, name)

    def data(self, name: str) -> pa.Table | None:
        """The whole table, read back and conformed — for a check registered as a plain function
        (a plugin); the built-in checks stream (``read_table_stream``) and never call this."""
        if name not in self._whole:
            data = None
            if name in self.readable:
                from shared.schema_dsl.engine import arrow_schema

                table = self.schema.table(name)
                schema = arrow_schema(table)
                try:
                    data = _conform(self.read_batches(table, schema).read_all() if table.partition_by
                                    else self.fmt.read_table(self.out_dir, table, schema), schema)
                except Exception:  # noqa: BLE001 - the table's own pass reports the parse failure
                    data = None
            self._whole[name] = data
        return self._whole[name]

    @property
    def dirty(self) -> bool:
        return self.plan is not None and self.plan.profile == "dirty"

    def read_batches(self, table, schema: pa.Schema, columns: list[str] | None = None) -> pa.RecordBatchReader:
        """The table read back as the format streams it; a partitioned one in row order when the
        plan can tell it (``shared.validation.partitioned``), else folder by folder."""
        if table.partition_by and self.plan is not None and hasattr(self.fmt, "read_partitions"):
            from shared.validation.partitioned import row_order_reader

            return row_order_reader(self, table, schema, columns)
        return self.fmt.read_batches(self.out_dir, table, schema, columns=columns)

    def parent_keys(self, table: str, column: str) -> pa.Array | None:
        """The distinct values of a parent's key column, read (that column only, in batches) the
        first time a foreign key asks; None when the parent cannot be read."""
        if (table, column) not in self._keys:
            self._keys[table, column] = self._read_keys(table, column)
        return self._keys[table, column]

    def _read_keys(self, name: str, column: str) -> pa.Array | None:
        from shared.schema_dsl.engine import arrow_schema
        from shared.validation.checks import KeySet

        if name not in self.readable or not self.schema.has_table(name):
            return None
        table = self.schema.table(name)
        schema = arrow_schema(table)
        if schema.get_field_index(column) < 0:
            return None
        want = schema.field(column).type
        keys = KeySet()
        rows = 0
        try:
            # columns with text-only corruption are read as text (a CSV reader converts them all)
            read = _TextColumns(schema, self.text_columns(name)).read_schema
            reader = self.read_batches(table, read, columns=[column])
            if reader.schema.get_field_index(column) < 0:
                return None
            limit = self.most_rows(name) if self.plan is not None and self.fmt.stop_past_plan else None
            for batch in reader:
                rows += batch.num_rows
                if limit is not None and rows > limit:
                    return None  # more rows than the plan: the parent's own pass says so
                col = batch.column(column)
                keys.add(col if col.type == want else col.cast(want))
        except Exception:  # noqa: BLE001 - unreadable: the parent's own pass reports why
            return None
        self.rows.setdefault(name, rows)
        return keys.values(want)

    def parent_tuples(self, table: str, columns: tuple[str, ...]) -> pa.Table | None:
        """The distinct tuples of a parent's composite key (columns ``k0``, ``k1`` … in the order
        given), read the first time a composite foreign key asks; None when it cannot be read."""
        key = (table, *columns)
        if key not in self._tuples:
            self._tuples[key] = self._read_tuples(table, columns)
        return self._tuples[key]

    def _read_tuples(self, name: str, columns: tuple[str, ...]) -> pa.Table | None:
        from shared.schema_dsl.engine import arrow_schema

        if name not in self.readable or not self.schema.has_table(name):
            return None
        schema = arrow_schema(self.schema.table(name))
        if any(schema.get_field_index(c) < 0 for c in columns):
            return None
        names = [f"k{i}" for i in range(len(columns))]
        parts: list[pa.Table] = []
        try:
            read = _TextColumns(schema, self.text_columns(name)).read_schema
            for batch in self.read_batches(self.schema.table(name), read, columns=list(columns)):
                arrays = [batch.column(c) if batch.column(c).type == schema.field(c).type
                          else batch.column(c).cast(schema.field(c).type) for c in columns]
                parts.append(pa.table(arrays, names=names).group_by(names).aggregate([]))
                if len(parts) > 8:  # compact: memory of the distinct tuples plus a few batches
                    parts = [pa.concat_tables(parts).group_by(names).aggregate([])]
        except Exception:  # noqa: BLE001 - unreadable: the parent's own pass reports why
            return None
        if not parts:
            return pa.table([pa.array([], schema.field(c).type) for c in columns], names=names)
        return pa.concat_tables(parts).group_by(names).aggregate([]).select(names)

    def clean_keys(self, table: str, column: str) -> pa.Array | None:
        """A parent's key column as the clean (uncorrupted) data has it, regenerated."""
        if self.plan is None:
            return None
        got = self.rows.get(table)
        if got is None or got != self.written_rows(table, got):
            return None  # the artifacts do not hold the planned rows: do not regenerate a forged count
        import numpy as np

        from shared.constraints.coerce import to_arrow

        values = self.engine.lookup(table, column, np.arange(self.plan.rows(table), dtype=np.int64))
        return to_arrow(self.schema.table(table).column(column), values, None)

    def expected(self, table: str, column: str | None, kind: str, n: int) -> dict | None:
        """For the dirty profile: a failure the manifest says was injected on purpose."""
        injected = self.corruption.get(table, {})
        explained = 0
        kinds = []
        for (col, ckind), count in _iter_counts(injected):
            if kind in CORRUPTION_EXPLAINS.get(ckind, ()) and (column is None or col in (column, None)):
                explained += count
                kinds.append(ckind)
        if not explained:
            return None
        if n > explained:
            return {"expected_corruption": sorted(set(kinds)),
                    "message_suffix": f" ({explained} explained by injected corruption, {n - explained} not)"}
        if self.strict:
            return {"expected_corruption": sorted(set(kinds)), "message_suffix": " (injected; --strict)"}
        return {"status": "warning", "expected_corruption": sorted(set(kinds)),
                "message": f"{n} violations, explained by injected corruption ({', '.join(sorted(set(kinds)))})"}


def _iter_counts(injected: dict):
    for col, kinds in injected.items():
        for ckind, count in kinds.items():
            yield (None if col == "*" else col, ckind), int(count)


#: a manifest larger than this is not read (a real one is a few KiB, or MiB for very many parts)
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
#: at most this many entries are looked at when scanning --out for symbolic links
MAX_SCAN_ENTRIES = 1_000_000


def read_manifest(out_dir: Path) -> dict | None:
    """The manifest as a dict; ``None`` without one; ``{"_unreadable": reason}`` when it is a link,
    too large, not JSON, or not of the expected shape."""
    p = out_dir / MANIFEST
    if p.is_symlink():
        return {"_unreadable": f"{MANIFEST} is a symbolic link; validate does not follow links"}
    if not os.path.lexists(p):
        return None
    if not p.is_file():
        return {"_unreadable": f"{MANIFEST} is not a regular file (a directory, pipe, device or socket); not opened"}
    try:
        with open(p, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            return {"_unreadable": f"{MANIFEST} is over {MAX_MANIFEST_BYTES:,} bytes"}
        m = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return {"_unreadable": f"{MANIFEST} is not readable JSON"}
    if not isinstance(m, dict):
        return {"_unreadable": f"{MANIFEST} is not a JSON object"}
    why = _manifest_shape_problem(m)
    return {"_unreadable": f"{MANIFEST} is malformed: {why}"} if why else m


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _manifest_shape_problem(m: dict) -> str | None:
    """What is wrong with the shape of a manifest's fields that validate uses, or None."""
    files = m.get("files", [])
    if not isinstance(files, list):
        return "'files' is not a list"
    for i, f in enumerate(files):
        if not (isinstance(f, dict) and isinstance(f.get("path"), str) and _is_int(f.get("bytes"))
                and isinstance(f.get("sha256"), str) and (f.get("table") is None or isinstance(f.get("table"), str))):
            return f"files[{i}] is not {{path: text, table: text or null, bytes: integer, sha256: text}}"
    for key in ("schema", "rows_overrides", "corruption"):
        if key in m and not isinstance(m[key], dict):
            return f"{key!r} is not an object"
    if not all(isinstance(k, str) and _is_int(v) for k, v in (m.get("rows_overrides") or {}).items()):
        return "'rows_overrides' is not an object of whole numbers"
    for key in ("seed", "block_rows"):
        if m.get(key) is not None and not _is_int(m[key]):
            return f"{key!r} is not a whole number"
    if m.get("scale") is not None and (isinstance(m["scale"], bool) or not isinstance(m["scale"], (int, float))):
        return "'scale' is not a number"
    ts = m.get("table_scale")
    if ts is not None and not (isinstance(ts, dict) and all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in ts.items())):
        return "'table_scale' is not an object of numbers"
    for key in ("include", "exclude", "excluded"):
        v = m.get(key)
        if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            return f"{key!r} is not a list of table names"
    for key in ("format", "profile"):
        if m.get(key) is not None and not isinstance(m[key], str):
            return f"{key!r} is not text"
    counts = (m.get("corruption") or {}).get("counts", {})
    if not (isinstance(counts, dict) and all(
            isinstance(cols, dict) and all(isinstance(kinds, dict) and all(_is_int(n) for n in kinds.values())
                                           for kinds in cols.values()) for cols in counts.values())):
        return "'corruption.counts' is not {table: {column: {kind: count}}}"
    selected = (m.get("corruption") or {}).get("selected")
    if selected is not None and not (isinstance(selected, dict) and selected and all(
            isinstance(k, str) and (v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)))
            for k, v in selected.items())):
        return "'corruption.selected' is not {kind: rate or null}"
    return None


def inside(out_dir: Path, rel: str) -> Path | None:
    """``out_dir / rel`` when ``rel`` is a plain relative path that stays inside ``out_dir``
    (no absolute path, no ``..``, no NUL, no link on the way); None otherwise."""
    p = _inside(os.fspath(out_dir), rel, None)
    return None if p is None else Path(p)


def _inside(out_dir: str, rel: str, safe_dirs: set[str] | None) -> str | None:
    """``inside`` on plain strings (pathlib's parsing was most of the time a manifest of 300,000
    files took). With ``safe_dirs`` — the folders already found not to be links, remembered so
    the paths of one manifest cost no ``lstat`` per folder on the way — the last part is not
    looked at: the caller's own ``lstat`` of the file tells a link."""
    if not rel or "\x00" in rel or os.path.isabs(rel) or rel.startswith(("/", "\\")):
        return None
    parts = [part for part in rel.split("/") if part not in ("", ".")]  # as ``Path(rel).parts``
    if ".." in parts:
        return None
    p = out_dir
    for i, part in enumerate(parts):
        p = os.path.join(p, part)
        last = i == len(parts) - 1
        if safe_dirs is not None and (last or p in safe_dirs):
            continue
        if os.path.islink(p):
            return None
        if not last and safe_dirs is not None:
            safe_dirs.add(p)
    return p


def _links_inside(out_dir: Path) -> list[str]:
    """Every symbolic link inside ``out_dir`` (relative paths), scanning without following links."""
    found: list[str] = []
    seen = 0
    stack = [out_dir]
    while stack and seen < MAX_SCAN_ENTRIES:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                for entry in it:
                    seen += 1
                    if entry.is_symlink():
                        found.append(os.path.relpath(entry.path, out_dir))
                    elif entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
        except OSError:
            continue
    return sorted(found)


#: per-file results (``manifest``, ``artifact_exists``, ``checksum``) of one kind and status are
#: listed one by one up to this many; the rest are folded into one result "… and N more"
MAX_FILE_RESULTS = 100

_FOLDED = {
    ("manifest", "fail"): "manifest paths refused (outside --out, or listed twice); not read",
    ("artifact_exists", "fail"): "files of the manifest missing or not regular files",
    ("checksum", "fail"): "files differ from the manifest",
    ("checksum", "pass"): "files match the manifest",
}


class _FileResults:
    """Results per manifest file, capped: a forged manifest of 300,000 entries gives a report of
    a few hundred checks (each folded result counts what it stands for and names a few)."""

    def __init__(self, total: int):
        self.total = total
        self.listed: list[dict] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.folded: dict[tuple[str, str], dict] = {}

    def add(self, res: dict) -> None:
        key = (res["kind"], res["status"])
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.counts[key] <= MAX_FILE_RESULTS:
            self.listed.append(res)
            return
        fold = self.folded.setdefault(key, {"n": 0, "sample": [], "tables": set()})
        fold["n"] += 1
        fold["tables"].add(res["table"])
        if len(fold["sample"]) < SAMPLE:
            fold["sample"].append(res.get("file", ""))

    def results(self) -> list[dict]:
        out = list(self.listed)
        for (kind, status), fold in self.folded.items():
            n = fold["n"]
            tables = fold["tables"]
            extra: dict[str, Any] = {"element_count": self.total, "sample": fold["sample"], "folded": n}
            if status == "fail":
                extra.update(unexpected_count=n, unexpected_percent=round(100.0 * n / max(self.total, 1), 4))
            out.append(result(kind, next(iter(tables)) if len(tables) == 1 else None, None, status,
                              f"... and {n:,} more {_FOLDED[kind, status]}", **extra))
        return out


def _manifest_file_checks(out_dir: Path, files: list[dict]) -> list[dict]:
    """``manifest`` / ``artifact_exists`` / ``checksum`` for each file the manifest lists, in one
    pass of one ``lstat`` per file (and one per folder); a path listed twice is refused, so no
    file is hashed twice whatever the manifest says."""
    from shared.io.output import file_digest

    found = _FileResults(len(files))
    seen: set[str] = set()
    safe_dirs: set[str] = set()
    root = os.fspath(out_dir)
    for f in files:
        rel, table = f["path"], f.get("table")
        p = _inside(root, rel, safe_dirs)
        if p is None:
            found.add(result("manifest", table, None, "fail",
                             f"{rel!r}: a manifest path must stay inside --out; not read", file=rel))
            continue
        if p in seen:
            found.add(result("manifest", table, None, "fail",
                             f"{rel!r} is listed more than once in the manifest; checked once", file=rel))
            continue
        seen.add(p)
        try:
            st = os.lstat(p)
        except OSError:
            st = None
        if st is not None and stat.S_ISLNK(st.st_mode):
            found.add(result("manifest", table, None, "fail",
                             f"{rel!r}: a manifest path must stay inside --out; not read", file=rel))
            continue
        if st is None or not stat.S_ISREG(st.st_mode):
            what = "is missing" if st is None else \
                "is not a regular file (a directory, pipe, device or socket); not opened"
            found.add(result("artifact_exists", table, None, "fail", f"{rel} {what}", file=rel))
            continue
        size = st.st_size
        if size != f["bytes"] or file_digest(Path(p)) != f["sha256"]:
            what = f"{size} bytes, the manifest says {f['bytes']}" if size != f["bytes"] else "same size, different sha256"
            found.add(result("checksum", table, None, "fail",
                             f"{rel}: differs from the manifest ({what}) — the file was changed", file=rel))
        else:
            found.add(result("checksum", table, None, "pass", f"{rel} matches the manifest", file=rel))
    return found.results()


def _artifact_checks(vctx: ValidationContext) -> tuple[list[dict], dict[str, list[dict]]]:
    """The manifest's files, links inside --out, then ``artifact_exists`` per table: (results
    before the tables, each table's ``artifact_exists``). Marks the tables that may be read."""
    out = []
    per_table: dict[str, list[dict]] = {}
    m = vctx.manifest
    if m is not None and m.get("_unreadable"):
        why = m["_unreadable"]
        out.append(result("manifest", None, None, "fail", why if isinstance(why, str) else f"{MANIFEST} is not readable JSON"))
        m = vctx.manifest = None
    links = _links_inside(vctx.out_dir)
    for link in links:
        out.append(result("artifact_exists", None, None, "fail",
                          f"{link} is a symbolic link; validate does not follow links inside --out, "
                          f"so no artifact was read", file=link))
    if links:
        vctx.links = links
        return out, per_table
    if m is not None:
        out += _manifest_file_checks(vctx.out_dir, m.get("files", []))
    for table in vctx.schema.tables:
        if vctx.fmt.stores_tables:  # a database: the table itself, not files
            why = vctx.fmt.table_present(vctx.out_dir, table)
            per_table[table.name] = [result("artifact_exists", table.name, None, "fail" if why else "pass",
                                            why or f"table {table.name} is in the database")]
            if why is None:
                vctx.readable.add(table.name)
            continue
        files = vctx.fmt.artifacts(vctx.out_dir, table)
        missing = [str(p) for p in files if not Path(p).exists()]
        special = [os.path.relpath(p, vctx.out_dir) for p in files if Path(p).exists() and not Path(p).is_file()]
        if special:
            per_table[table.name] = [result("artifact_exists", table.name, None, "fail",
                                            f"not a regular file (a directory, pipe, device or socket), so not "
                                            f"opened: {', '.join(special)}")]
        elif not files or missing:
            per_table[table.name] = [result("artifact_exists", table.name, None, "fail",
                                            f"no artifact for table {table.name}" if not files
                                            else f"missing {', '.join(missing)}")]
        else:
            per_table[table.name] = [result("artifact_exists", table.name, None, "pass", f"{len(files)} file(s)",
                                            files=[os.path.relpath(p, vctx.out_dir) for p in files])]
            vctx.readable.add(table.name)
    return out, per_table


def _metadata_gate(vctx: ValidationContext, table) -> list[dict] | None:
    """Before anything is decoded: the rows the artifacts' metadata tells (``Format.count_rows``:
    Parquet's footers) against the plan. A table that disagrees fails ``row_count`` and is not
    read — a 1 MB part that expands to 100M rows is refused, not decoded. None: read it."""
    if vctx.plan is None:
        return None
    try:
        n = vctx.fmt.count_rows(vctx.out_dir, table)
    except Exception as exc:  # noqa: BLE001 - metadata that cannot be read is a parse failure
        vctx.readable.discard(table.name)
        return [result("parseable", table.name, None, "fail", f"cannot read {table.name}: {_short(exc)}")]
    if n is None:
        return None
    want = vctx.written_rows(table.name, n)
    if n == want:
        return None
    vctx.readable.discard(table.name)
    vctx.rows[table.name] = n
    return [result("parseable", table.name, None, "skipped",
                   f"not decoded: the artifacts' metadata tells {n:,} rows, the plan {want:,} (see row_count)"),
            result("row_count", table.name, None, "fail", f"expected {want} rows, found {n}",
                   expected=want, observed=n, counted_from="metadata")]


class _Conformer:
    """Batches cast to the schema's types where that is lossless; a column some value of which
    cannot be cast is dropped from there on (it fails ``columns``; value checks skip it)."""

    def __init__(self, schema: pa.Schema, got: pa.Schema):
        names = set(got.names)
        self.fields = [f for f in schema if f.name in names]
        self.lost: set[str] = set()
        for f in self.fields:
            t = got.field(f.name).type
            if t != f.type:
                try:
                    pa.array([], t).cast(f.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                    self.lost.add(f.name)

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields} - self.lost

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays, names = [], []
        for f in self.fields:
            if f.name in self.lost:
                continue
            col = batch.column(f.name)
            if col.type != f.type:
                try:
                    col = col.cast(f.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                    self.lost.add(f.name)
                    continue
            arrays.append(col)
            names.append(f.name)
        return pa.RecordBatch.from_arrays(arrays, names=names)


class _TextColumns:
    """Columns with the dirty profile's text-only kinds (``N/A`` in a number column), in a text
    format: read as text, then each value parsed (``corruption.parse_text``: a text that is not
    a value of the type reads as null and is counted), so every other check sees typed values."""

    def __init__(self, schema: pa.Schema, names: list[str]):
        self.types = {n: schema.field(n).type for n in names if schema.get_field_index(n) >= 0}
        self.read_schema = pa.schema([pa.field(f.name, pa.string(), nullable=True) if f.name in self.types else f
                                      for f in schema])
        self.bad = dict.fromkeys(self.types, 0)
        self.sample: dict[str, list] = {n: [] for n in self.types}

    def parsed_schema(self, got: pa.Schema) -> pa.Schema:
        return pa.schema([pa.field(f.name, self.types[f.name]) if f.name in self.types and pa.types.is_string(f.type)
                          else f for f in got])

    def parse(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self.types:
            return batch
        from shared.corruption import parse_text

        arrays, names = [], []
        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            if name in self.types and pa.types.is_string(col.type):
                parsed, bad = parse_text(col, self.types[name])
                n = int(bad.sum())
                if n:
                    self.bad[name] += n
                    if len(self.sample[name]) < SAMPLE:
                        import numpy as np

                        self.sample[name] += col.take(pa.array(np.flatnonzero(bad)[:SAMPLE])).to_pylist()
                col = parsed
            arrays.append(col)
            names.append(name)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def results(self, vctx: ValidationContext, table: str, rows: int) -> list[dict]:
        out = []
        for name, t in self.types.items():
            n = self.bad[name]
            res = result("parseable", table, name, "fail" if n else "pass",
                         f"{n} values are not {t} text (read as null)" if n else f"every value reads as {t}",
                         unexpected_count=n, element_count=rows,
                         unexpected_percent=round(100.0 * n / rows, 4) if rows else 0.0,
                         sample=self.sample[name][:SAMPLE])
            if n:
                res.update(vctx.expected(table, name, "parseable", n) or {})
            out.append(res)
        return out


#: ``deterministic_replay`` regenerates and compares at most this many rows at a time
REPLAY_PIECE_ROWS = 1 << 16


class _Replay:
    """``deterministic_replay`` as the batches pass: each replayed span is cut into pieces of at
    most ``REPLAY_PIECE_ROWS`` rows; a piece's rows are gathered from the batches and compared,
    once complete, with a regeneration of exactly those rows (values are a pure function of the
    row, so a piece of a block regenerates alike). Memory: one piece, whatever ``block_rows``."""

    def __init__(self, vctx: ValidationContext, table):
        self.vctx, self.table = vctx, table
        self.spans = replay_spans(vctx.plan.rows(table.name), vctx.plan.block_rows, vctx.plan.seed, table.name)
        # the pieces, as (first, last) plan rows and where they are written (rows added by the
        # dirty profile move the later rows down)
        self.pieces = _pieces(vctx.plan, table.name, self.spans)  # made as they are reached, never listed
        self.piece = next(self.pieces, None)
        self.gathered: list[pa.RecordBatch] = []
        self.replay = getattr(vctx.fmt, "replay_batches", None)
        self.error: str | None = None
        self.mismatched = 0
        self.compared = 0
        self.sample: list = []

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        end = offset + batch.num_rows
        while self.piece is not None:
            s, e, ws, we = self.piece
            lo, hi = max(ws, offset), min(we, end)
            if lo < hi:
                self.gathered.append(batch.slice(lo - offset, hi - lo))
            if we > end:
                return  # the piece goes on in the next batch
            self._compare(s, e)
            self.piece = next(self.pieces, None)

    def _compare(self, s: int, e: int) -> None:
        parts = [pa.Table.from_batches([b]) for b in self.gathered]
        if not parts:
            return  # an empty piece (an empty table)
        # a column dropped part-way (a value its type cannot take) is null in the earlier batches
        got = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
        self.gathered = []
        from shared.corruption import typed_view

        want = pa.Table.from_batches([typed_view(self.vctx.engine.batch(self.table.name, s, e))])
        if self.replay is not None:
            want = self.replay(want, self.table)
        self.compared += e - s
        if got.num_rows != want.num_rows or not got.equals(
                want.cast(got.schema) if got.schema != want.schema and _castable(want, got) else want):
            bad = _first_diff(got, want, s)
            self.mismatched += bad[0]
            self.sample += bad[1]

    def result(self, rows: int) -> dict:
        name, plan = self.table.name, self.vctx.plan
        if self.error is not None:
            return result("deterministic_replay", name, None, "fail", f"the replay could not run: {self.error}")
        want_rows = self.vctx.written_rows(name, rows)
        if rows != want_rows:
            return result("deterministic_replay", name, None, "skipped",
                          f"the artifacts hold {rows} rows, the plan {want_rows} "
                          f"(see row_count): nothing to replay against")
        n, compared = self.mismatched, self.compared
        res = result("deterministic_replay", name, None, "fail" if n else "pass",
                     f"{n} of {compared} replayed rows differ from a regeneration with seed {plan.seed}"
                     if n else f"{compared} rows in {len(self.spans)} block(s) regenerate identically",
                     unexpected_count=n, element_count=compared,
                     unexpected_percent=round(100.0 * n / compared, 4) if compared else 0.0,
                     sample=self.sample[:5], blocks=[list(x) for x in self.spans])
        if n:
            res.update(self.vctx.expected(name, None, "deterministic_replay", n) or {})
        return res


def _pieces(plan, table: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int, int, int]]:
    """The replayed spans cut into pieces of at most ``REPLAY_PIECE_ROWS`` plan rows: (first and
    past-the-last plan row, first and past-the-last written row). Without kinds that add rows
    the written rows are the plan's; with them, a piece's written rows follow from counting the
    added rows before it (keyed hashes of the row indexes, no value generated)."""
    from shared.corruption import added_rows, adding_rates

    adds = bool(adding_rates(plan, table))
    done = 0  # plan rows whose added rows are counted in `moved`
    moved = 0
    for s0, e0 in spans:
        for s in range(s0, e0, REPLAY_PIECE_ROWS):
            e = min(e0, s + REPLAY_PIECE_ROWS)
            if adds:
                moved += added_rows(plan, table, done, s)
                n = added_rows(plan, table, s, e)
                yield s, e, s + moved, e + moved + n
                moved += n
                done = e
            else:
                yield s, e, s, e


class _TableResults:
    """What one table's pass produced, filed by where the report lists it."""

    def __init__(self) -> None:
        self.artifact: list[dict] = []  # parseable, columns (after artifact_exists)
        self.row_count: list[dict] = []
        self.kinds: dict[str, list[dict]] = {}
        self.replay: list[dict] = []


def _read_table_stream(vctx: ValidationContext, table, streaming: dict[str, Any]) -> _TableResults:
    """Read one table once, batch by batch, feeding every streaming check's accumulators and the
    replay: ``parseable``, ``columns``, ``row_count``, the value checks and
    ``deterministic_replay`` for it, in memory bounded by a batch (plus the distinct keys the
    key checks keep)."""
    from shared.schema_dsl.engine import arrow_schema

    out = _TableResults()
    schema = arrow_schema(table)
    texts = _TextColumns(schema, vctx.text_columns(table.name))
    try:
        reader = vctx.read_batches(table, texts.read_schema)
        got = reader.schema
        _ = got.names  # a header that is not UTF-8 fails here, as a parse failure
        got = texts.parsed_schema(got)
        conform = _Conformer(schema, got)
        names = conform.names
        accs: dict[str, list] = {}
        for kind, check in streaming.items():
            try:
                accs[kind] = list(check.begin(vctx, table, names))
            except Exception as exc:  # noqa: BLE001 - a check that cannot run is a failed check
                accs[kind] = [_failed(kind, table.name, exc)]
        nested = NestedParts(vctx, table, streaming, names)
        replay = _Replay(vctx, table) if vctx.plan is not None else None
        limit = vctx.most_rows(table.name) if vctx.plan is not None and vctx.fmt.stop_past_plan else None
        rows = 0
        for raw in _closing(reader):
            if limit is not None and rows + raw.num_rows > limit:
                rows += raw.num_rows
                return _past_the_plan(vctx, table, rows, limit)
            batch = conform(texts.parse(raw))
            present = set(batch.schema.names)
            for kind, lst in accs.items():
                for i, acc in enumerate(lst):
                    if not set(acc.columns) <= present:
                        continue
                    try:
                        acc.update(batch, rows)
                    except Exception as exc:  # noqa: BLE001 - as above, for this table only
                        lst[i] = _failed(kind, table.name, exc)
            if nested.levels:
                nested.update(batch)
            if replay is not None and replay.error is None:
                try:
                    replay.update(batch, rows)
                except Exception as exc:  # noqa: BLE001 - a replay that cannot run fails, it is not a parse failure
                    replay.error = _short(exc)
            rows += raw.num_rows
    except Exception as exc:  # noqa: BLE001 - any reader failure is a parse failure of the artifact
        vctx.readable.discard(table.name)
        out.artifact.append(result("parseable", table.name, None, "fail", f"cannot read {table.name}: {_short(exc)}"))
        return out
    vctx.rows[table.name] = rows
    out.artifact.append(result("parseable", table.name, None, "pass", f"read {rows} rows"))
    out.artifact += texts.results(vctx, table.name, rows)
    out.artifact.append(_columns_check(table, schema, got))
    for kind, lst in accs.items():
        out.kinds[kind] = []
        for acc in lst:
            if set(acc.columns) & conform.lost:
                continue  # a column it reads could not be read whole: skipped, as columns says
            try:
                out.kinds[kind] += acc.results(vctx)
            except Exception as exc:  # noqa: BLE001
                out.kinds[kind].append(_failed(kind, table.name, exc).res)
    for kind, found in nested.results(vctx).items():
        out.kinds.setdefault(kind, []).extend(found)
    if vctx.plan is None:
        out.row_count.append(result("row_count", table.name, None, "skipped",
                                    "no manifest: the data was not produced by datagen, so the row count is not known",
                                    observed=rows))
    else:
        want = vctx.written_rows(table.name, rows)
        planned = vctx.plan.rows(table.name)
        ok = rows == want
        res = result("row_count", table.name, None, "pass" if ok else "fail",
                     f"{rows} rows" if ok else f"expected {want} rows, found {rows}",
                     expected=want, observed=rows)
        if want != planned:  # kinds that add rows: more rows than planned, on purpose
            res["planned"] = planned
            res["message"] += f" ({planned} planned + {want - planned} added by injected corruption)"
            if ok:
                res.update(vctx.expected(table.name, None, "row_count", want - planned) or {})
                if res["status"] == "warning":
                    res["message"] = (f"{rows} rows: {planned} planned + {want - planned} added by injected "
                                      f"corruption ({', '.join(res['expected_corruption'])})")
        out.row_count.append(res)
    if replay is not None:
        out.replay.append(replay.result(rows))
    return out


def _closing(reader: pa.RecordBatchReader):
    """The reader's batches; the reader (and the files behind it) closed however the loop ends."""
    with reader:
        yield from reader


def _past_the_plan(vctx: ValidationContext, table, rows: int, want: int) -> _TableResults:
    """A table of a format whose files can expand (``Format.stop_past_plan``: compressed CSV or
    JSON) holds more rows than the plan: reading stops there, as the metadata gate refuses such
    a Parquet table (a small gzip that expands to billions of rows is not read to its end)."""
    vctx.readable.discard(table.name)
    vctx.rows[table.name] = rows
    out = _TableResults()
    out.artifact.append(result("parseable", table.name, None, "skipped",
                               f"not read past row {rows:,}: the plan has {want:,} (see row_count)"))
    out.row_count.append(result("row_count", table.name, None, "fail",
                                f"expected {want} rows, found more: reading stopped at {rows}",
                                expected=want, observed=rows, counted_from="stopped"))
    out.replay.append(result("deterministic_replay", table.name, None, "skipped",
                             f"the artifacts hold more rows than the plan's {want} (see row_count): "
                             f"nothing to replay against"))
    return out


def _failed(kind: str, table: str, exc: Exception):
    from shared.validation.checks import Fixed

    return Fixed(result(kind, table, None, "fail", f"the {kind} check could not run: {_short(exc)}"))


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 300 else text[:297] + "..."


def _columns_check(table, schema: pa.Schema, found: pa.Schema) -> dict:
    want = {f.name: f.type for f in schema}
    got = {f.name: f.type for f in found}
    missing = [n for n in want if n not in got]
    extra = [n for n in got if n not in want]
    wrong = [f"{n}: {got[n]} (expected {want[n]})" for n in want if n in got and not _type_ok(got[n], want[n])]
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + \
               ([f"unexpected {', '.join(extra)}"] if extra else []) + \
               ([f"wrong type {'; '.join(wrong)}"] if wrong else [])
    return result("columns", table.name, None, "fail" if problems else "pass",
                  "; ".join(problems) if problems else f"{len(want)} columns with the expected names and types",
                  expected=[f"{n}: {t}" for n, t in want.items()], observed=[f"{n}: {t}" for n, t in got.items()])


def _type_ok(got: pa.DataType, want: pa.DataType) -> bool:
    if got == want:
        return True
    if pa.types.is_large_string(got) and pa.types.is_string(want):
        return True
    if pa.types.is_dictionary(got):
        return _type_ok(got.value_type, want)
    return False


def _conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """Keep known columns, cast to the expected types where that is lossless."""
    arrays = {}
    names = set(data.column_names)
    for f in schema:
        if f.name not in names:
            continue
        col = data.column(f.name)
        if col.type != f.type:
            try:
                col = col.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                continue  # a column of the wrong type fails `columns`; value checks skip it
        arrays[f.name] = col
    return pa.table(arrays) if arrays else data


def replay_spans(n: int, block_rows: int, seed: int, table: str) -> list[tuple[int, int]]:
    """The row spans replayed for a table: all blocks, or first, last and 2 keyed samples. The
    blocks are counted, never listed: a manifest's ``block_rows`` of 1 and a billion rows cost
    nothing."""
    from shared.io import rng

    count = -(-n // block_rows)
    if count <= REPLAY_ALL_BLOCKS:
        picks = set(range(count))
    else:
        import numpy as np

        k = rng.stream_key(seed, table, "__validate__", "replay")
        picks = {0, count - 1, *(int(x) for x in rng.integers(k, np.arange(2), 1, count - 2))}
    return [(i * block_rows, min(n, (i + 1) * block_rows)) for i in sorted(picks)]


def _castable(want: pa.Table, got: pa.Table) -> bool:
    try:
        want.cast(got.schema)
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
        return False


def _first_diff(got: pa.Table, want: pa.Table, offset: int) -> tuple[int, list]:
    import pyarrow.compute as pc

    n = min(got.num_rows, want.num_rows)
    differ = None
    names = set(got.column_names)
    for name in want.column_names:
        if name not in names:
            return max(got.num_rows, want.num_rows), [f"column {name} missing"]
        a, b = got.column(name).slice(0, n), want.column(name).slice(0, n)
        try:
            if a.type != b.type:
                b = b.cast(a.type)
            ne = _differ(a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a,
                         b.combine_chunks() if isinstance(b, pa.ChunkedArray) else b)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return n, [f"column {name} cannot be compared ({a.type} vs {b.type})"]
        differ = ne if differ is None else pc.or_(differ, ne)
    count = int(pc.sum(differ).as_py() or 0) if differ is not None else 0
    count += abs(got.num_rows - want.num_rows)
    sample = []
    if differ is not None and count:
        import numpy as np

        idx = np.flatnonzero(differ.to_numpy(zero_copy_only=False))[:3]
        sample = [f"row {offset + int(i)}" for i in idx]
    return count, sample


def _differ(a: pa.Array, b: pa.Array) -> pa.Array:
    """Which values of two arrays of one type differ (nulls equal each other), as booleans; a
    struct by its fields, a list by its length and items (vectorised, nested to any depth)."""
    import numpy as np
    import pyarrow.compute as pc

    t = a.type
    if pa.types.is_struct(t):
        va, vb = pc.is_valid(a), pc.is_valid(b)
        ne = pc.not_equal(va, vb)
        both = pc.and_(va, vb)
        for i in range(t.num_fields):
            ne = pc.or_(ne, pc.and_(both, _differ(pc.struct_field(a, [i]), pc.struct_field(b, [i]))))
        return ne
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        la = pc.fill_null(pc.list_value_length(a), -1).to_numpy(zero_copy_only=False)
        lb = pc.fill_null(pc.list_value_length(b), -1).to_numpy(zero_copy_only=False)
        ne = la != lb
        idx = np.flatnonzero((la == lb) & (la > 0))
        if idx.size:
            sa, sb = a.take(pa.array(idx)), b.take(pa.array(idx))
            items = _differ(sa.flatten(), sb.flatten()).to_numpy(zero_copy_only=False)
            parents = pc.list_parent_indices(sa).to_numpy(zero_copy_only=False)
            ne[idx[np.unique(parents[items])]] = True
        return pa.array(ne)
    eq = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.invert(pc.or_(eq, both_null))


def _table_checks(vctx: ValidationContext) -> list[dict]:
    """Every check over the tables' data, listed as the report always has: the artifact checks
    table by table (artifact_exists, parseable, columns), then row_count, each check kind in
    registry order, deterministic_replay. Each table is read once, as a stream."""
    front, exists = _artifact_checks(vctx)
    streaming = {k: c for k, c in CHECKS.items() if isinstance(c, StreamingCheck)}
    found: dict[str, _TableResults] = {}
    for table in vctx.schema.tables:  # every gate first: a foreign key may read its parent early
        found[table.name] = res = _TableResults()
        gated = _metadata_gate(vctx, table) if table.name in vctx.readable else None
        if gated is not None:
            res.artifact += [r for r in gated if r["kind"] == "parseable"]
            res.row_count += [r for r in gated if r["kind"] == "row_count"]
            if res.row_count:
                res.replay.append(result("deterministic_replay", table.name, None, "skipped",
                                         f"the artifacts hold {vctx.rows[table.name]} rows, the plan "
                                         f"{res.row_count[0].get('expected')} (see row_count): nothing to replay "
                                         f"against"))
    for table in vctx.schema.tables:
        if table.name in vctx.readable:
            found[table.name] = _read_table_stream(vctx, table, streaming)
    tables = [found[t.name] for t in vctx.schema.tables]
    out = front
    for t in vctx.schema.tables:
        out += exists.get(t.name, []) + found[t.name].artifact
    out += [r for t in tables for r in t.row_count]
    for kind, check in CHECKS.items():
        if kind in streaming:
            out += [r for t in tables for r in t.kinds.get(kind, [])]
            continue
        try:
            out += check(vctx)  # a plugin's check over whole tables
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a failed check, not a crash
            out.append(result(kind, None, None, "fail", f"the {kind} check could not run: {_short(exc)}"))
    if vctx.plan is None:
        out.append(result("deterministic_replay", None, None, "skipped",
                          "no manifest: the data was not produced by datagen, nothing to replay"))
    out += [r for t in tables for r in t.replay]
    return out


def parse_instant(text: Any) -> int | None:
    from shared.model.timeutil import parse_timestamp

    try:
        return parse_timestamp(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _run_match_checks(manifest: dict | None, expect: dict) -> list[dict]:
    """``validate --seed/--rows/--scale/--profile``: the output must be the run those describe."""
    if not expect:
        return []
    if manifest is None or manifest.get("_unreadable"):
        return [result("run_match", None, None, "skipped",
                       f"no readable {MANIFEST}: the run settings given ({', '.join(sorted(expect))}) cannot be compared")]
    wrong = []
    for key, want in sorted(expect.items()):
        got = manifest.get(key)
        if key in ("rows_overrides", "table_scale"):
            got = {k: v for k, v in (got or {}).items() if k in want}
        elif key == "excluded":
            got = got or []  # a manifest without the key: nothing was excluded
        same = parse_instant(got) == parse_instant(want) if key == "anchor" else got == want  # an instant: however written
        if not same:
            had = got if key == "excluded" else manifest.get(key)
            wrong.append(f"{key} {want!r} was given, the output was generated with {had!r}")
    if wrong:
        return [result("run_match", None, None, "fail", "; ".join(wrong))]
    return [result("run_match", None, None, "pass", "the output is the run the given settings describe")]


def validate_output(schema, fmt, out_dir: Path, *, strict: bool = False, plan_overrides: dict | None = None,
                    allow_huge: bool = False, expect: dict | None = None, excluded=(), engine: str = "local",
                    hive: dict | None = None) -> dict:
    """Run every check on ``out_dir``; returns the report (see module docstring). The run is
    re-planned from the manifest; past the size cap only when the manifest records that it was
    generated with ``allow_huge`` or when ``allow_huge`` is passed (``validate --allow-huge``).
    The manifest's ``table_scale``, ``include`` and ``exclude`` are re-planned too, and only the
    tables the run wrote are checked: an excluded table is neither expected nor reported missing,
    and a foreign key into an excluded parent is a skipped check saying so. Without a manifest,
    ``excluded`` names the tables not to check (``validate --include/--exclude``). ``engine``
    (and ``hive``: the catalog database read) are recorded in the report: which engine's reading
    ``fmt`` is (``datagen.spark.SparkReading`` for ``spark``); the checks are the same."""
    from shared.schema_dsl.planner import resolve_plan

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    plan = None
    checks: list[dict] = []
    if manifest is not None and not manifest.get("_unreadable"):
        try:
            plan = resolve_plan(schema, seed=manifest.get("seed"), rows=manifest.get("rows_overrides") or {},
                                scale=manifest.get("scale"), profile=manifest.get("profile"),
                                block_rows=int(manifest.get("block_rows") or 65536),
                                allow_huge=allow_huge or manifest.get("allow_huge") is True,
                                corrupt=(manifest.get("corruption") or {}).get("selected"),
                                table_scale=manifest.get("table_scale") or {},
                                include=manifest.get("include"), exclude=manifest.get("exclude") or (),
                                # the run was made: its parents were where it appended
                                allow_missing_parents=True)
        except Exception as exc:  # noqa: BLE001 - a manifest that does not fit the schema is a failed check
            plan = None
            text = exc.render() if hasattr(exc, "render") else _short(exc)
            checks.append(result("manifest", None, None, "fail",
                                 f"the run recorded in {MANIFEST} cannot be planned with this schema: "
                                 f"{text.splitlines()[0][:300]}"))
    # planned with its hidden columns above; checked as it is written, the tables the run wrote
    if plan is not None:
        schema = plan.written_schema()
        excluded = plan.excluded
    elif excluded:
        import dataclasses

        schema = dataclasses.replace(schema.written, tables=tuple(t for t in schema.written.tables
                                                                  if t.name not in set(excluded)))
    else:
        schema = schema.written
    vctx = ValidationContext(schema, plan, fmt, out_dir, manifest, strict)
    vctx.excluded = set(excluded)
    if manifest is not None and not manifest.get("_unreadable"):
        same = manifest.get("schema", {}).get("sha256") == schema.source.sha256
        checks.append(result("schema_match", None, None, "pass" if same else "warning",
                             "the manifest was written for this schema file" if same else
                             "the manifest was written for a different version of the schema file"))
        if manifest.get("format") not in (None, fmt.name):
            checks.append(result("format_match", None, None, "fail",
                                 f"the output was written as {manifest.get('format')}, not {fmt.name}"))
    checks += _run_match_checks(manifest, expect or {})
    checks += _table_checks(vctx)
    if vctx.links:
        checks.append(result("format_extra", None, None, "skipped",
                             "symbolic links inside --out: the format's own checks did not read anything"))
    else:
        try:
            checks += list(fmt.extra_checks(out_dir, schema, plan))
        except Exception as exc:  # noqa: BLE001 - a failing extra check is a failed check, not a crash
            checks.append(result("format_extra", None, None, "fail", f"format check failed: {_short(exc)}"))
    for c in checks:
        suffix = c.pop("message_suffix", None)
        if suffix:
            c["message"] += suffix
    summary = {
        "checks": len(checks),
        "passed": sum(c["status"] == "pass" for c in checks),
        "failed": sum(c["status"] == "fail" for c in checks),
        "warnings": sum(c["status"] == "warning" for c in checks),
        "skipped": sum(c["status"] == "skipped" for c in checks),
    }
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "format": fmt.name,
        "engine": engine,
        **({"hive": dict(hive)} if hive else {}),
        "schema": {"name": schema.name, "path": str(schema.source.path), "sha256": schema.source.sha256},
        "output": str(out_dir),
        "produced_by_datagen": plan is not None,
        "seed": plan.seed if plan is not None else None,
        "profile": plan.profile if plan is not None else None,
        "strict": strict,
        "status": "fail" if summary["failed"] else "pass",
        "summary": summary,
        "checks": checks,
        "validated_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "duration_s": round(time.perf_counter() - t0, 4),
    }


def write_report(report: dict, path: Path) -> None:
    from shared.io.reporting import write_json_atomic

    write_json_atomic(report, path)
