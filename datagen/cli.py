"""The one command line: ``datagen VERB …`` (and ``python3 all-in-one/datagen_bootstrap.py VERB …``).

One typer app with every verb, each a thin layer over the function of the same name in
``datagen.api`` (flag for flag). ``--format`` is drawn from the format registry; each format's
``--option`` keys are listed by ``--help`` (``generate --format csv --help`` shows just CSV's).
Every verb accepts the shared options of ../shared/design/cli-and-artifacts.md, so a Makefile
can pass the same flags to describe, generate and validate. ``--json`` gives machine-readable
output wherever a verb prints. Exceptions map to exit codes in one place
(``shared.cli.common.guard``).

The ``generators/<format>`` modules are aliases of this app with their format as the default.
"""


import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
import typer.core

from shared.cli.common import (
    BlueprintOpt,
    DebugOpt,
    ExcludeOpt,
    GenerateRequest,
    HugeOpt,
    IncludeOpt,
    ParamOpt,
    ProfileOpt,
    RowsOpt,
    ScaleOpt,
    SchemaOpt,
    SeedOpt,
    TableScaleOpt,
    guard,
    human_bytes,
    parse_options,
    print_json,
    render_describe,
    render_report,
)
from shared.errors import UsageError
from shared.registry import did_you_mean

VERBS = ("describe", "generate", "validate", "blueprints", "runs", "targets", "query", "import", "export-ddl", "fit",
         "serve", "report")


def _spark_conf(items: list[str] | None) -> dict[str, str] | None:
    """``--spark-conf k=v`` items as a dict (a malformed one is exit 2)."""
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--spark-conf {item!r}: give KEY=VALUE (e.g. spark.executor.memory=4g)")
        out[key.strip()] = value.strip()
    return out


def _format_names() -> list[str]:
    import datagen

    return datagen.formats()


def _format_choice(default_format: str | None) -> Any:
    """``--format``: one of the registry's names (listed in the help; another name is exit 2 with
    the closest one and the list, from ``get_format``)."""
    from shared.errors import DatagenError

    try:
        names = _format_names()
    except DatagenError:  # a broken plugin: reported by the command itself, inside guard()
        import generators

        names = sorted(set(generators.BUILTIN_FORMATS) | set(generators.BUILTIN_ALIASES))
    return typer.Option(default_format, "--format", "-f",
                        help=f"One of: {', '.join(names)}."
                        + (f" Default: {default_format}." if default_format else ""))


class _FormatHelp(typer.core.TyperCommand):
    """``--help`` ends with the ``--option`` keys of each format (of ``--format X`` when given);
    format modules are imported only to print this."""

    def format_help(self, ctx, formatter) -> None:
        from rich.markup import escape

        from shared.formats import ALIASES, get_format

        wanted = ctx.params.get("format") or _format_in(sys.argv)
        names = [wanted] if wanted else [n for n in _format_names() if n not in ALIASES]
        lines = []
        for name in names:
            try:
                fmt = get_format(name)
            except Exception:  # noqa: BLE001 - a broken plugin or a wrong --format must not break --help
                continue
            for key, text in fmt.option_help.items():
                lines.append(escape(f"  {fmt.name}: {key} — {text}"))
        if lines:
            self.epilog = "Format options (--option KEY=VALUE):\n" + "\n".join(lines)
        super().format_help(ctx, formatter)


def _format_in(argv: list[str]) -> str | None:
    """The ``--format`` value on a command line (for ``--help``, which click handles first)."""
    for i, arg in enumerate(argv):
        if arg in ("--format", "-f") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--format="):
            return arg.partition("=")[2]
    return None


def _plan_kwargs(seed, rows, scale, profile, block_rows=None, allow_huge=False, corrupt=None, table_scale=None,
                 include=None, exclude=None, options=None) -> dict[str, Any]:
    """The keywords of ``datagen.resolve_plan``; ``options`` (the format's, checked) saying
    ``mode=append`` allow excluding a parent the kept tables reference (the target holds it)."""
    return {"seed": seed, "rows": list(rows or ()), "scale": scale, "profile": profile, "block_rows": block_rows,
            "allow_huge": allow_huge, "corrupt": list(corrupt) if corrupt else None,
            "table_scale": list(table_scale or ()), "include": list(include) if include else None,
            "exclude": list(exclude or ()),
            "allow_missing_parents": (options or {}).get("mode") == "append"}


CorruptOpt = typer.Option(None, "--corrupt", help="KIND[=RATE]: only these corruption kinds (implies --profile "
                          "dirty); repeatable. Kinds: see docs/profiles.md.")


RunsDbOpt = typer.Option(None, "--runs-db", help="The run store (SQLite) every run is recorded in. Default: "
                         "$DATAGEN_RUNS_DB, else $XDG_STATE_HOME/datagen/runs.sqlite (~/.local/state/…); "
                         "see docs/runs.md.")
TargetOpt = typer.Option(None, "--target", help="A database target: a postgresql:// URL or libpq string, an "
                         "SQLite file, or a name from targets/*.yaml (--format postgres, sqlite).")
DbSchemaOpt = typer.Option(None, "--db-schema", help="The PostgreSQL schema of the tables (default public).")
ModeOpt = typer.Option(None, "--mode", help="Into a database target: create (default; create_if_missing), truncate "
                       "(truncate_then_insert) or append (append_only).")
AtomicOpt = typer.Option(False, "--atomic", help="One transaction for the whole run (PostgreSQL); default: one per "
                         "table.")
DeferOpt = typer.Option(False, "--defer-constraints", help="Build keys, references and indexes after the rows "
                        "(PostgreSQL tables the run creates).")
SparkMasterOpt = typer.Option(None, "--spark-master", help="Spark master URL with --engine spark (default local[2]).")
SparkConfOpt = typer.Option(None, "--spark-conf", help="Spark setting k=v with --engine spark; repeatable.")


def _flags(target, db_schema, mode, atomic, defer_constraints) -> dict[str, Any]:
    return {"target": target, "db_schema": db_schema, "mode": mode, "atomic": "true" if atomic else None,
            "defer_constraints": "true" if defer_constraints else None}


def _with_flags(fmt, name: str, opts: dict[str, str], flags: dict[str, Any]) -> dict[str, str]:
    """The target flags as the format's ``--option`` keys (``fmt.flag_options``); a flag the format
    does not take, or one that contradicts its ``--option``, is refused."""
    out = dict(opts)
    for key, value in flags.items():
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        option = fmt.flag_options.get(key)
        if option is None:
            raise UsageError(f"{flag} applies to a database target (--format postgres, sqlite), not --format {name}")
        if option in out and out[option] != str(value):
            raise UsageError(f"{flag} {value} and --option {option}={out[option]} disagree: give one of them")
        out[option] = str(value)
    return out


AnchorOpt = typer.Option(None, "--anchor", help="The instant relative times resolve against (ISO, or now: the "
                         "run's start, recorded in the manifest). Default: the schema's.")


