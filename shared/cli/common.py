"""What every frontend's command line shares: options, the request, rendering, exit codes.

A frontend is a few lines (see ``generators/parquet_generator``)::

    app = build_app(ParquetFormat())
    app()

``build_app`` gives it ``describe``, ``generate`` and ``validate`` with the options of
``../shared/design/cli-and-artifacts.md``. Every command body runs inside ``guard()``, the one
place that maps exceptions to exit codes:

=====  =======================================================================
0      done (validate: every check passed)
1      validate ran and a check failed
2      bad input: schema, option, unknown table, infeasible plan — nothing written
3      an output or generation failure (no partial artifacts left)
130    interrupted (SIGINT); 143 terminated (SIGTERM)
=====  =======================================================================

Bad input prints one message (file:line:column, schema path, hint) and no traceback; ``--debug``
adds the traceback.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from shared.errors import DatagenError, UsageError

_out = Console(highlight=False, soft_wrap=True)


@contextlib.contextmanager
def guard(debug: bool = False):
    """Map every exception to one message and one exit code (raises typer.Exit)."""
    try:
        yield
    except typer.Exit:
        raise
    except DatagenError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc.render()}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt as exc:
        signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        print("error: interrupted; nothing was changed in the output folder", file=sys.stderr)
        raise typer.Exit(128 + int(signum)) from None
    except MemoryError:
        print("error: out of memory (try a smaller --block-rows or fewer --workers)", file=sys.stderr)
        raise typer.Exit(3) from None
    except Exception as exc:  # an unexpected failure: one line, the traceback only with --debug
        if debug:
            traceback.print_exc()
        print(f"error: unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
              file=sys.stderr)
        raise typer.Exit(3) from None


# --- the request ------------------------------------------------------------------------------


def load_and_plan(schema_path: str | None, seed: int | None, rows: list[str] | None, scale: float | None,
                  profile: str | None, block_rows: int | None = None, allow_huge: bool = False):
    from shared import api

    path = schema_path or str(api.DEFAULT_SCHEMA)
    schema = api.load_schema(path)
    overrides = api.parse_rows_overrides(rows)
    kwargs: dict[str, Any] = {}
    if block_rows is not None:
        kwargs["block_rows"] = block_rows
    return api.resolve_plan(schema, seed=seed, rows=overrides, scale=scale, profile=profile, allow_huge=allow_huge,
                            **kwargs)


def check_format(fmt_name: str | None, allowed: tuple[str, ...], default: str) -> str:
    name = fmt_name or default
    if name not in allowed:
        raise UsageError(f"--format {name}: this frontend writes {', '.join(allowed)}")
    return name


def resolve_workers(workers: int | None) -> int:
    from shared.schema_dsl.engine import default_workers

    if workers is None:
        return default_workers()
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    return workers


# --- rendering --------------------------------------------------------------------------------


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f}"


def render_describe(info: dict[str, Any], console: Console | None = None) -> None:
    c = console or _out
    s = info["schema"]
    c.print(f"[bold]{escape(s['name'])}[/] — {escape(s.get('description') or '')}")
    c.print(escape(f"schema {s['path']} (sha256 {s['sha256'][:12]}…), seed {info['seed']}, profile {info['profile']}, "
                   f"format {info['format']}, anchor {info['anchor']}"))
    c.print(escape(f"generation order: {' → '.join(info['order'])}"))
    for t in info["tables"]:
        rr = t["rows_rule"]
        how = (f"per {rr['per']}: {rr['distribution']} in [{rr['min']}, {rr['max'] if rr['max'] is not None else '∞'}]"
               if "per" in rr else ("override" if rr.get("override") else
                                    (f"scale {rr['scale']}" if rr.get("scale") else "fixed")))
        title = f"{t['name']} — {t['rows']:,} rows ({how}), ~{human_bytes(t['estimated_bytes'])}"
        if t["primary_key"]:
            title += f", primary key ({', '.join(t['primary_key'])})"
        if t["unique"]:
            title += ", unique " + "; ".join("(" + ", ".join(g) + ")" for g in t["unique"])
        if t["events"]:
            title += f", events by {t['events']['time']}"
        rt = RichTable(title=escape(title), title_justify="left", show_lines=False)
        for h in ("column", "type", "generator", "constraints"):
            rt.add_column(h, overflow="fold")
        for col in t["columns"]:
            cons = []
            if col["unique"]:
                cons.append("unique")
            if col["nullable"]:
                cons.append(f"nullable ({col['null_rate']:.0%} null)" if col["null_rate"] else "nullable")
            if col["min"] is not None or col["max"] is not None:
                cons.append(f"[{col['min'] if col['min'] is not None else ''}..{col['max'] if col['max'] is not None else ''}]")
            if col["allowed"]:
                cons.append("in {" + ", ".join(map(str, col["allowed"][:6])) + ("…" if len(col["allowed"]) > 6 else "") + "}")
            if col["pattern"]:
                cons.append(f"pattern {col['pattern']}")
            if col["max_length"]:
                cons.append(f"≤ {col['max_length']} chars")
            rt.add_row(*(escape(str(x)) for x in (col["name"], col["type"], col["generator"], ", ".join(cons))))
        c.print(rt)
    if info["foreign_keys"]:
        c.print("[bold]foreign keys[/]")
        for e in info["foreign_keys"]:
            extra = []
            if e["skew"]:
                extra.append("skewed")
            if e["nullable"]:
                extra.append("nullable")
            if e["self_reference"]:
                extra.append("self-reference (earlier row)")
            if e["owner"]:
                extra.append("owning parent (rows.per)")
            c.print(escape(f"  {e['table']}.{e['column']} → {e['parent']}.{e['parent_column']}"
                           + (f"  ({', '.join(extra)})" if extra else "")))
    c.print("[bold]feasibility[/]")
    if not info["feasibility"]:
        c.print("  no unique columns or bounded domains to check")
    for f in info["feasibility"]:
        mark = "[green]ok[/]" if f["ok"] else "[red]INFEASIBLE[/]"
        c.print(f"  {mark} {escape(f['message'])}")
    c.print(f"total: {info['total_rows']:,} rows, ~{human_bytes(info['estimated_bytes'])} as {info['format']}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --- the app ----------------------------------------------------------------------------------

SchemaOpt = typer.Option(None, "--schema", "-s", help="Schema file (YAML or JSON). Default: schemas/examples/default.yaml.")
OutOpt = typer.Option(None, "--out", "-o", help="Output folder. Default: out/<schema name>/<format>/.")
SeedOpt = typer.Option(None, "--seed", help="Root seed (default: the schema's seed).")
RowsOpt = typer.Option(None, "--rows", help="TABLE=N row override; repeat for several tables.")
ScaleOpt = typer.Option(None, "--scale", help="Multiply every table's rows (at least 1 each); --rows wins.")
ProfileOpt = typer.Option(None, "--profile", help="fast | realistic | dirty (default: the schema's profile).")
DebugOpt = typer.Option(False, "--debug", help="Show tracebacks of errors.")
HugeOpt = typer.Option(False, "--allow-huge",
                       help="Allow a plan above the size cap (rows x columns > DATAGEN_MAX_CELLS, default 5e9).")


@dataclass(frozen=True)
class ExtraOption:
    """An extra ``generate`` option of one frontend (e.g. the event stream's ``--rate``).

    ``name`` is the keyword its value arrives under in ``GenerateRequest.extra``, ``type`` the
    Python type typer converts to, ``option`` the ``typer.Option(default, "--flag", help=…)``.
    """

    name: str
    type: Any
    option: Any


@dataclass
class GenerateRequest:
    """What ``generate`` was asked for, handed to a frontend's ``generate_handler``."""

    plan: Any
    fmt: Any
    format_name: str
    out: str | None  # --out as given (None: the default folder)
    workers: int
    force: bool
    options: dict[str, Any]  # --option values, already checked by the format
    quiet: bool
    extra: dict[str, Any] = field(default_factory=dict)  # values of the ExtraOptions


def _add_options(func: Callable, extras: Sequence[ExtraOption]) -> Callable:
    """Give a command function (which takes ``**extra``) one keyword parameter per extra option."""
    sig = inspect.signature(func, eval_str=True)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in params}
    for o in extras:
        if o.name in taken:
            raise ValueError(f"extra option {o.name!r} clashes with a built-in parameter")
        taken.add(o.name)
        params.append(inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.option, annotation=o.type))
    func.__signature__ = sig.replace(parameters=params)
    func.__annotations__ = {**func.__annotations__, **{o.name: o.type for o in extras}}
    return func


