"""Fuzzing the ``expr`` language: it cannot reach Python.

Random token soups — rich in dunders, dots, brackets, Python keywords and builtins, quotes and
escapes — either parse into an AST made only of the language's own nodes (whitelisted functions,
plain column names, at most one ``fk.col`` hop, no ``__`` anywhere) or raise ``ExprError`` at a
position inside the text. Through the loader, the same soups in a schema raise only
``SchemaError`` located at ``…generator.params.expr``.

Bounded: ``DATAGEN_FUZZ_EXAMPLES`` examples per test (default 200 / 60); ``make fuzz`` raises it.
"""

from __future__ import annotations

import json
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import api
from shared.errors import SchemaError
from shared.model import expr as E

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
NODES = (E.Num, E.Str, E.Bool, E.Name, E.Unary, E.Binary, E.Call)


def fuzz(default: int, weight: float = 1.0) -> settings:
    env = os.environ.get("DATAGEN_FUZZ_EXAMPLES")
    n = max(1, int(int(env) * weight)) if env and env.isdigit() else default
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


FRAGMENTS = [
    "__", "__class__", "__import__", "__globals__", "__builtins__", "__dict__", "__subclasses__", "__mro__",
    "_", ".", "..", "(", ")", "[", "]", "{", "}", ",", ":", ";", "=", "==", "!", "!=", "<", ">", "<=", ">=", "+", "-",
    "*", "**", "/", "//", "%", "&", "|", "^", "~", "@", "`", "\\", "'", '"', "\\x41", "\\u0041", "\\n", "#", "$",
    " ", "\t", "\n", "0", "1", "1.5", "1e3", "1e999", "0x1F", "9" * 25, "a", "b", "x", "fk", "fk.col", "a.b.c",
    "true", "false", "True", "None", "and", "or", "not", "if", "else", "lambda", "import", "from", "os", "sys",
    "eval", "exec", "open", "getattr", "globals", "type", "print", "self", "cls",
] + [f + "(" for f in E.FUNCTIONS] + ["'a'", '"b"', "'", "'\\''", "'\\q'"]

SOUP = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join),
    st.text(max_size=60),
    st.builds(lambda f, a: f"{f}({a})", st.sampled_from(sorted(E.FUNCTIONS)),
              st.lists(st.sampled_from(["a", "b.__class__", "1", "'x'", "a.b", "__x", "x[0]"]), max_size=4)
              .map(", ".join)),
)


def _walk(node):
    yield node
    if isinstance(node, E.Unary):
        yield from _walk(node.operand)
    elif isinstance(node, E.Binary):
        yield from _walk(node.left)
        yield from _walk(node.right)
    elif isinstance(node, E.Call):
        for a in node.args:
            yield from _walk(a)


@fuzz(200)
@given(text=SOUP)
def test_fuzz_expr_soup_parses_to_language_nodes_or_raises_expr_error(text: str):
    try:
        parsed = E.parse_expr(text)
    except E.ExprError as exc:
        assert 0 <= exc.position <= max(len(text), E.MAX_LENGTH)
        assert exc.message
        return
    for node in _walk(parsed.root):
        assert isinstance(node, NODES), type(node)
        if isinstance(node, E.Call):
            assert node.func in E.FUNCTIONS
        if isinstance(node, E.Name):
            assert NAME.fullmatch(node.name), node.name
            assert not any(part.startswith("__") for part in node.name.split(".")), node.name
            assert not set(node.name.split(".")) & E._PY_WORDS, node.name  # no keyword is a name
        if isinstance(node, E.Str):
            assert isinstance(node.value, str)
    # names are only ever looked up as columns of the schema (never as Python objects)
    assert set(parsed.names) == {n.name for n in _walk(parsed.root) if isinstance(n, E.Name)}


SCHEMA = """\
version: 1
name: fz
tables:
  - name: p
    rows: 3
    primary_key: id
    columns:
      - {{name: id, type: int64, generator: sequence}}
      - {{name: col, type: string, generator: {{type: choice, params: {{values: [a, b]}}}}}}
  - name: t
    rows: 3
    columns:
      - {{name: a, type: int64, generator: sequence}}
      - {{name: b, type: float64, generator: {{type: uniform_float, params: {{min: 0, max: 1}}}}}}
      - {{name: fk, type: int64, generator: {{type: fk, params: {{table: p, column: id}}}}}}
      - {{name: x, type: {kind}, generator: {{type: expr, params: {{expr: {expr}}}}}}}
"""


@fuzz(60)
@given(text=SOUP, kind=st.sampled_from(["int64", "float64", "string", "bool", "timestamp"]))
def test_fuzz_expr_in_a_schema_raises_only_schema_errors(text: str, kind: str):
    data = SCHEMA.format(kind=kind, expr=json.dumps(text)).encode("utf-8", "surrogatepass")
    try:
        schema = api.load_schema("fz.yaml", data=data)
    except SchemaError as exc:
        assert exc.problems
        assert all(p.file == "fz.yaml" for p in exc.problems)
        return
    api.resolve_plan(schema)  # a loaded expression also plans