def _schema_with(schema: str | None, anchor: str | None, blueprint: str | None = None, param: list[str] | None = None):
    """The schema argument (or blueprint), loaded with ``--anchor`` when one is given."""
    import datagen

    source = _source(schema, blueprint, param)
    return datagen.load_schema(source, anchor=anchor) if anchor is not None else source


def _source(schema: str | None, blueprint: str | None, param: list[str] | None):
    """``--schema`` (a path), or ``--blueprint NAME --param KEY=VALUE…`` (the blueprint's schema)."""
    if blueprint is None:
        if param:
            raise UsageError("--param sets a blueprint's parameters: give --blueprint NAME too")
        return _schema_arg(schema)
    if schema is not None:
        raise UsageError("--schema and --blueprint both name the dataset: give one of them")
    from datagen import blueprints

    bp = blueprints.get(blueprint)
    return bp(**blueprints.parse_params(bp, param))


def _schema_arg(schema: str | None) -> str:
    from shared import api

    if schema is not None and not schema.strip():
        raise UsageError("--schema '': an empty path (omit --schema for the default example)")
    return schema or str(api.DEFAULT_SCHEMA)


def _workers(workers: int | None) -> int:
    from shared.schema_dsl.engine import check_workers, default_workers

    if workers is None:
        return default_workers()
    return check_workers(workers)