def build_app(fmt, formats: tuple[str, ...] | None = None, *,
              extra_generate_options: Sequence[ExtraOption] = (),
              generate_handler: Callable[[GenerateRequest], bool] | None = None) -> typer.Typer:
    """The typer app of one frontend: describe, generate, validate over the shared library.

    A frontend may add options of its own to ``generate`` (``extra_generate_options``) and a
    ``generate_handler(request) -> bool`` that runs once the plan is resolved, before anything is
    written: returning True means it handled the request (e.g. streamed to stdout), so no files
    are written; False continues with the usual generation into ``--out``.
    """
    formats = formats or (fmt.name,)
    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                      help=f"datagen {fmt.name} frontend: describe, generate and validate datasets.")

    @app.command()
    def describe(
        format: str = typer.Option(None, "--format", "-f", help=f"One of: {', '.join(formats)}."),
        schema: str = SchemaOpt, seed: int = SeedOpt, rows: list[str] = RowsOpt, scale: float = ScaleOpt,
        profile: str = ProfileOpt,
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        allow_huge: bool = HugeOpt,
        debug: bool = DebugOpt,
    ) -> None:
        """Print the plan: tables, rows, columns, generators, keys, order, size and feasibility."""
        from shared import api

        with guard(debug):
            name = check_format(format, formats, fmt.name)
            plan = load_and_plan(schema, seed, rows, scale, profile, allow_huge=allow_huge)
            info = api.describe(plan, fmt.variant(name) if hasattr(fmt, "variant") else fmt)
            if as_json:
                print_json(info)
            else:
                render_describe(info)

    def generate(
        format: str = typer.Option(None, "--format", "-f", help=f"One of: {', '.join(formats)}."),
        schema: str = SchemaOpt, out: str = OutOpt, seed: int = SeedOpt, rows: list[str] = RowsOpt,
        scale: float = ScaleOpt, profile: str = ProfileOpt,
        workers: int = typer.Option(None, "--workers", "-w", help="Worker processes (default: the number of cores)."),
        block_rows: int = typer.Option(None, "--block-rows", help="Rows per block (default 65536); never changes values."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty --out that datagen did not write."),
        option: list[str] = typer.Option(None, "--option", help="Format option KEY=VALUE; repeatable."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
        allow_huge: bool = HugeOpt,
        debug: bool = DebugOpt,
        **extra: Any,
    ) -> None:
        """Generate the dataset into --out (atomically replaced), with a manifest.json."""
        from shared import api

        with guard(debug):
            name = check_format(format, formats, fmt.name)
            the_fmt = fmt.variant(name) if hasattr(fmt, "variant") else fmt
            opts = parse_options(option)
            if hasattr(the_fmt, "check_options"):
                opts = the_fmt.check_options(opts)
            n_workers = resolve_workers(workers)
            plan = load_and_plan(schema, seed, rows, scale, profile, block_rows, allow_huge=allow_huge)
            if generate_handler is not None and generate_handler(GenerateRequest(
                    plan=plan, fmt=the_fmt, format_name=name, out=out, workers=n_workers, force=force,
                    options=opts, quiet=quiet, extra=dict(extra))):
                return
            target = Path(out) if out else api.default_out(plan.schema.name, name)
            manifest = api.generate(plan, the_fmt, target, workers=n_workers, force=force, options=opts)
            if not quiet:
                total = sum(manifest["rows"].values())
                secs = manifest["timings"]["total_s"]
                size = sum(f["bytes"] for f in manifest["files"])
                print(f"wrote {total:,} rows in {len(manifest['files'])} file(s), {human_bytes(size)}, "
                      f"to {target} in {secs:.2f} s ({total / max(secs, 1e-9):,.0f} rows/s)")

    app.command()(_add_options(generate, extra_generate_options))

    @app.command()
    def validate(
        format: str = typer.Option(None, "--format", "-f", help=f"One of: {', '.join(formats)}."),
        schema: str = SchemaOpt, out: str = OutOpt,
        report: str = typer.Option(None, "--report", help="Where to write the report (default: <out>/validation_report.json)."),
        strict: bool = typer.Option(False, "--strict", help="Injected (dirty-profile) violations fail too."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of a table."),
        allow_huge: bool = typer.Option(False, "--allow-huge", help="Re-plan the run past the size cap (needed only "
                                        "for output whose manifest does not record --allow-huge)."),
        debug: bool = DebugOpt,
    ) -> None:
        """Check the artifacts in --out against the schema; write validation_report.json; exit 0/1."""
        from shared import api
        from shared.validation.runner import REPORT, validate_output, write_report

        with guard(debug):
            name = check_format(format, formats, fmt.name)
            the_fmt = fmt.variant(name) if hasattr(fmt, "variant") else fmt
            path = schema or str(api.DEFAULT_SCHEMA)
            the_schema = api.load_schema(path)
            target = Path(out) if out else api.default_out(the_schema.name, name)
            if not target.is_dir():
                raise UsageError(f"--out {target}: no such folder to validate (generate first, or pass --out)")
            rep = validate_output(the_schema, the_fmt, target, strict=strict, allow_huge=allow_huge)
            report_path = Path(report) if report else target / REPORT
            try:
                write_report(rep, report_path)
            except OSError as exc:
                from shared.errors import OutputError

                raise OutputError(f"--report {report_path}: cannot write the report: {exc.strerror}") from None
            if as_json:
                print_json(rep)
            else:
                render_report(rep, report_path)
            if rep["status"] != "pass":
                raise typer.Exit(1)

    return app


def render_report(rep: dict[str, Any], path: Path, console: Console | None = None) -> None:
    """A short summary: one row per check kind, then every check that did not pass."""
    c = console or _out
    kinds: dict[str, dict[str, int]] = {}
    for chk in rep["checks"]:
        kinds.setdefault(chk["kind"], {"pass": 0, "fail": 0, "warning": 0, "skipped": 0})
        kinds[chk["kind"]][chk["status"]] = kinds[chk["kind"]].get(chk["status"], 0) + 1
    rt = RichTable(title=escape(f"validation of {rep['output']} ({rep['format']})"), title_justify="left")
    for h in ("check", "passed", "failed", "warnings", "skipped"):
        rt.add_column(h, justify="left" if h == "check" else "right")
    for kind, n in kinds.items():
        failed = f"[bold red]{n['fail']}[/]" if n["fail"] else "0"
        rt.add_row(escape(kind), str(n["pass"]), failed, str(n["warning"]), str(n["skipped"]))
    c.print(rt)
    style = {"fail": "bold red", "warning": "yellow", "skipped": "dim"}
    for chk in rep["checks"]:
        st = chk["status"]
        if st == "pass":
            continue
        where = ".".join(x for x in (chk.get("table"), chk.get("column")) if x)
        sample = f" e.g. {chk['sample'][:3]}" if chk.get("sample") else ""
        text = escape(f"{chk['kind']} {where}: {chk.get('message', '')}{sample}")
        c.print(f"[{style.get(st, '')}]{st.upper()}[/] {text}", markup=True)
    s = rep["summary"]
    c.print(f"{rep['status'].upper()}: {s['passed']} passed, {s['failed']} failed, {s['warnings']} warnings, "
            f"{s['skipped']} skipped — report: {escape(str(path))}")


def parse_options(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise UsageError(f"--option {item!r}: expected KEY=VALUE")
        out[k.strip()] = v
    return out


def main(app: typer.Typer) -> None:
    """Run a frontend app; the exit code passes through."""
    os.environ.setdefault("PYTHONHASHSEED", "0")
    app()
