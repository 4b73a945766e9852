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
forged manifest cannot make ``validate`` regenerate more rows than the artifacts hold.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from shared import TOOL_NAME, __version__
from shared.io.output import MANIFEST
from shared.validation.checks import CHECKS, SAMPLE, result

REPORT = "validation_report.json"
#: check kinds the runner itself produces (the data checks are the CHECKS registry)
RUNNER_KINDS = ("schema_match", "format_match", "run_match", "manifest", "checksum", "artifact_exists", "parseable", "columns",
                "row_count", "deterministic_replay", "format_extra")
REPORT_VERSION = 1
#: tables up to this many blocks are replayed whole; larger ones: first, last and 2 sampled blocks
REPLAY_ALL_BLOCKS = 8

# which corruption kinds (dirty profile) explain which check failures
CORRUPTION_EXPLAINS = {
    "nulls": {"not_null", "primary_key"},
    "out_of_range": {"range"},
    "duplicates": {"primary_key", "unique"},
    "orphans": {"foreign_key"},
    "typos": {"allowed", "pattern", "unique", "max_length"},
    "whitespace": {"allowed", "pattern", "unique", "max_length"},
    "casing": {"allowed", "pattern", "unique"},
    "encoding": {"allowed", "pattern", "unique", "max_length"},
    "malformed_dates": {"range", "parseable"},
}


class ValidationContext:
    def __init__(self, schema, plan, fmt, out_dir: Path, manifest: dict | None, strict: bool):
        self.schema = schema
        self.plan = plan
        self.fmt = fmt
        self.out_dir = out_dir
        self.manifest = manifest
        self.strict = strict
        self.tables: dict[str, pa.Table | None] = {}
        self.links: list[str] = []  # symbolic links found inside out_dir (then nothing is read)
        self._engine: Any = None  # an Engine, made on the first lookup
        self.corruption = (manifest or {}).get("corruption", {}).get("counts", {}) if manifest else {}

    def data(self, name: str) -> pa.Table | None:
        return self.tables.get(name)

    @property
    def dirty(self) -> bool:
        return self.plan is not None and self.plan.profile == "dirty"

    def clean_keys(self, table: str, column: str) -> pa.Array | None:
        """A parent's key column as the clean (uncorrupted) data has it, regenerated."""
        if self.plan is None:
            return None
        data = self.tables.get(table)
        if data is None or data.num_rows != self.plan.rows(table):
            return None  # the artifacts do not hold the planned rows: do not regenerate a forged count
        import numpy as np

        from shared.constraints.coerce import to_arrow
        from shared.schema_dsl.engine import Engine

        if self._engine is None:
            self._engine = Engine(self.plan)
        values = self._engine.lookup(table, column, np.arange(self.plan.rows(table), dtype=np.int64))
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
    for key in ("format", "profile"):
        if m.get(key) is not None and not isinstance(m[key], str):
            return f"{key!r} is not text"
    counts = (m.get("corruption") or {}).get("counts", {})
    if not (isinstance(counts, dict) and all(
            isinstance(cols, dict) and all(isinstance(kinds, dict) and all(_is_int(n) for n in kinds.values())
                                           for kinds in cols.values()) for cols in counts.values())):
        return "'corruption.counts' is not {table: {column: {kind: count}}}"
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


def _artifact_checks(vctx: ValidationContext) -> list[dict]:
    out = []
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
        for table in vctx.schema.tables:
            vctx.tables[table.name] = None
        return out
    if m is not None:
        out += _manifest_file_checks(vctx.out_dir, m.get("files", []))
    from shared.schema_dsl.engine import arrow_schema

    for table in vctx.schema.tables:
        files = vctx.fmt.artifacts(vctx.out_dir, table)
        missing = [str(p) for p in files if not Path(p).exists()]
        special = [os.path.relpath(p, vctx.out_dir) for p in files if Path(p).exists() and not Path(p).is_file()]
        if special:
            out.append(result("artifact_exists", table.name, None, "fail",
                              f"not a regular file (a directory, pipe, device or socket), so not opened: "
                              f"{', '.join(special)}"))
            vctx.tables[table.name] = None
            continue
        if not files or missing:
            out.append(result("artifact_exists", table.name, None, "fail",
                              f"no artifact for table {table.name}" if not files else f"missing {', '.join(missing)}"))
            vctx.tables[table.name] = None
            continue
        out.append(result("artifact_exists", table.name, None, "pass",
                          f"{len(files)} file(s)", files=[os.path.relpath(p, vctx.out_dir) for p in files]))
        schema = arrow_schema(table)
        try:
            data = vctx.fmt.read_table(vctx.out_dir, table, schema)
            _ = data.column_names  # a header that is not UTF-8 fails here, as a parse failure
        except Exception as exc:  # noqa: BLE001 - any reader failure is a parse failure of the artifact
            out.append(result("parseable", table.name, None, "fail", f"cannot read {table.name}: {_short(exc)}"))
            vctx.tables[table.name] = None
            continue
        out.append(result("parseable", table.name, None, "pass", f"read {data.num_rows} rows"))
        out.append(_columns_check(table, schema, data))
        vctx.tables[table.name] = _conform(data, schema)
    return out


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 300 else text[:297] + "..."


def _columns_check(table, schema: pa.Schema, data: pa.Table) -> dict:
    want = {f.name: f.type for f in schema}
    got = {f.name: f.type for f in data.schema}
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