def _progress_callback(plan, quiet: bool):
    """A rich progress display per table on a terminal; ``None`` when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RowsPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} rows/s" if speed else "")

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RowsPerSecond(),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    tasks = {n: progress.add_task(escape(n), total=plan.tables[n].rows) for n in plan.kept}

    def advance(name: str, n: int) -> None:
        progress.advance(tasks[name], n)

    return progress, advance


def build_app(default_format: str | None = None, only: tuple[str, ...] | None = None) -> typer.Typer:
    """The app; ``default_format`` makes ``--format`` optional and ``only`` limits it to those
    names (the per-format module aliases: ``python -m generators.parquet_generator``)."""
    import generators

    def _need_format(name: str | None) -> str:
        if name is None:
            raise UsageError(f"missing --format FORMAT (one of: {', '.join(_format_names())})")
        if only is not None and name not in only:
            raise UsageError(f"--format {name}: this frontend writes {', '.join(only)} "
                             f"(python -m datagen writes every format)")
        return name

    def _request(format: str | None, option: list[str] | None, workers: int | None, out: str | None,
                 flags: dict[str, Any] | None = None):
        """What every verb checks first, before any work: the format, its --option values (raw and
        checked, the target flags folded in), the worker count and a non-empty --out."""
        from shared.formats import get_format

        name = _need_format(format)
        fmt = get_format(name)
        raw_opts = _with_flags(fmt, name, parse_options(option), flags or {})
        opts = fmt.check_options(dict(raw_opts))
        n_workers = _workers(workers)
        if out is not None and not out.strip():
            raise UsageError("--out '': an empty path (omit --out for the default folder)")
        return name, fmt, raw_opts, opts, n_workers

    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                      help="datagen: describe, generate and validate synthetic datasets.")
    fmt_opt = _format_choice(default_format)

    @app.command(cls=_FormatHelp)
    def describe(
        format: str = fmt_opt,
        schema: str = SchemaOpt,
        blueprint: str = BlueprintOpt,
        param: list[str] = ParamOpt,
        out: str = typer.Option(None, "--out", "-o", help="Where generate would write (shown; nothing is written)."),
        seed: int = SeedOpt, rows: list[str] = RowsOpt, scale: float = ScaleOpt, profile: str = ProfileOpt,
        workers: int = typer.Option(None, "--workers", "-w", help="Accepted as for generate (checked, unused)."),
        block_rows: int = typer.Option(None, "--block-rows", help="Rows per block (default 65536)."),
        force: bool = typer.Option(False, "--force", help="Accepted as for generate (unused)."),
        option: list[str] = typer.Option(None, "--option", help="Format option KEY=VALUE (checked); repeatable."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Accepted as for generate (describe always prints)."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        allow_huge: bool = HugeOpt,
        anchor: str = AnchorOpt,
        corrupt: list[str] = CorruptOpt,
        table_scale: list[str] = TableScaleOpt,
        include: list[str] = IncludeOpt,
        exclude: list[str] = ExcludeOpt,
        debug: bool = DebugOpt,
        db_target: str = TargetOpt,
        db_schema: str = DbSchemaOpt,
        mode: str = ModeOpt,
        atomic: bool = AtomicOpt,
        defer_constraints: bool = DeferOpt,
    ) -> None:
        """Print the plan: tables, rows, columns, generators, keys, order, size and feasibility."""
        import datagen

        with guard(debug):
            _name, fmt, _raw, opts, _n = _request(format, option, workers, out,
                                                  _flags(db_target, db_schema, mode, atomic, defer_constraints))
            plan = datagen.resolve_plan(_schema_with(schema, anchor, blueprint, param),
                                        **_plan_kwargs(seed, rows, scale, profile, block_rows, allow_huge, corrupt,
                                                       table_scale, include, exclude, opts))
            info = datagen.describe(plan, format=fmt, out=out)
            if as_json:
                print_json(info)
            else:
                render_describe(info)

    def generate(
        format: str = fmt_opt,
        schema: str = SchemaOpt,
        blueprint: str = BlueprintOpt,
        param: list[str] = ParamOpt,
        out: str = typer.Option(None, "--out", "-o", help="Output folder. Default: out/<schema name>/<format>/."),
        seed: int = SeedOpt, rows: list[str] = RowsOpt, scale: float = ScaleOpt, profile: str = ProfileOpt,
        workers: int = typer.Option(None, "--workers", "-w", help="Worker processes (default: the number of cores)."),
        block_rows: int = typer.Option(None, "--block-rows", help="Rows per block (default 65536); never changes values."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty --out that datagen did not write."),
        option: list[str] = typer.Option(None, "--option", help="Format option KEY=VALUE; repeatable (listed below)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success (and show no progress)."),
        as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON on success."),
        allow_huge: bool = HugeOpt,
        anchor: str = AnchorOpt,
        corrupt: list[str] = CorruptOpt,
        table_scale: list[str] = TableScaleOpt,
        include: list[str] = IncludeOpt,
        exclude: list[str] = ExcludeOpt,
        runs_db: str = RunsDbOpt,
        debug: bool = DebugOpt,
        db_target: str = TargetOpt,
        db_schema: str = DbSchemaOpt,
        mode: str = ModeOpt,
        atomic: bool = AtomicOpt,
        defer_constraints: bool = DeferOpt,
        engine: str = typer.Option("local", "--engine", help="local (default) or spark: Spark's executors "
                                   "compute the blocks (same values; parquet, delta)."),
        spark_master: str = SparkMasterOpt,
        spark_conf: list[str] = SparkConfOpt,
        hive_db: str = typer.Option(None, "--hive-db", help="With --engine spark: register each table in the "
                                    "session's catalog as NAME.table (a safe identifier)."),
        hive_metastore: str = typer.Option(None, "--hive-metastore", help="With --engine spark: keep the Hive "
                                           "catalog (embedded Derby metastore, warehouse) in this folder."),
        **extra: Any,
    ) -> None:
        """Generate the dataset into --out (atomically replaced), with a manifest.json."""
        import datagen

        with guard(debug):
            name, fmt, raw_opts, opts, n_workers = _request(format, option, workers, out,
                                                      _flags(db_target, db_schema, mode, atomic, defer_constraints))
            plan = datagen.resolve_plan(_schema_with(schema, anchor, blueprint, param),
                                        **_plan_kwargs(seed, rows, scale, profile, block_rows, allow_huge, corrupt,
                                                       table_scale, include, exclude, opts))
            for key, _t, flag, _h, names, handler in generators.GENERATE_OPTIONS:
                if extra.get(key) is None:
                    continue
                if name not in names:
                    raise UsageError(f"{flag} applies to --format {' / '.join(names)}, not {name}")
                module, _, func = handler.partition(":")
                request = GenerateRequest(plan=plan, fmt=fmt, format_name=name, out=out, workers=n_workers,
                                          force=force, options=opts, quiet=quiet, extra=dict(extra))
                if getattr(importlib.import_module(module), func)(request):
                    return
            target = Path(out) if out else datagen.default_out(plan.schema.name, fmt.name)
            engine_kw: dict[str, Any] = {"engine": engine, "spark_master": spark_master,
                                         "spark_conf": _spark_conf(spark_conf), "hive_db": hive_db,
                                         "hive_metastore": hive_metastore}
            progress, advance = _progress_callback(plan, quiet or as_json)
            if progress is not None:
                with progress:
                    result = datagen.generate(plan, format=fmt, out=target, workers=n_workers, force=force,
                                              options=raw_opts, progress=advance, runs_db=runs_db, **engine_kw)
            else:
                result = datagen.generate(plan, format=fmt, out=target, workers=n_workers, force=force,
                                          options=raw_opts, runs_db=runs_db, **engine_kw)
            manifest = result.manifest
            if as_json:
                print_json({"out": str(target), **manifest})
            elif not quiet and fmt.stores_tables:
                total = sum(manifest["rows"].values())
                secs = manifest["timings"]["total_s"]
                where = (manifest.get(fmt.name) or {}).get("target") or fmt.name
                print(f"loaded {total:,} rows into {len(manifest['rows'])} table(s) of {where} in {secs:.2f} s "
                      f"({total / max(secs, 1e-9):,.0f} rows/s); manifest in {target}")
            elif not quiet:
                total = sum(manifest["rows"].values())
                secs = manifest["timings"]["total_s"]
                size = sum(f["bytes"] for f in manifest["files"])
                print(f"wrote {total:,} rows in {len(manifest['files'])} file(s), {human_bytes(size)}, "
                      f"to {target} in {secs:.2f} s ({total / max(secs, 1e-9):,.0f} rows/s)")

    extras = [(key, typ, typer.Option(None, flag, help=f"{text} (--format {', '.join(names)})"))
              for key, typ, flag, text, names, _h in generators.GENERATE_OPTIONS]
    app.command(cls=_FormatHelp)(_add_options(generate, extras))

    @app.command(cls=_FormatHelp)
    def validate(
        format: str = fmt_opt,
        schema: str = SchemaOpt,
        blueprint: str = BlueprintOpt,
        param: list[str] = ParamOpt,
        out: str = typer.Option(None, "--out", "-o", help="The folder to check. Default: out/<schema name>/<format>/."),
        seed: int = typer.Option(None, "--seed", help="The seed the output must have been generated with."),
        rows: list[str] = typer.Option(None, "--rows", help="TABLE=N the output must have been generated with."),
        scale: float = typer.Option(None, "--scale", help="The --scale the output must have been generated with."),
        profile: str = typer.Option(None, "--profile", help="The profile the output must have been generated with."),
        table_scale: list[str] = typer.Option(None, "--table-scale", help="TABLE=F the output must have been "
                                              "generated with."),
        include: list[str] = typer.Option(None, "--include", help="A table the run wrote (with a manifest: must "
                                          "match it; without: only these are checked)."),
        exclude: list[str] = typer.Option(None, "--exclude", help="A table the run did not write (with a manifest: "
                                          "must match it; without: not checked)."),
        anchor: str = typer.Option(None, "--anchor", help="The anchor the output must have been generated with "
                                   "(default: the one its manifest records)."),
        workers: int = typer.Option(None, "--workers", "-w", help="Accepted as for generate (checked, unused)."),
        block_rows: int = typer.Option(None, "--block-rows", help="Accepted as for generate (unused)."),
        force: bool = typer.Option(False, "--force", help="Accepted as for generate (unused)."),
        option: list[str] = typer.Option(None, "--option", help="Format option KEY=VALUE (checked); repeatable."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing; the exit code tells."),
        report: str = typer.Option(None, "--report", help="Where to write the report (default: <out>/validation_report.json)."),
        strict: bool = typer.Option(False, "--strict", help="Injected (dirty-profile) violations fail too."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of a table."),
        allow_huge: bool = typer.Option(False, "--allow-huge", help="Re-plan the run past the size cap (needed only "
                                        "for output whose manifest does not record --allow-huge)."),
        debug: bool = DebugOpt,
        db_target: str = TargetOpt,
        db_schema: str = DbSchemaOpt,
        mode: str = ModeOpt,
        atomic: bool = AtomicOpt,
        defer_constraints: bool = DeferOpt,
        engine: str = typer.Option("local", "--engine", help="local (default) or spark: Spark reads the tables "
                                   "(parquet, delta; or the catalog's with --hive-db) and the same checks run."),
        spark_master: str = SparkMasterOpt,
        spark_conf: list[str] = SparkConfOpt,
        hive_db: str = typer.Option(None, "--hive-db", help="With --engine spark: read each table from the "
                                    "session's catalog as NAME.table (a safe identifier)."),
        hive_metastore: str = typer.Option(None, "--hive-metastore", help="With --engine spark: the folder of the "
                                           "Hive catalog (embedded Derby metastore) generate --hive-metastore used."),
    ) -> None:
        """Check the artifacts in --out against the schema; write validation_report.json; exit 0/1."""
        import datagen
        from shared.validation.runner import REPORT, write_report

        with guard(debug):
            name, fmt, raw_opts, _opts, _n = _request(format, option, workers, out,
                                                      _flags(db_target, db_schema, mode, atomic, defer_constraints))
            source = _source(schema, blueprint, param)
            the_schema = datagen.load_schema(source)
            target = Path(out) if out else datagen.default_out(the_schema.name, name)
            status = None
            if not (quiet or as_json) and sys.stderr.isatty():
                from rich.console import Console

                status = Console(stderr=True).status(f"validating {target} …")
            selection: dict[str, Any] = {"table_scale": list(table_scale) if table_scale else None,
                                         "include": list(include) if include else None,
                                         "exclude": list(exclude) if exclude else None,
                                         "engine": engine, "spark_master": spark_master, "spark_conf": _spark_conf(spark_conf),
                                         "hive_db": hive_db, "hive_metastore": hive_metastore}
            if status is not None:
                with status:
                    rep = datagen.validate(source, out=target, format=fmt, strict=strict, allow_huge=allow_huge,
                                           seed=seed, rows=rows, scale=scale, profile=profile, anchor=anchor,
                                           options=raw_opts, **selection)
            else:
                rep = datagen.validate(source, out=target, format=fmt, strict=strict, allow_huge=allow_huge,
                                       seed=seed, rows=rows, scale=scale, profile=profile, anchor=anchor,
                                       options=raw_opts, **selection)
            report_path = Path(report) if report else target / REPORT
            try:
                write_report(rep, report_path)
            except OSError as exc:
                from shared.errors import OutputError

                raise OutputError(f"--report {report_path}: cannot write the report: {exc.strerror}") from None
            if as_json:
                print_json(rep)
            elif not quiet:
                render_report(rep, report_path)
            if rep["status"] != "pass":
                raise typer.Exit(1)

    @app.command("query")
    def query_(sql: str = typer.Argument(..., metavar="SQL", help="The query, in DuckDB's SQL; each table of --out "
                                         "is a view of that name (event_stream output adds `events`)."),
               out: str = typer.Option(..., "--out", "-o", help="A folder `generate` wrote (with its manifest.json)."),
               output: str = typer.Option("table", "--output", help="table (a rich table, the default), csv or "
                                          "json (an array of objects), on stdout."),
               limit: int = typer.Option(None, "--limit", "-n", help="At most this many rows of the result."),
               debug: bool = DebugOpt) -> None:
        """SQL over a generated folder's tables (DuckDB; each table a view over its files): joins,
        aggregates, checks. See docs/query.md."""
        from datagen import query as q

        with guard(debug):
            if output not in ("table", "csv", "json"):
                hint = did_you_mean(output, ("table", "csv", "json"))
                raise UsageError(f"--output {output}: one of table, csv, json" + (f" ({hint})" if hint else ""))
            if not out.strip():
                raise UsageError("--out '': an empty path (give the folder generate wrote)")
            result = q.query(out, sql, limit=limit)
            if output == "json":
                print_json(q.to_records(result))
            elif output == "csv":
                q.write_csv(result, sys.stdout)
            else:
                _render_result(result)

    @app.command("fit")
    def fit_(source: str = typer.Option(..., "--source", help="The real data: a folder of CSV/Parquet/NDJSON files "
                                        "(one per table), an SQLite file or a PostgreSQL DSN."),
             out: str = typer.Option(..., "--out", "-o", help="The schema file to write (YAML, with comments)."),
             report: str = typer.Option(None, "--report", help="Also write the fit report (JSON) here."),
             privacy: list[str] = typer.Option(None, "--privacy", help="TABLE.COLUMN=STRATEGY (fake, mask, hash, "
                                               "drop, keep); repeatable. Detected PII defaults to fake."),
             k: int = typer.Option(5, "--k", help="k-anonymity: a category seen in fewer than k rows is never "
                                   "written."),
             hmac_key_env: str = typer.Option(None, "--hmac-key-env", help="The environment variable holding the "
                                              "key of the hash strategy (HMAC-SHA256)."),
             include: list[str] = typer.Option(None, "--include", help="Fit only this table; repeatable."),
             exclude: list[str] = typer.Option(None, "--exclude", help="Leave this table out; repeatable."),
             sample_rows: int = typer.Option(200_000, "--sample-rows", help="Learn from at most this many rows per "
                                             "table (a fixed-seed sample; row counts stay the source's)."),
             locale: str = typer.Option("en_US", "--locale", help="The schema's locale (the fake strategy's Faker "
                                        "locale)."),
             name: str = typer.Option(None, "--name", help="The schema's name (default: the source's)."),
             db_schema: str = DbSchemaOpt,
             epsilon: float = typer.Option(None, "--epsilon", help="Differential privacy: every released statistic "
                                           "is noised by OpenDP, the total ε spent at most this (> 0)."),
             delta: float = typer.Option(None, "--delta", help="With --epsilon: the δ spent on releasing text "
                                         "categories (e.g. 1e-6; default 0: pure ε-DP, no category values)."),
             bounds: list[str] = typer.Option(None, "--bounds", help="With --epsilon: TABLE.COLUMN=LO..HI, public "
                                              "bounds of a column (numbers or ISO dates); repeatable."),
             deep: list[str] = typer.Option(None, "--deep", help="Learn this table's drawn columns with a CTGAN "
                                            "model (the fit-deep extra) instead of the copula; repeatable. The "
                                            "report compares both. Not with --epsilon."),
             epochs: int = typer.Option(None, "--epochs", help="With --deep: CTGAN's training epochs (default "
                                        "100)."),
             force: bool = typer.Option(False, "--force", help="Replace an existing --out / --report file (and "
                                        "the --deep models beside --out)."),
             as_json: bool = typer.Option(False, "--json", help="Print the fit report as JSON."),
             quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
             debug: bool = DebugOpt) -> None:
        """Learn an editable schema from real data (types, keys, foreign keys, marginals, formats),
        with PII protection; see docs/fit.md and docs/privacy.md."""
        with guard(debug):
            from datagen.fit import fit as fit_data
            from datagen.fit import parse_privacy

            if not out.strip():
                raise UsageError("--out '': an empty path (give the schema file to write, e.g. schema.yaml)")
            strategies = parse_privacy(privacy)
            key = None
            if hmac_key_env is not None:
                key = os.environ.get(hmac_key_env)
                if not key:
                    raise UsageError(f"--hmac-key-env {hmac_key_env}: the variable is not set or empty "
                                     "(hint: export it with the key of the hash strategy)")
            if epochs is not None and not deep:
                raise UsageError("--epochs needs --deep TABLE (the copula fit trains nothing)")
            for path in (out, report):
                if path and Path(path).exists() and not force:
                    raise UsageError(f"{path} exists (hint: --force replaces it)")
            result = fit_data(source, privacy=strategies, k=k, sample_rows=sample_rows, hmac_key=key,
                              include=include, exclude=exclude, name=name, locale=locale, db_schema=db_schema,
                              epsilon=epsilon, delta=delta, bounds=bounds or None, deep=deep or None,
                              epochs=epochs)
            result.write(out, report, force=force)
            if as_json:
                print_json(result.report)
            elif not quiet:
                rep = result.report
                sv = rep["withheld"]["suppressed_values"]
                withheld = "rare values under the DP threshold withheld)" if sv is None else \
                    f"{sv} rare value(s) withheld)"
                cols = sum(len(t["columns"]) for t in rep["tables"].values())
                print(f"fitted {len(rep['tables'])} table(s), {cols} column(s), {len(rep['relations'])} foreign "
                      f"key(s), {len(rep['pii'])} PII column(s) ({withheld} → {out}" + (f"; report {report}" if report else ""))
                for tname, seconds in result.timings.items():
                    cmp = rep["tables"][tname]["deep"]["comparison"]

                    def show(x: float | None) -> str:
                        return "n/a" if x is None else f"{x:.3f}"

                    print(f"{tname}: CTGAN trained in {seconds:.1f} s → {rep['tables'][tname]['deep']['model']}; "
                          f"on {cmp['rows']['real']:,} rows column shapes copula {show(cmp['copula']['column_shapes'])}"
                          f" / CTGAN {show(cmp['ctgan']['column_shapes'])}, pair trends copula "
                          f"{show(cmp['copula']['all_pairs'])} / CTGAN {show(cmp['ctgan']['all_pairs'])}")
                if "privacy" in rep:
                    dpr = rep["privacy"]
                    print(f"differential privacy: spent ε={dpr['spent_epsilon']:g} of {dpr['epsilon']:g}, "
                          f"δ={dpr['spent_delta']:g} of {dpr['delta']:g} ({len(dpr['measurements'])} measurements)")

    @app.command("report")
    def report_(real: str = typer.Option(..., "--real", help="The real data: a folder of CSV/Parquet/NDJSON files "
                                         "(one per table), an SQLite file or a PostgreSQL DSN."),
                synthetic: str = typer.Option(..., "--synthetic", help="The synthetic data: a folder `datagen "
                                              "generate` wrote, or any source --real takes."),
                out: list[str] = typer.Option(..., "--out", "-o", help="The report to write: FILE.html (self-"
                                              "contained, with charts) or FILE.json; repeatable for both."),
                schema: str = typer.Option(None, "--schema", "-s", help="The DSL schema: types, keys, foreign keys "
                                           "and categories (default: inferred from the real data)."),
                holdout: str = typer.Option(None, "--holdout", help="Real rows the synthesizer never saw, for the "
                                            "privacy metrics (default: a seeded 20% of the real rows)."),
                include: list[str] = typer.Option(None, "--include", help="Compare only this table; repeatable."),
                sample_rows: int = typer.Option(200_000, "--sample-rows", help="At most this many rows per table "
                                                "for the column and pair metrics (a seeded sample)."),
                privacy_rows: int = typer.Option(2_000, "--privacy-rows", help="At most this many rows per dataset "
                                                 "in the distance-to-closest-record computations."),
                seed: int = typer.Option(0, "--seed", help="The seed of the samples and of the holdout split."),
                fail_under: float = typer.Option(None, "--fail-under", help="Exit 1 when the overall quality score "
                                                 "is below this (0..1)."),
                force: bool = typer.Option(False, "--force", help="Replace existing --out files."),
                as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
                quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
                debug: bool = DebugOpt) -> None:
        """Compare synthetic with real data: column shapes, column pair trends, cardinality,
        intertable trends (SDMetrics' scores), coverage, missing values, referential integrity and
        privacy (distance to closest record, exact copies); see docs/report.md."""
        with guard(debug):
            from datagen.report import report as build_report

            paths = [Path(p) for p in out]
            for p in paths:
                if p.suffix.lower() not in (".html", ".htm", ".json"):
                    raise UsageError(f"--out {p}: the suffix says the format: .html or .json")
                if p.exists() and not force:
                    raise UsageError(f"--out {p}: exists (hint: --force replaces it)")
            if len({p.resolve() for p in paths}) != len(paths):
                raise UsageError("--out: the same file given twice")
            if fail_under is not None and not 0 <= fail_under <= 1:
                raise UsageError(f"--fail-under {fail_under}: a score between 0 and 1")
            rep = build_report(real, synthetic, schema=schema, holdout=holdout, include=include,
                               sample_rows=sample_rows, privacy_rows=privacy_rows, seed=seed)
            for p in paths:
                rep.write(p, force=force)
            overall = rep.scores["overall"]
            if as_json:
                print_json(rep.data)
            elif not quiet:
                props = ", ".join(f"{k} {v:.1%}" for k, v in rep.scores["properties"].items() if v is not None)
                shown = "n/a" if overall is None else f"{overall:.1%}"
                print(f"overall quality {shown} ({props}) → {', '.join(str(p) for p in paths)}")
                for w in rep.data["warnings"]:
                    print(f"warning: {w}", file=sys.stderr)
            if fail_under is not None and (overall is None or overall < fail_under):
                print(f"error: overall quality {overall} is below --fail-under {fail_under}", file=sys.stderr)
                raise typer.Exit(1)

    app.add_typer(_blueprints_app(), name="blueprints")
    app.add_typer(_targets_app(), name="targets")
    app.add_typer(_runs_app(), name="runs")
    app.add_typer(_import_app(), name="import")

    @app.command("export-ddl")
    def export_ddl(schema: str = SchemaOpt,
                   dialect: str = typer.Option("postgres", "--dialect", "-d", help="postgres, redshift, snowflake, "
                                               "mysql, bigquery, duckdb, sqlite or tsql."),
                   out: str = typer.Option(None, "--out", "-o", help="Write the DDL to this file (default: stdout)."),
                   no_checks: bool = typer.Option(False, "--no-checks", help="No CHECK constraints for allowed "
                                                  "values and min/max."),
                   debug: bool = DebugOpt) -> None:
        """CREATE TABLE statements for the schema's tables in a SQL dialect: types, primary keys,
        foreign keys, unique and NOT NULL constraints, CHECKs for allowed values and bounds."""
        from datagen.ddl import export_ddl as render

        with guard(debug):
            text = render(_schema_arg(schema), dialect, checks=not no_checks)
            _write_text(out, text)

    @app.command("serve")
    def serve(host: str = typer.Option("127.0.0.1", "--host", help="The address to bind. Anything but loopback "
                                       "needs an API key (--api-key-env)."),
              port: int = typer.Option(8000, "--port", help="The TCP port."),
              schemas_dir: str = typer.Option("schemas", "--schemas-dir", help="The folder schema ids resolve in "
                                              "(and only in)."),
              targets_dir: str = typer.Option(None, "--targets-dir", help="The named targets' folder. Default: "
                                              "$DATAGEN_TARGETS_DIR, else targets/."),
              output_dir: str = typer.Option("out", "--output-dir", help="The folder inline targets write into "
                                             "(their path is relative to it and stays inside it)."),
              runs_db: str = RunsDbOpt,
              api_key_env: str = typer.Option(None, "--api-key-env", metavar="VAR", help="Require the API key held "
                                              "in this environment variable (X-API-Key header); never on the "
                                              "command line."),
              max_runs: int = typer.Option(2, "--max-runs", help="Runs at once; the next one is refused (429)."),
              max_streams: int = typer.Option(4, "--max-streams", help="Live streams at once; the next one is "
                                              "refused (429)."),
              max_subscribers: int = typer.Option(8, "--max-subscribers", help="WebSocket subscribers per "
                                                  "stream; the next one is closed (4429)."),
              max_body_bytes: int = typer.Option(1 << 20, "--max-body-bytes", help="The largest request body "
                                                 "(413 beyond)."),
              max_generate_rows: int = typer.Option(100_000, "--max-generate-rows", help="The most rows POST "
                                                    "/generate answers in memory (413 beyond)."),
              debug: bool = DebugOpt) -> None:
        """The HTTP API (FastAPI on uvicorn; OpenAPI docs at /docs): schemas, targets, runs in the
        background (the same run store), import, small in-memory results. See docs/service.md."""
        with guard(debug):
            _serve(host, port, schemas_dir, targets_dir, output_dir, runs_db, api_key_env, max_runs, max_body_bytes,
                   max_generate_rows, max_streams, max_subscribers)

    return app


def _serve(host: str, port: int, schemas_dir: str, targets_dir: str | None, output_dir: str, runs_db: str | None,
           api_key_env: str | None, max_runs: int, max_body_bytes: int, max_generate_rows: int,
           max_streams: int = 4, max_subscribers: int = 8) -> None:
    """Check the settings, say where the service listens and whether it needs a key, run uvicorn."""
    try:
        import uvicorn

        from datagen.service import Settings, create_app
    except ImportError as exc:
        raise UsageError(f"datagen serve needs the service extra ({exc.name} is missing): pip install "
                         f"'datagen[service]' (the bootstrap installs it)") from None
    from pydantic import SecretStr, ValidationError

    from generators.common.targets import targets_dir as default_targets_dir

    key = None
    if api_key_env is not None:
        key = os.environ.get(api_key_env, "")
        if not key.strip():
            raise UsageError(f"--api-key-env {api_key_env}: the environment variable is not set or empty")
    for flag, value in (("--schemas-dir", schemas_dir), ("--output-dir", output_dir)):
        if not value.strip():
            raise UsageError(f"{flag} '': an empty path")
    try:
        settings = Settings(host=host, port=port, schemas_dir=Path(schemas_dir),
                            targets_dir=Path(targets_dir) if targets_dir else default_targets_dir(),
                            output_dir=Path(output_dir), runs_db=Path(runs_db) if runs_db else None,
                            api_key=SecretStr(key) if key else None,
                            max_runs=max_runs, max_body_bytes=max_body_bytes, max_generate_rows=max_generate_rows,
                            max_streams=max_streams, max_subscribers=max_subscribers)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None
    settings.check()
    app = create_app(settings)
    where = f"[{host}]" if ":" in host else host
    print(f"datagen serve: http://{where}:{port}/docs (API under /api/v1); "
          + (f"an API key is required (X-API-Key, from ${api_key_env})" if key else "no API key (loopback only)")
          + f"; at most {max_runs} runs and {max_streams} streams at once", file=sys.stderr, flush=True)
    # no permessage-deflate: compressing a live stream (tens of MB/s) costs the server more CPU
    # than the bytes saved on loopback or a LAN are worth (docs/service.md, "Live streams")
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5,
                ws_per_message_deflate=False)


def _render_result(result) -> None:
    """A query's result as a rich table (numbers right-aligned), with the row count below."""
    import pyarrow as pa
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    from datagen.query import cell_text

    t = RichTable(title_justify="left")
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
               for f in result.schema]
    for f, num in zip(result.schema, numeric, strict=True):
        t.add_column(escape(f.name), justify="right" if num else "left", overflow="fold")
    for row in zip(*(c.to_pylist() for c in result.columns), strict=True):
        t.add_row(*(escape(cell_text(v)) if v is not None else "[dim]null[/dim]" for v in row))
    console = Console()
    console.print(t)
    console.print(f"{result.num_rows:,} row{'s' if result.num_rows != 1 else ''}")


