"""What the command line (``datagen.cli``) is built from: the shared options, the request a
format's own generate option receives, rendering, and exit codes.

Every command body runs inside ``guard()``, the one place that maps exceptions to exit codes:

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
import json
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from shared.errors import DatagenError, UsageError


def _console() -> Console:
    """Standard output's console, made when used: its width follows ``COLUMNS`` and the terminal
    as they are now, not as they were when this module was imported."""
    return Console(highlight=False, soft_wrap=True)


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
    except Exception as exc:  # an unexpected failure: one line, the traceback only with --debug
        if debug:
            traceback.print_exc()
        from shared.io.oslimits import describe_os_error

        ran_out = describe_os_error(exc)  # memory, file descriptors, processes
        if ran_out is not None:
            print(f"error: {ran_out}", file=sys.stderr)
            raise typer.Exit(3) from None
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
    c = console or _console()
    s = info["schema"]
    c.print(f"[bold]{escape(s['name'])}[/] — {escape(s.get('description') or '')}")
    c.print(escape(f"schema {s['path']} (sha256 {s['sha256'][:12]}…), seed {info['seed']}, profile {info['profile']}, "
                   f"format {info['format']}, anchor {info['anchor']}"))
    c.print(escape(f"generation order: {' → '.join(info['order'])}"))
    render_plan(info, c)
    for t in info["tables"]:
        rr = t["rows_rule"]
        bounds = f"[{rr.get('min')}, {rr['max'] if rr.get('max') is not None else '∞'}]"
        spread = f"total {rr['total']:,}" + (f" weighted by {rr['distribution']}" if rr["distribution"] else "") \
            if rr.get("total") is not None else rr.get("distribution")
        how = (f"per {rr['per']}: {spread} in {bounds}"
               if "per" in rr else ("override" if rr.get("override") else
                                    f"coverage {rr['coverage']:g} of {rr['of']}" if "of" in rr else
                                    (f"scale {rr['scale']}" if rr.get("scale") else "fixed")))
        title = f"{t['name']} — {t['rows']:,} rows ({how}), ~{human_bytes(t['estimated_bytes'])}"
        if t.get("table_scale") is not None:
            title += f", table-scale ×{t['table_scale']:g}"
        if t.get("excluded"):
            title += ", EXCLUDED (planned, not written)"
        if t["primary_key"]:
            title += f", primary key ({', '.join(t['primary_key'])})"
        if t["unique"]:
            title += ", unique " + "; ".join("(" + ", ".join(g) + ")" for g in t["unique"])
        if t["events"]:
            title += f", events by {t['events']['time']}"
        if t.get("partition_by"):
            title += f", partitioned by {', '.join(t['partition_by'])}"
        if t.get("indexes"):
            title += ", indexes " + "; ".join(("unique " if ix["unique"] else "") + f"{ix['name']} ("
                                              + ", ".join(ix["columns"]) + ")" for ix in t["indexes"])
        rt = RichTable(title=escape(title), title_justify="left", show_lines=False)
        for h in ("column", "type", "generator", "constraints"):
            rt.add_column(h, overflow="fold")
        for col in t["columns"]:
            cons = []
            if col["unique"]:
                cons.append("unique")
            if col.get("hidden"):
                cons.append("hidden (not written)")
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
            if col.get("present") is not None:
                cons.append(f"present in {col['present']:.0%}")
            if col.get("length"):
                length = col["length"]
                cons.append(f"{length['min']}..{length['max']} items"
                            + (f" ({length['distribution']})" if length["distribution"] else ""))
            gen = col["generator"]
            if col.get("generator_default"):
                gen = f"{gen} (default: {col['generator_default']})"
            rt.add_row(*(escape(str(x)) for x in (col["name"], col["type"], gen, ", ".join(cons))))
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
    if info.get("out"):
        c.print(f"output folder: {escape(info['out'])}")


def render_plan(info: dict[str, Any], console: Console | None = None) -> None:
    """The resolved plan, one row per table: base rows (or the parent they follow), × scale,
    × table-scale, the --rows override, the resulting rows, written or excluded."""
    c = console or _console()
    rt = RichTable(title="resolved plan", title_justify="left")
    for h in ("table", "base rows", "scale", "table-scale", "--rows", "rows", "written"):
        rt.add_column(h, justify="left" if h in ("table", "written") else "right")

    def num(v: Any) -> str:
        return "-" if v is None else (f"{v:,}" if isinstance(v, int) else f"×{v:g}")

    for t in info["tables"]:
        if "base_rows" not in t:  # describe data from before the plan arithmetic
            continue
        base = num(t["base_rows"]) if t["base_rows"] is not None else f"from {t['derived_from']}"
        if t["base_rows"] is not None and t.get("derived_from"):
            base += f" over {t['derived_from']}"
        rt.add_row(*(escape(x) for x in (t["name"], base, num(t["scale"]), num(t["table_scale"]),
                                         num(t["rows_override"]), f"{t['rows']:,}",
                                         "yes" if t["included"] else "excluded")))
    if rt.row_count:
        c.print(rt)
    for m in info.get("missing_parents") or ():
        c.print(escape(f"  {m['table']} references {m['parent']}, which is excluded: appended into a target "
                       f"that already holds it"))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --- the app ----------------------------------------------------------------------------------

SchemaOpt = typer.Option(None, "--schema", "-s", help="Schema file (YAML or JSON). Default: schemas/examples/default.yaml.")
BlueprintOpt = typer.Option(None, "--blueprint", help="A named scenario instead of --schema (see: blueprints list).")
ParamOpt = typer.Option(None, "--param", help="Blueprint parameter KEY=VALUE; repeatable.")
SeedOpt = typer.Option(None, "--seed", help="Root seed (default: the schema's seed).")
RowsOpt = typer.Option(None, "--rows", help="TABLE=N row override; repeat for several tables.")
ScaleOpt = typer.Option(None, "--scale", help="Multiply every table's rows (at least 1 each); --rows wins.")
TableScaleOpt = typer.Option(None, "--table-scale", help="TABLE=F: multiply that table's rows after --scale "
                            "(rounded, at least 1); --rows wins; repeatable.")
IncludeOpt = typer.Option(None, "--include", help="Write only this table (repeatable); the others are planned, "
                          "not written.")
ExcludeOpt = typer.Option(None, "--exclude", help="Do not write this table (repeatable); kept tables keep a full "
                          "run's values. A referenced parent needs --option mode=append.")
ProfileOpt = typer.Option(None, "--profile", help="fast | realistic | dirty (default: the schema's profile).")
DebugOpt = typer.Option(False, "--debug", help="Show tracebacks of errors.")
HugeOpt = typer.Option(False, "--allow-huge",
                       help="Allow a plan above the size cap (rows x columns > DATAGEN_MAX_CELLS, default 5e9).")


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


def render_report(rep: dict[str, Any], path: Path, console: Console | None = None) -> None:
    """A short summary: one row per check kind, then every check that did not pass."""
    c = console or _console()
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