def _row_count_checks(vctx: ValidationContext) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        data = vctx.data(table.name)
        if data is None:
            continue
        if vctx.plan is None:
            out.append(result("row_count", table.name, None, "skipped",
                              "no manifest: the data was not produced by datagen, so the row count is not known",
                              observed=data.num_rows))
            continue
        want = vctx.plan.rows(table.name)
        ok = data.num_rows == want
        res = result("row_count", table.name, None, "pass" if ok else "fail",
                     f"{data.num_rows} rows" if ok else f"expected {want} rows, found {data.num_rows}",
                     expected=want, observed=data.num_rows)
        out.append(res)
    return out


def replay_spans(n: int, block_rows: int, seed: int, table: str) -> list[tuple[int, int]]:
    """The row spans replayed for a table: all blocks, or first, last and 2 keyed samples."""
    from shared.io import rng

    blocks = [(s, min(n, s + block_rows)) for s in range(0, n, block_rows)]
    if len(blocks) <= REPLAY_ALL_BLOCKS:
        return blocks
    picks = {0, len(blocks) - 1}
    k = rng.stream_key(seed, table, "__validate__", "replay")
    import numpy as np

    extra = rng.integers(k, np.arange(2), 1, len(blocks) - 2)
    picks.update(int(x) for x in extra)
    return [blocks[i] for i in sorted(picks)]


def _replay_checks(vctx: ValidationContext) -> list[dict]:
    out = []
    if vctx.plan is None:
        out.append(result("deterministic_replay", None, None, "skipped",
                          "no manifest: the data was not produced by datagen, nothing to replay"))
        return out
    from shared.schema_dsl.engine import Engine

    engine = Engine(vctx.plan)
    replay = getattr(vctx.fmt, "replay_batches", None)
    for table in vctx.schema.tables:
        data = vctx.data(table.name)
        if data is None:
            continue
        if data.num_rows != vctx.plan.rows(table.name):
            out.append(result("deterministic_replay", table.name, None, "skipped",
                              f"the artifacts hold {data.num_rows} rows, the plan {vctx.plan.rows(table.name)} "
                              f"(see row_count): nothing to replay against"))
            continue
        expected_fn = lambda s, e, _t=table.name: engine.batch(_t, s, e)  # noqa: E731 - dirty when the profile is
        spans = replay_spans(vctx.plan.rows(table.name), vctx.plan.block_rows, vctx.plan.seed, table.name)
        mismatched = 0
        compared = 0
        sample = []
        for s, e in spans:
            want = pa.Table.from_batches([expected_fn(s, e)])
            if replay is not None:
                want = replay(want, table)
            got = data.slice(s, e - s)
            compared += e - s
            if got.num_rows != want.num_rows or not got.equals(want.cast(got.schema) if got.schema != want.schema
                                                               and _castable(want, got) else want):
                bad = _first_diff(got, want, s)
                mismatched += bad[0]
                sample += bad[1]
        res = result("deterministic_replay", table.name, None, "fail" if mismatched else "pass",
                     f"{mismatched} of {compared} replayed rows differ from a regeneration with seed {vctx.plan.seed}"
                     if mismatched else f"{compared} rows in {len(spans)} block(s) regenerate identically",
                     unexpected_count=mismatched, element_count=compared,
                     unexpected_percent=round(100.0 * mismatched / compared, 4) if compared else 0.0,
                     sample=sample[:5], blocks=[list(x) for x in spans])
        if mismatched:
            res.update(vctx.expected(table.name, None, "deterministic_replay", mismatched) or {})
        out.append(res)
    return out


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
            eq = pc.fill_null(pc.equal(a, b), False)
            both_null = pc.and_(pc.is_null(a), pc.is_null(b))
            ne = pc.invert(pc.or_(eq, both_null))
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
        if key == "rows_overrides":
            got = {k: v for k, v in (got or {}).items() if k in want}
        if got != want:
            wrong.append(f"{key} {want!r} was given, the output was generated with {manifest.get(key)!r}")
    if wrong:
        return [result("run_match", None, None, "fail", "; ".join(wrong))]
    return [result("run_match", None, None, "pass", "the output is the run the given settings describe")]


def validate_output(schema, fmt, out_dir: Path, *, strict: bool = False, plan_overrides: dict | None = None,
                    allow_huge: bool = False, expect: dict | None = None) -> dict:
    """Run every check on ``out_dir``; returns the report (see module docstring). The run is
    re-planned from the manifest; past the size cap only when the manifest records that it was
    generated with ``allow_huge`` or when ``allow_huge`` is passed (``validate --allow-huge``)."""
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
                                allow_huge=allow_huge or manifest.get("allow_huge") is True)
        except Exception as exc:  # noqa: BLE001 - a manifest that does not fit the schema is a failed check
            plan = None
            text = exc.render() if hasattr(exc, "render") else _short(exc)
            checks.append(result("manifest", None, None, "fail",
                                 f"the run recorded in {MANIFEST} cannot be planned with this schema: "
                                 f"{text.splitlines()[0][:300]}"))
    vctx = ValidationContext(schema, plan, fmt, out_dir, manifest, strict)
    if manifest is not None and not manifest.get("_unreadable"):
        same = manifest.get("schema", {}).get("sha256") == schema.source.sha256
        checks.append(result("schema_match", None, None, "pass" if same else "warning",
                             "the manifest was written for this schema file" if same else
                             "the manifest was written for a different version of the schema file"))
        if manifest.get("format") not in (None, fmt.name):
            checks.append(result("format_match", None, None, "fail",
                                 f"the output was written as {manifest.get('format')}, not {fmt.name}"))
    checks += _run_match_checks(manifest, expect or {})
    checks += _artifact_checks(vctx)
    checks += _row_count_checks(vctx)
    for kind in CHECKS:
        try:
            checks += CHECKS[kind](vctx)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a failed check, not a crash
            checks.append(result(kind, None, None, "fail", f"the {kind} check could not run: {_short(exc)}"))
    checks += _replay_checks(vctx)
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