def _write_text(out: str | None, text: str) -> None:
    """``text`` into ``out`` (replaced whole, through a temporary file beside it), or stdout."""
    if out is None:
        sys.stdout.write(text)
        return
    if not out.strip():
        raise UsageError("--out '': an empty path (omit --out to print)")
    from shared.io.output import write_text_atomic

    write_text_atomic(Path(out), text, label=f"--out {out}")


def _import_app() -> typer.Typer:
    """``import NAME SOURCE``: one subcommand per registered importer (``datagen.importers``)."""
    from datagen import importers

    imp_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                          help="Make a schema from something that exists (SQL DDL, another tool's spec): "
                               "a commented YAML file to edit. See docs/import.md.")
    try:
        names = importers.names()
    except Exception:  # noqa: BLE001 - a broken importer module must not break the whole command line
        names = []
    for name in names:
        imp_app.command(name, help=importers.IMPORTERS[name].description)(_import_command(name))
    return imp_app


def _import_command(name: str):
    out_opt = typer.Option(None, "--out", "-o", help="Write the schema here (default: stdout).")
    force_opt = typer.Option(False, "--force", help="Replace an existing --out file.")
    source_arg = typer.Argument(..., metavar="FILE", help="What to import.")

    def run(source: str, out: str | None, force: bool, debug: bool, **options: Any) -> None:
        from datagen import importers
        from datagen.importers.writer import write_yaml

        with guard(debug):
            imp = importers.get(name)
            if out is not None and Path(out).exists() and not force:
                raise UsageError(f"--out {out}: the file exists (give --force to replace it)")
            result = imp(source, **{k: v for k, v in options.items() if v is not None})
            _write_text(out, write_yaml(result))
            if out is not None:
                tables = len(result.schema.get("tables") or [])
                print(f"{out}: {tables} tables, {len(result.warnings)} warnings, {len(result.skipped)} statements "
                      "skipped", file=sys.stderr)
                for f in result.warnings[:20]:
                    print(f"  warning: {f}", file=sys.stderr)

    if name == "sql":
        def sql(source: str = source_arg,
                dialect: str = typer.Option("postgres", "--dialect", "-d", help="postgres, redshift, snowflake, "
                                            "mysql, bigquery, duckdb, sqlite or tsql."),
                out: str = out_opt,
                rows: list[str] = typer.Option(None, "--rows", help="N (every table) or TABLE=N; repeatable. "
                                               "Default 1000."),
                force: bool = force_opt,
                debug: bool = DebugOpt) -> None:
            """Read CREATE TABLE statements; write a schema that generates and validates."""
            run(source, out, force, debug, dialect=dialect, rows=rows or None)

        return sql

    if name == "db":
        def db(source: str = typer.Argument(..., metavar="DSN_OR_FILE", help="A postgresql:// URL, a libpq "
                                            "string, a targets/*.yaml name, or an SQLite database file."),
               out: str = out_opt,
               include: list[str] = typer.Option(None, "--include", help="Import only this table (repeatable, "
                                                 "or comma-separated)."),
               exclude: list[str] = typer.Option(None, "--exclude", help="Leave this table out (repeatable, or "
                                                 "comma-separated)."),
               db_schema: str = typer.Option("public", "--db-schema", help="The PostgreSQL schema to read."),
               rows: list[str] = typer.Option(None, "--rows", help="N (every table) or TABLE=N; repeatable. "
                                              "Default: each table's row count."),
               force: bool = force_opt,
               debug: bool = DebugOpt) -> None:
            """Read a live database's tables (types, keys, references, checks, enums, row counts)."""
            run(source, out, force, debug, include=include or None, exclude=exclude or None, db_schema=db_schema,
                rows=rows or None)

        return db

    def command(source: str = source_arg, out: str = out_opt, force: bool = force_opt,
                debug: bool = DebugOpt) -> None:
        run(source, out, force, debug)

    return command


