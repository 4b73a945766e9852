"""Every example schema × every format: generate, then validate passes (exit 0, status pass).

The lists come from the registries, so a new format or generator cannot silently skip a matrix:
the formats from ``shared.formats.FORMATS`` (each run through its own frontend when it is a
built-in, else through the ``datagen`` command), and tests below that fail when a registered
format has no conformance suite or a registered generator no addressability case.
"""

from __future__ import annotations

import importlib
import json

import pytest

import datagen  # noqa: F401  (registers the built-in formats)
from generators import BUILTIN_FORMATS
from shared.distributions.base import load_builtins
from shared.formats import FORMATS
from tests.conformance import FormatConformance
from tests.helpers import EXAMPLES, file_formats

FORMAT_NAMES = sorted(FORMATS)
#: the matrix runs the formats that write files; a database target runs every example in each of
#: its modes in its own module (tests/test_format_postgres.py), checked below
FILE_FORMATS = file_formats()


def app_module(fmt: str) -> str:
    """The command line that writes ``fmt``: its frontend package, or the ``datagen`` command."""
    module = BUILTIN_FORMATS.get(fmt)
    return f"{module.rsplit('.', 1)[0]}.__main__" if module else "datagen.cli"


@pytest.mark.parametrize("fmt", FILE_FORMATS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_generate_then_validate(example, fmt, tmp_path, runner):
    app = importlib.import_module(app_module(fmt)).app
    out = tmp_path / "out"
    res = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(example), "--out", str(out), "-q",
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(example), "--out", str(out), "--json"])
    report = json.loads((out / "validation_report.json").read_text())
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert res.exit_code == 0 and report["status"] == "pass", failed[:5]


def test_every_database_target_runs_every_example():
    """The formats the matrix leaves out are database targets with their own example matrix."""
    from tests import test_format_postgres

    databases = set(FORMAT_NAMES) - set(FILE_FORMATS)
    assert databases == {"postgres"}, databases
    assert hasattr(test_format_postgres, "test_every_example_loads_in_each_mode_and_validates")


def _subclasses(cls) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def test_every_registered_format_runs_the_conformance_suite():
    """A format added to the registry without a ``FormatConformance`` subclass fails here."""
    for name in FORMAT_NAMES:
        for module in (f"tests.test_format_{name}", f"tests.test_{name}"):  # delta's: tests/test_delta.py
            try:
                importlib.import_module(module)
                break
            except ModuleNotFoundError:
                pass  # its suite may live in another format's module (ndjson beside json)
    importlib.import_module("tests.test_format_json")
    covered = {c.FORMAT for c in _subclasses(FormatConformance) if c.FORMAT and c.__name__.startswith("Test")}
    assert covered == set(FORMAT_NAMES), f"without a conformance suite: {sorted(set(FORMAT_NAMES) - covered)}"


#: generators whose row addressability is proven outside the per-module ``CASES`` tables
ADDRESSABLE_ELSEWHERE = {
    "expr": "tests/test_expr.py::test_random_draws_are_addressable_per_row",
    "arrivals": "tests/test_generators_temporal.py::test_arrivals_addressable_given_total",
    "fk": "tests/test_engine.py::test_rows_batch_addressable",
    "template": "tests/test_generators_text.py::test_addressable[template]",
    "switch": "tests/test_switch.py::test_the_same_values_at_any_block_size",
    "random_walk": "tests/test_random_walk.py::test_one_row_blocks_agree",
    "struct": "tests/test_nested.py::test_struct_fields_are_addressable",
    "list": "tests/test_nested.py::test_list_items_are_addressable",
    "learned": "tests/test_fit_deep.py::test_the_bytes_depend_on_the_seed_not_on_blocks_or_workers",
}


def test_every_registered_generator_has_an_addressability_case():
    """The generator tests keep their own parameter tables (each generator needs its own
    params); together they must name exactly the registered generators."""
    from tests import test_generators_keys, test_generators_numeric, test_generators_temporal, test_generators_text

    covered = ({c[0] for c in test_generators_keys.CASES} | {c[0] for c in test_generators_numeric.CASES}
               | {c[0] for c in test_generators_temporal.CASES}
               | {gen for gen, _params, _unique in test_generators_text.CASES.values()})
    assert not covered & set(ADDRESSABLE_ELSEWHERE)
    assert covered | set(ADDRESSABLE_ELSEWHERE) == set(load_builtins())
