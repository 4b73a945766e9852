"""The layer contract, read from the source (every ``import``, at module level or inside a function):

    datagen (the public face, the command line)
      └─▶ generators/<format> (frontends; generators/common is shared by them, no frontend imports another)
            └─▶ csv_generator (the CSV package: no shared/, no frontend)
      └─▶ shared/cli ─▶ shared/api, shared/validation ─▶ shared/schema_dsl (loader, planner, engine)
            ─▶ shared/distributions, relationships, corruption, constraints ─▶ shared/model
            (schema objects, types, time, the expression language) ─▶ shared/io, errors, registry

* ``shared`` never imports a frontend, ``datagen`` or the CSV package;
* the engine and everything below it import no typer, rich, orjson, sqlite3, fastparquet or
  pyarrow's file writers (format knowledge lives in the frontends);
* no cycle between the packages of ``shared`` and no cycle between modules anywhere.

``__main__`` modules are entry points (``python -m …``), above every layer, and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("shared", "generators", "datagen", "csv_generator")

#: the order of shared's packages, bottom first: a package may import only those before it
SHARED_LAYERS = (
    ("shared", "shared.errors", "shared.registry", "shared.resources", "shared.plugins", "shared.io"),
    ("shared.model",),
    ("shared.constraints", "shared.distributions", "shared.relationships", "shared.corruption", "shared.anomalies"),
    ("shared.schema_dsl",),
    ("shared.formats", "shared.validation"),
    ("shared.api", "shared.docs_gen"),
    ("shared.cli",),
)
ENGINE = ("shared.io", "shared.model", "shared.constraints", "shared.distributions", "shared.relationships",
          "shared.corruption", "shared.anomalies", "shared.schema_dsl")
FORBIDDEN_IN_ENGINE = ("typer", "rich", "orjson", "sqlite3", "fastparquet", "pyarrow.parquet", "pyarrow.csv",
                       "pyarrow.json", "generators", "datagen", "csv_generator")


def _modules() -> dict[str, Path]:
    out = {}
    for top in SOURCES:
        for p in (ROOT / top).rglob("*.py"):
            parts = p.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = p
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _own(name: str) -> str | None:
    """The project module an imported name belongs to (None: a third-party or stdlib name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


GRAPH = {m: {o for o in (_own(n) for n in _imports(p)) if o and o != m} for m, p in MODULES.items()}
RAW = {m: _imports(p) for m, p in MODULES.items()}


def _shared_package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def _layer(pkg: str) -> int:
    for i, names in enumerate(SHARED_LAYERS):
        if pkg in names:
            return i
    raise AssertionError(f"{pkg} has no place in SHARED_LAYERS: add it to the contract")


def test_every_shared_package_has_a_layer():
    for m in MODULES:
        if m.split(".")[0] == "shared":
            _layer(_shared_package(m))


def test_shared_packages_import_only_lower_layers():
    bad = []
    for m, deps in GRAPH.items():
        if m.split(".")[0] != "shared":
            continue
        for d in deps:
            if d.split(".")[0] != "shared":
                bad.append(f"{m} imports {d} (outside shared/)")
                continue
            a, b = _shared_package(m), _shared_package(d)
            if a != b and _layer(b) > _layer(a):
                bad.append(f"{m} imports {d}: {b} sits above {a}")
            if a != b and _layer(b) == _layer(a) and a != "shared" and b != "shared":
                # same layer: allowed one way only; a pair importing each other is a cycle (below)
                pass
    assert not bad, "\n".join(sorted(bad))


@pytest.mark.parametrize("forbidden", FORBIDDEN_IN_ENGINE)
def test_the_engine_knows_no_format_or_frontend(forbidden):
    bad = sorted(f"{m} imports {n}" for m, names in RAW.items() if _shared_package(m) in ENGINE
                 for n in names if n == forbidden or n.startswith(forbidden + "."))
    assert not bad, "\n".join(bad)


def test_no_frontend_imports_another():
    bad = []
    for m, deps in GRAPH.items():
        parts = m.split(".")
        if parts[0] != "generators" or len(parts) < 2:
            continue
        for d in deps:
            dp = d.split(".")
            if dp[0] == "generators" and len(dp) > 1 and dp[1] not in (parts[1], "common"):
                bad.append(f"{m} imports {d}")
            if dp[0] == "datagen":
                bad.append(f"{m} imports {d} (a frontend is below the public face)")
    assert not bad, "\n".join(sorted(bad))


def test_the_csv_package_stands_alone():
    bad = sorted(f"{m} imports {d}" for m, deps in GRAPH.items() if m.split(".")[0] == "csv_generator"
                 for d in deps if d.split(".")[0] != "csv_generator")
    assert not bad, "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_module_cycle():
    assert _cycles(GRAPH) == []


def test_no_cycle_between_shared_packages():
    pkgs: dict[str, set[str]] = {}
    for m, deps in GRAPH.items():
        if m.split(".")[0] != "shared":
            continue
        a = _shared_package(m)
        pkgs.setdefault(a, set()).update(_shared_package(d) for d in deps
                                         if d.split(".")[0] == "shared" and _shared_package(d) != a)
    assert _cycles(pkgs) == []


def test_the_walk_sees_the_code():
    """The contract is checked on real edges, not on an empty graph."""
    assert "shared.schema_dsl.engine" in GRAPH and "shared.distributions.base" in GRAPH["shared.schema_dsl.engine"] \
        or any(d.startswith("shared.distributions") for d in GRAPH["shared.schema_dsl.engine"])
    assert any(d.startswith("shared.") for d in GRAPH["datagen.api"])


def test_the_type_checker_passes(tmp_path):
    """``make lint`` runs mypy over shared/ and datagen/ (pyproject's [tool.mypy]); the suite runs it
    too, so CI keeps the annotations honest."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")], cwd=ROOT,
                       capture_output=True, text=True, check=False, timeout=600)
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-2000:]
    assert "Success: no issues found" in r.stdout