def _blueprints_app() -> typer.Typer:
    """``blueprints list`` and ``blueprints show NAME``: the named scenarios."""
    bp_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                         help="Named scenarios: list them, show one (its parameters, or its schema as YAML).")

    @bp_app.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
              debug: bool = DebugOpt) -> None:
        """Every blueprint with its one-line description."""
        from datagen import blueprints

        with guard(debug):
            infos = blueprints.list()
            if as_json:
                print_json(infos)
                return
            from rich.console import Console
            from rich.table import Table as RichTable

            t = RichTable(title="blueprints (generate --blueprint NAME --param KEY=VALUE)", title_justify="left")
            t.add_column("name")
            t.add_column("description", overflow="fold")
            for info in infos:
                t.add_row(info["name"], info["description"])
            Console().print(t)

    @bp_app.command("show")
    def show(name: str = typer.Argument(..., help="The blueprint."),
             param: list[str] = ParamOpt,
             as_yaml: bool = typer.Option(False, "--yaml", help="Print the schema it makes, as YAML."),
             as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
             debug: bool = DebugOpt) -> None:
        """A blueprint's description and parameters; with --yaml the schema it makes (a file the
        command line runs identically)."""
        from datagen import blueprints

        with guard(debug):
            bp = blueprints.get(name)
            params = blueprints.parse_params(bp, param)
            if as_yaml:
                schema = bp(**params)
                schema.validate()
                sys.stdout.write(schema.to_yaml())
                return
            info = bp.info()
            if as_json:
                print_json(info)
                return
            print(f"{info['name']} — {info['description']}")
            for p in info["parameters"]:
                value = params.get(p["name"], p["default"])
                print(f"  --param {p['name']}={value}  ({p['type']}{', set' if p['name'] in params else ''})")

    return bp_app


def _runs_app() -> typer.Typer:
    """``runs list``, ``runs show ID`` and ``runs rerun ID``: the run store (docs/runs.md)."""
    runs_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                           help="Every generate on record: list the runs, show one, rerun one (the same bytes).")

    @runs_app.command("list")
    def list_(limit: int = typer.Option(20, "--limit", "-n", help="At most this many runs, the latest first."),
              status: str = typer.Option(None, "--status", help="Only runs of this status: pending, running, "
                                         "success, failed or interrupted."),
              as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
              runs_db: str = RunsDbOpt, debug: bool = DebugOpt) -> None:
        """The latest runs: id, status, start, seconds, schema, target, rows, seed, config hash."""
        from datagen.runs import RunStore, check_status

        with guard(debug):
            if limit < 1:
                raise UsageError(f"--limit {limit}: must be at least 1")
            if status is not None:
                check_status(status)
            store = RunStore.at(runs_db)
            found = store.list(limit=limit, status=status)
            if as_json:
                print_json([_run_summary(r) for r in found])
                return
            from rich.console import Console
            from rich.markup import escape
            from rich.table import Table as RichTable

            title = f"runs in {store.path}" + (f" (status {status})" if status else "")
            if not found:
                print(f"no runs in {store.path}" + (f" with status {status}" if status else ""))
                return
            t = RichTable(title=escape(title), title_justify="left")
            for name, justify in (("id", "left"), ("status", "left"), ("started", "left"), ("seconds", "right"),
                                  ("schema", "left"), ("target", "left"), ("rows", "right"), ("seed", "right"),
                                  ("config", "left")):
                t.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
            for r in found:
                s = _run_summary(r)
                t.add_row(escape(s["id"]), s["status"], escape(s["started_at"] or ""),
                          "-" if s["seconds"] is None else f"{s['seconds']:.2f}", escape(s["schema"] or ""),
                          escape(s["target"]), "-" if s["rows"] is None else f"{s['rows']:,}", str(s["seed"]),
                          (s["config_hash"] or "")[:12])
            Console().print(t)

    @runs_app.command("show")
    def show(run_id: str = typer.Argument(..., metavar="ID", help="The run's id (or the start of it)."),
             as_json: bool = typer.Option(False, "--json", help="Every field as JSON (the schema's text too)."),
             runs_db: str = RunsDbOpt, debug: bool = DebugOpt) -> None:
        """Every field of one run's record."""
        from datagen.runs import RunStore

        with guard(debug):
            run = RunStore.at(runs_db).get(run_id)
            source = run.pop("schema_source", None)
            if as_json:
                run["schema_text"] = source.decode("utf-8", "replace") if isinstance(source, bytes) else None
                print_json(run)
                return
            record = run.get("record") or {}
            lines = [("id", run["id"]), ("status", run["status"]), ("started", run["started_at"]),
                     ("finished", run.get("finished_at")), ("seconds", run.get("seconds")), ("seed", run["seed"]),
                     ("config hash", run.get("config_hash")),
                     ("schema", f"{run.get('schema_name')} (version {run.get('schema_version')}, sha256 "
                                f"{run.get('schema_sha256')}, {len(source or b'')} bytes kept)"),
                     ("target", _target_text(run.get("target") or {})),
                     ("process", f"pid {run.get('pid')} on {run.get('host')}"), ("tool", run.get("tool_version"))]
            for key, value in lines:
                print(f"{key + ':':<13}{'-' if value is None else value}")
            config = record.get("config") or {}
            if config:
                print("config:")
                for key in sorted(config):
                    print(f"  {key}: {json.dumps(config[key], sort_keys=True, default=str)}")
            tables = run.get("tables") or {n: {"rows": v, "seconds": None} for n, v in (run.get("rows") or {}).items()}
            if tables:
                print("tables:")
                for name, info in tables.items():
                    secs = info.get("seconds")
                    print(f"  {name}: {info.get('rows', 0):,} rows" + (f", {secs:.3f} s" if secs is not None else ""))
            for w in run.get("warnings") or []:
                print(f"warning: {w}")
            if run.get("error"):
                print(f"error:       {run['error']}")

    @runs_app.command("rerun")
    def rerun(run_id: str = typer.Argument(..., metavar="ID", help="The run's id (or the start of it)."),
              out: str = typer.Option(None, "--out", "-o", help="Write here instead of the run's own target."),
              force: bool = typer.Option(False, "--force", help="Replace a non-empty --out that datagen did not "
                                         "write."),
              workers: int = typer.Option(None, "--workers", "-w", help="Worker processes (default: the number of "
                                          "cores); never changes a byte."),
              quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
              as_json: bool = typer.Option(False, "--json", help="Print the new run's record as JSON."),
              db_target: str = typer.Option(None, "--target", help="Load this database (DSN, SQLite file or "
                                            "targets/*.yaml name) instead of the recorded one, e.g. when the "
                                            "recorded DSN held a password (stored redacted)."),
              runs_db: str = RunsDbOpt, debug: bool = DebugOpt) -> None:
        """Generate a recorded run again — its schema as stored, its seed and settings — into its
        target (or --out): the same bytes, recorded as a new run with the same config hash."""
        from datagen.api import rerun as rerun_run

        with guard(debug):
            if out is not None and not out.strip():
                raise UsageError("--out '': an empty path (omit --out for the run's own target)")
            result = rerun_run(run_id, out=out, force=force, workers=_workers(workers), runs_db=runs_db,
                               target=db_target)
            record = result.record or {}
            if as_json:
                print_json(record)
            elif not quiet:
                where = result.output_dir if result.output_dir is not None else "memory"
                print(f"reran {run_id} as run {record.get('id')}: {sum(result.rows.values()):,} rows to {where} "
                      f"(config hash {str(record.get('config_hash'))[:12]})")

    return runs_app


def _target_text(target: dict[str, Any]) -> str:
    if target.get("label"):
        return str(target["label"])
    if target.get("kind") == "files":
        return f"{target.get('format')} {target.get('path')}"
    return str(target.get("kind", "-"))


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """One line of ``runs list``."""
    rows = run.get("rows")
    return {"id": run["id"], "status": run["status"], "started_at": run["started_at"],
            "finished_at": run.get("finished_at"), "seconds": run.get("seconds"), "schema": run.get("schema_name"),
            "target": _target_text(run.get("target") or {}), "rows": sum(rows.values()) if rows else None,
            "seed": run.get("seed"), "config_hash": run.get("config_hash"), "error": run.get("error")}


def _targets_app() -> typer.Typer:
    """``targets list|show|validate|test``: the named database targets of ``targets/*.yaml``."""
    t_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                        help="Named database targets (targets/*.yaml, or $DATAGEN_TARGETS_DIR): list, show, "
                             "validate and test them. See docs/targets.md.")

    @t_app.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
              debug: bool = DebugOpt) -> None:
        """Every target: id, name, kind, DSN (passwords redacted) and schema."""
        from generators.common.targets import list_targets, targets_dir

        with guard(debug):
            infos = [t.info() for t in list_targets()]
            if as_json:
                print_json(infos)
                return
            from rich.console import Console
            from rich.table import Table as RichTable

            t = RichTable(title=f"targets in {targets_dir()}/ (--target ID)", title_justify="left")
            for col in ("id", "name", "kind", "dsn", "schema"):
                t.add_column(col, overflow="fold")
            for i in infos:
                t.add_row(i["id"], i["name"], i["kind"], i["dsn"], i["schema"] or "")
            Console().print(t)

    @t_app.command("show")
    def show(target_id: str = typer.Argument(..., metavar="ID", help="The target's id."),
             as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
             debug: bool = DebugOpt) -> None:
        """One target's fields (passwords redacted)."""
        from generators.common.targets import find_target

        with guard(debug):
            info = find_target(target_id).info()
            if as_json:
                print_json(info)
                return
            for k, v in info.items():
                print(f"{k}: {v if v not in (None, {}) else '-'}")

    @t_app.command("validate")
    def validate_(ids: list[str] = typer.Argument(None, metavar="[ID]...", help="Targets to check (default: all)."),
                  as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
                  debug: bool = DebugOpt) -> None:
        """Check the target files (fields, kind, DSN syntax, the environment variables they use);
        exit 2 when one is not usable. Connects to nothing (that is ``targets test``)."""
        from datagen.targets import check_target, find_target, list_targets

        with guard(debug):
            targets = [find_target(i) for i in ids] if ids else list_targets()
            report = [{"id": t.id, "file": str(t.path), "problems": check_target(t)} for t in targets]
            if as_json:
                print_json(report)
            else:
                for r in report:
                    print(f"{r['id']}: {'ok' if not r['problems'] else '; '.join(r['problems'])} ({r['file']})")
                if not report:
                    print("no targets")
            if any(r["problems"] for r in report):
                raise typer.Exit(2)

    @t_app.command("test")
    def test_(target_id: str = typer.Argument(..., metavar="ID", help="The target's id."),
              schema: str = typer.Option(None, "--schema", "-s", help="Check the rights on this schema's tables "
                                         "(default: every table of the target's schema)."),
              as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
              debug: bool = DebugOpt) -> None:
        """Connect: reachability, latency, server version, and whether the role can create, truncate
        and insert. Exit 3 when the target cannot be reached."""
        from datagen.targets import find_target, test_target

        with guard(debug):
            target = find_target(target_id)
            tables = None
            if schema is not None:
                import datagen

                tables = [t.name for t in datagen.load_schema(schema).tables]
            report = test_target(target, tables)
            if as_json:
                print_json(report)
            else:
                for k, v in report.items():
                    if k != "tables":
                        print(f"{k}: {v}")
                for name, rights in (report.get("tables") or {}).items():
                    print(f"  {name}: " + ", ".join(f"{r} {'yes' if ok else 'NO'}" for r, ok in rights.items()))
            if not report.get("reachable"):
                raise typer.Exit(3)

    return t_app


def _add_options(func, extras):
    """Give ``generate`` (which takes ``**extra``) one keyword parameter per format option."""
    import inspect

    sig = inspect.signature(func, eval_str=True)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in params}
    for name, typ, option in extras:
        if name in taken:
            raise ValueError(f"format option {name!r} clashes with a built-in parameter")
        taken.add(name)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=typ))
    func.__signature__ = sig.replace(parameters=params)
    func.__annotations__ = {**func.__annotations__, **{n: t for n, t, _ in extras}}
    return func


app = build_app()


def _reopen_closed_standard_fds() -> None:
    """A closed stdout or stderr (``>&-``): /dev/null instead, so the run goes on normally."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process's own stdout
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def main(default_format: str | None = None, only: tuple[str, ...] | None = None) -> None:
    """Run the command line; the exit code passes through."""
    _reopen_closed_standard_fds()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    (build_app(default_format, only) if default_format else app)()
