"""The ``expr`` language (shared.model.expr) and the ``expr`` generator."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.distributions import expr_generator  # noqa: F401  (registers "expr")
from shared.distributions.base import GENERATORS
from shared.errors import SchemaError
from shared.io import rng
from shared.model.expr import (
    FUNCTIONS,
    KINDS,
    MAX_DEPTH,
    MAX_LENGTH,
    US_PER_DAY,
    Binary,
    Bool,
    Call,
    ExprError,
    Name,
    Num,
    Str,
    Unary,
    evaluate,
    evaluate_typed,
    infer_kind,
    is_assignable,
    parse_expr,
)
from shared.model.schema import Column, GeneratorSpec, Schema, Source, Table, freeze
from shared.model.types import parse_type
from shared.schema_dsl.context import ColumnContext
from shared.schema_dsl.loader import link_references
from tests.gen_helpers import run
from tests.helpers import int_expr_reference

HOUR = 3_600_000_000
TS0 = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z


# --- helpers ------------------------------------------------------------------------------------


def sx(node) -> str:
    """An s-expression of the AST, to check structure independent of positions."""
    if isinstance(node, Num | Str | Bool):
        return repr(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        return f"({node.op} {sx(node.operand)})"
    if isinstance(node, Binary):
        return f"({node.op} {sx(node.left)} {sx(node.right)})"
    return f"({node.func} {' '.join(sx(a) for a in node.args)})"


class ArrayEnv:
    """An evaluation environment over whole columns, addressed by absolute row index.

    Its draws are a pure function of (purpose, row): ``rng.uniform(key(purpose), rows)``.
    """

    def __init__(self, columns: dict, kinds: dict, rows=None, seed: int = 11):
        self.columns = columns
        self.kinds = kinds
        first = next(iter(columns.values()), None)
        total = len(first) if first is not None else 16
        self.rows = np.arange(total, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        self.n = len(self.rows)
        self.seed = seed
        self.purposes: list[str] = []

    def block(self, rows) -> ArrayEnv:
        return ArrayEnv(self.columns, self.kinds, rows, self.seed)

    def ref(self, name):
        col = self.columns[name]
        if isinstance(col, pa.Array):
            return col.take(pa.array(self.rows))
        return np.asarray(col)[self.rows]

    def kind(self, name):
        return self.kinds[name]

    def key(self, purpose):
        self.purposes.append(purpose)
        return rng.stream_key(self.seed, "t", "c", purpose)

    def uniform(self, purpose):
        return rng.uniform(self.key(purpose), self.rows)

    def normal(self, purpose):
        return rng.normal(self.key(purpose), self.rows)


def ev(text, **cols):
    """Evaluate over columns given as numpy arrays / pyarrow strings, kinds taken from their dtypes."""
    kinds = {}
    for name, v in cols.items():
        if isinstance(v, tuple):  # (values, kind)
            cols[name], kinds[name] = v
        elif isinstance(v, pa.Array):
            kinds[name] = "string"
        else:
            kinds[name] = {"i": "int", "f": "float", "b": "bool"}[np.asarray(v).dtype.kind]
    return evaluate(text, ArrayEnv(cols, kinds))


def err(text, kinds=None) -> ExprError:
    with pytest.raises(ExprError) as info:
        if kinds is None:
            parse_expr(text)
        else:
            infer_kind(parse_expr(text), kinds)
    return info.value


A = np.array([5, -7, 0, 12, 3, -1], dtype=np.int64)
B = np.array([2, 3, 0, -5, 3, 4], dtype=np.int64)
X = np.array([1.5, -2.25, 0.0, 10.75, 2.5, -0.5])
Y = np.array([0.5, 4.0, 0.0, -2.0, 0.0, 3.0])


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, tree", [
    ("a + b * c", "(+ a (* b c))"),
    ("a * b + c", "(+ (* a b) c)"),
    ("a - b - c", "(- (- a b) c)"),
    ("a / b * c", "(* (/ a b) c)"),
    ("a // b % c", "(% (// a b) c)"),
    ("(a + b) * c", "(* (+ a b) c)"),
    ("-a * b", "(* (- a) b)"),
    ("- -a", "(- (- a))"),
    ("+a", "(+ a)"),
    ("-2", "-2"),
    ("-2.5 * a", "(* -2.5 a)"),
    ("a < b + 1", "(< a (+ b 1))"),
    ("a + 1 >= b * 2", "(>= (+ a 1) (* b 2))"),
    ("not a == b", "(not (== a b))"),
    ("not a and b", "(and (not a) b)"),
    ("a or b and c", "(or a (and b c))"),
    ("a and b or c and d", "(or (and a b) (and c d))"),
    ("a or b or c", "(or (or a b) c)"),
    ("not not a", "(not (not a))"),
    ("(a < b) == c", "(== (< a b) c)"),
    ("a != b and b <= c", "(and (!= a b) (<= b c))"),
    ("if(a > 1, b, c) + 1", "(+ (if (> a 1) b c) 1)"),
    ("min(a, b, c)", "(min a b c)"),
    ("fk.col * 2", "(* fk.col 2)"),
    ("concat('x', \"y\")", "(concat 'x' 'y')"),
    ("true or false", "(or True False)"),
    ("  a\t+\nb  ", "(+ a b)"),
])
def test_precedence_and_associativity(text, tree):
    assert sx(parse_expr(text).root) == tree


@pytest.mark.parametrize("text, value", [
    ("42", 42), ("0", 0), ("007", 7), ("1.5", 1.5), (".5", 0.5), ("2.", 2.0), ("1e3", 1000.0),
    ("1E-2", 0.01), ("2.5e+2", 250.0), ("9223372036854775807", 2**63 - 1),
])
def test_number_literals(text, value):
    root = parse_expr(text).root
    assert isinstance(root, Num) and root.value == value and type(root.value) is type(value)


@pytest.mark.parametrize("text, value", [
    ("'abc'", "abc"), ('"abc"', "abc"), ("''", ""), (r"'it\'s'", "it's"), (r'"a\"b"', 'a"b'),
    (r"'a\\b'", "a\\b"), (r"'x\ny\tz'", "x\ny\tz"), (r"'\u00e9t\u00E9'", "été"), ("'a \"q\" b'", 'a "q" b'),
    ("'ünïcode ✓'", "ünïcode ✓"),
])
def test_string_literals(text, value):
    root = parse_expr(text).root
    assert isinstance(root, Str) and root.value == value


def test_expr_object_names_text_and_positions():
    e = parse_expr("b + quantity * b + customer_id.signup_at - quantity")
    assert e.text == "b + quantity * b + customer_id.signup_at - quantity"
    assert e.names == ("b", "quantity", "customer_id.signup_at")
    assert e.name_positions == (0, 4, 19)
    assert e.position_of("customer_id.signup_at") == 19
    assert e.n_random == 0
    with pytest.raises(AttributeError):
        e.text = "x"  # frozen
    with pytest.raises(AttributeError):
        e.root.op = "-"
    # function names are plain column names when not called
    assert parse_expr("days + round").names == ("days", "round")
    assert parse_expr("1 + 2").names == ()


def test_random_calls_are_numbered_in_source_order():
    e = parse_expr("uniform(0, normal(1, 2)) + exponential(3) * uniform(a, 1)")
    calls = []

    def walk(n):
        if isinstance(n, Call):
            calls.append((n.func, n.rand))
            for a in n.args:
                walk(a)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)

    walk(e.root)
    assert sorted(calls, key=lambda c: c[1]) == [("uniform", 0), ("normal", 1), ("exponential", 2), ("uniform", 3)]
    assert e.n_random == 4
    assert parse_expr("round(a) + min(a, b)").root.left.rand is None


@pytest.mark.parametrize("text", [
    "if(a, b, c)", "days(1)", "hours(1)", "minutes(1)", "seconds(1)", "round(a)", "round(a, 2)",
    "round(a, -1)", "abs(a)", "floor(a)", "ceil(a)", "min(a, b)", "max(a, b, c, d)", "lower(s)", "upper(s)",
    "concat(s)", "concat(s, a, 'x')", "uniform(0, 1)", "normal(0, 1)", "exponential(2)",
])
def test_every_whitelisted_function_parses(text):
    root = parse_expr(text).root
    assert isinstance(root, Call) and root.func in FUNCTIONS


# --- syntax errors: message, position, hint ------------------------------------------------------


@pytest.mark.parametrize("text, pos, fragment", [
    ("", 0, "empty expression"),
    ("   ", 0, "empty expression"),
    ("a +", 3, "end of expression"),
    ("a + * b", 4, "expected a value"),
    ("(a + b", 6, "expected ')'"),
    ("a + b)", 5, "after a complete expression"),
    ("a b", 2, "after a complete expression"),
    ("()", 0, "empty parentheses"),
    ("'abc", 0, "unterminated string"),
    ("'abc\\", 0, "unterminated string"),
    (r"'a\qb'", 2, "unknown escape"),
    (r"'\u12'", 1, "four hex digits"),
    ("a.b.c", 3, "only one '.' hop"),
    ("a.", 2, "expected a column name after '.'"),
    ("a .b", 2, "attribute access"),
    ("x[0]", 1, "'['"),
    ("foo(1)", 0, "unknown function 'foo'"),
    ("x.y(1)", 0, "method calls"),
    ("a.__class__", 2, "'__'"),
    ("__import__('os')", 0, "'__'"),
    ("open('x')", 0, "unknown function 'open'"),
    ("eval('1')", 0, "unknown function 'eval'"),
    ("lambda: 1", 6, "':'"),
    ("lambda x", 0, "'lambda' is not part"),
    ("round(x, ndigits=2)", 16, "'='"),
    ("a = 1", 2, "'='"),
    ("a ** 2", 2, "power"),
    ("a & b", 2, "'&'"),
    ("a !b", 2, "'!'"),
    ("1.2.3", 0, "invalid number"),
    ("3days", 0, "invalid number"),
    ("99999999999999999999", 0, "does not fit in 64 bits"),
    ("1e999", 0, "out of range"),
    ("min(a)", 0, "min() takes at least 2 arguments, got 1"),
    ("round(a, 1, 2)", 0, "round() takes 1 or 2 arguments, got 3"),
    ("if(a, b)", 0, "if() takes 3 arguments, got 2"),
    ("days()", 0, "days() takes 1 argument, got 0"),
    ("concat()", 0, "concat() takes at least 1 argument, got 0"),
    ("uniform(1)", 0, "uniform() takes 2 arguments"),
    ("round(x, y)", 9, "integer literal"),
    ("round(x, 1.5)", 9, "integer literal"),
    ("min(a, b,)", 9, "expected an argument after ','"),
    ("min(a b)", 6, "expected ',' or ')'"),
    ("days(1", 6, "expected ',' or ')'"),
    ("a < b < c", 6, "cannot be chained"),
    ("a == b != c", 7, "cannot be chained"),
    ("if a", 0, "'if' is a function"),
    ("True", 0, "'True' is not part"),
    ("a is b", 2, "'is' is not part"),
    ("x # comment", 2, "'#'"),
    ("a; b", 1, "';'"),
])
def test_syntax_errors_carry_position_and_message(text, pos, fragment):
    e = err(text)
    assert e.position == pos, (e.position, str(e))
    assert fragment in e.message, e.message
    assert str(e).startswith(f"at character {pos}: ")


def test_error_hints_and_exception_tree():
    e = err("roud(x)")
    assert e.hint == "did you mean round()?"
    assert err("uniforn(0, 1)").hint == "did you mean uniform()?"
    assert "known functions" in err("zzz(1)").hint
    assert "==" in err("a = 1").hint
    assert "concat" in err("s + s", {"s": "string"}).hint
    assert isinstance(e, SchemaError)  # part of the one exception tree
    assert "(hint: did you mean round()?)" in e.render()
    import pickle

    back = pickle.loads(pickle.dumps(e))
    assert (back.message, back.position, back.hint) == (e.message, e.position, e.hint)


TOO_LONG = "expression is too long"
TOO_DEEP = f"expression is nested too deeply (more than {MAX_DEPTH} levels)"


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", "names starting with '__' are not allowed"), ("a.b.c", "only one '.' hop is allowed"),
    ("x[0]", "unexpected '['"), ("lambda x: x", "unexpected ':'"), ("foo(1)", "unknown function 'foo'"),
    ("a.__class__", "names starting with '__' are not allowed"), ("open('x')", "unknown function 'open'"),
    ("(" * 5000 + "1" + ")" * 5000, TOO_LONG),
    ("-" * 9000 + "1", TOO_DEEP),
    ("not " * 2400 + "a", TOO_DEEP),
    ("1+" * 4999 + "1", TOO_DEEP),
    ("min(" * 2500 + "1" + ")" * 2500, TOO_LONG),
    ("f(" * 3000, "unknown function 'f'"),
    ("a" * (MAX_LENGTH + 1), TOO_LONG),
    ("1 + " * 5000, TOO_LONG),
    ("'" + "x" * 20000 + "'", TOO_LONG),
    ("[" * 10000, "unexpected '['"),
])
def test_refused_constructs_fail_early_with_expr_error(text, message):
    """Refused with the right message where a cap is reached, not after reading the whole text:
    a length bomb before any token (at MAX_LENGTH), a nesting bomb within MAX_DEPTH operators
    (each at most 4 characters: ``not ``), so the work does not grow with the input."""
    with pytest.raises(ExprError) as info:  # never RecursionError or anything else
        parse_expr(text)
    e = info.value
    assert e.message.startswith(message), e.message
    if message == TOO_LONG:
        assert len(text) > MAX_LENGTH and e.position == MAX_LENGTH
    elif message == TOO_DEEP:
        assert e.position <= 4 * (MAX_DEPTH + 1), e.position


def test_length_and_depth_caps():
    ok = "a" * MAX_LENGTH  # one long column name is fine
    assert parse_expr(ok).names == (ok,)
    e = err("a" * (MAX_LENGTH + 1))
    assert e.position == MAX_LENGTH and "too long" in e.message
    # MAX_DEPTH - 1 nested parentheses parse, deeper ones do not
    assert parse_expr("(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1)).root.value == 1
    assert "nested too deeply" in err("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)).message
    # long operator chains are bounded by the same cap (every level must stay evaluable without deep recursion)
    parse_expr("+".join(["a"] * (MAX_DEPTH + 1)))
    assert "nested too deeply" in err("+".join(["a"] * (MAX_DEPTH + 2))).message
    assert "nested too deeply" in err("abs(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)).message


def test_parse_rejects_non_strings():
    with pytest.raises(ExprError):
        parse_expr(None)  # type: ignore[arg-type]


# --- static typing ------------------------------------------------------------------------------

KINDS_IN = {"i": "int", "j": "int", "f": "float", "d": "decimal", "b": "bool", "s": "string", "u": "uuid",
            "dt": "date", "dt2": "date", "ts": "timestamp", "ts2": "timestamp"}


@pytest.mark.parametrize("text, kind", [
    ("i + j", "int"), ("i - j * 2", "int"), ("i + f", "float"), ("i / j", "float"), ("i // j", "int"),
    ("i % j", "int"), ("f // 2", "float"), ("i % f", "float"), ("d * i", "float"), ("-i", "int"), ("-d", "float"),
    ("1", "int"), ("1.0", "float"), ("'x'", "string"), ("true", "bool"),
    ("ts + days(1)", "timestamp"), ("days(1) + ts", "timestamp"), ("ts - hours(2.5)", "timestamp"),
    ("dt + days(1)", "date"), ("days(1) + dt", "date"), ("dt - days(3)", "date"),
    ("ts - ts2", "duration"), ("dt - dt2", "duration"), ("days(1) + hours(2)", "duration"),
    ("days(1) - minutes(i)", "duration"), ("days(1) * 2.5", "duration"), ("2 * hours(1)", "duration"),
    ("-seconds(f)", "duration"), ("(ts - ts2) / days(1)", "float"),
    ("i < f", "bool"), ("ts >= ts2", "bool"), ("dt == dt2", "bool"), ("s == u", "bool"), ("s < 'm'", "bool"),
    ("b == true", "bool"), ("b != b", "bool"), ("days(1) > hours(1)", "bool"),
    ("b and not b or i > 0", "bool"),
    ("if(b, i, j)", "int"), ("if(b, i, f)", "float"), ("if(b, ts, ts2)", "timestamp"), ("if(b, s, 'x')", "string"),
    ("if(i > 0, dt, dt2)", "date"), ("if(b, b, false)", "bool"),
    ("round(f)", "int"), ("round(f, 2)", "float"), ("round(i, -1)", "int"), ("round(i)", "int"),
    ("abs(f)", "float"), ("abs(i)", "int"), ("abs(ts - ts2)", "duration"), ("floor(f)", "int"), ("ceil(d)", "int"),
    ("min(i, f)", "float"), ("max(i, j, 3)", "int"), ("min(ts, ts2)", "timestamp"), ("max(dt, dt2)", "date"),
    ("max(days(1), hours(i))", "duration"),
    ("lower(s)", "string"), ("upper(u)", "string"), ("concat(i, s, ts, b, dt, f)", "string"),
    ("uniform(0, 1)", "float"), ("normal(i, f)", "float"), ("exponential(3)", "float"),
    ("ts + days(exponential(30))", "timestamp"),
])
def test_infer_kind(text, kind):
    assert infer_kind(parse_expr(text), KINDS_IN) == kind
    assert kind in KINDS


@pytest.mark.parametrize("text, pos, fragment", [
    ("ts + s", 3, "cannot add timestamp and string"),
    ("ts + 1", 3, "cannot add timestamp and int"),
    ("s + s", 2, "cannot add string and string"),
    ("ts - dt", 3, "cannot subtract date from timestamp"),
    ("ts + ts2", 3, "cannot add timestamp and timestamp"),
    ("dt * 2", 3, "cannot multiply date by int"),
    ("days(1) / 2", 8, "cannot divide duration by int"),
    ("b + 1", 2, "cannot add bool and int"),
    ("s % 2", 2, "remainder"),
    ("i and b", 2, "'and' needs bool operands, got int and bool"),
    ("b or s", 2, "'or' needs bool operands"),
    ("not i", 0, "'not' needs a bool operand"),
    ("-s", 0, "cannot negate string"),
    ("-dt", 0, "cannot negate date"),
    ("ts < dt", 3, "cannot compare timestamp with date"),
    ("b < b", 2, "cannot compare bool with bool"),
    ("s == 1", 2, "cannot compare string with int"),
    ("if(i, 1, 2)", 3, "if() needs a bool condition, got int"),
    ("if(b, 1, 's')", 0, "if() branches must have the same kind, got int and string"),
    ("lower(i)", 0, "lower() needs a string"),
    ("days(ts)", 0, "days() needs a number"),
    ("round(s)", 0, "round() needs a number"),
    ("floor(ts)", 0, "floor() needs a number"),
    ("min(ts, dt)", 0, "min() needs numbers, or timestamps"),
    ("max(s, s)", 0, "max() needs numbers"),
    ("uniform(s, 1)", 0, "uniform() needs numbers"),
    ("1 + (2 * (ts + s))", 13, "cannot add timestamp and string"),
    ("nope + 1", 0, "unknown name 'nope'"),
])
def test_type_errors_carry_position(text, pos, fragment):
    e = err(text, KINDS_IN)
    assert e.position == pos, (e.position, str(e))
    assert fragment in e.message, e.message


def test_type_error_hints():
    assert "days(n)" in err("ts + 1", KINDS_IN).hint
    assert "did you mean 'ts'?" == err("tss + days(1)", KINDS_IN).hint
    assert "and" in err("i and b", KINDS_IN).hint


def test_infer_kind_accepts_text_and_rejects_unknown_column_kind():
    assert infer_kind("a + 1", {"a": "int"}) == "int"
    assert "cannot read" in err("a", {"a": "blob"}).message


@pytest.mark.parametrize("expr_kind, column_kind, ok", [
    ("int", "int", True), ("int", "float", True), ("int", "decimal", True), ("float", "int", True),
    ("float", "decimal", True), ("timestamp", "timestamp", True), ("timestamp", "date", True),
    ("date", "date", True), ("date", "timestamp", True), ("string", "string", True), ("string", "uuid", True),
    ("bool", "bool", True),
    ("int", "bool", False), ("bool", "int", False), ("string", "int", False), ("int", "string", False),
    ("duration", "int", False), ("duration", "timestamp", False), ("timestamp", "int", False),
    ("float", "timestamp", False), ("date", "string", False), ("nonsense", "int", False),
])
def test_is_assignable(expr_kind, column_kind, ok):
    assert is_assignable(expr_kind, column_kind) is ok


# --- vectorised evaluation ----------------------------------------------------------------------

pytestmark = pytest.mark.filterwarnings("error")  # evaluation must never warn (x/0, casts, …)


def test_integer_arithmetic_stays_int64():
    out = ev("a + b * 2 - -a", a=A, b=B)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, A + B * 2 + A)
    np.testing.assert_array_equal(ev("a // b", a=A, b=B), np.where(B == 0, 0, A // np.where(B == 0, 1, B)))
    np.testing.assert_array_equal(ev("a % b", a=A, b=B), np.where(B == 0, 0, A % np.where(B == 0, 1, B)))
    np.testing.assert_array_equal(ev("abs(a)", a=A), np.abs(A))
    np.testing.assert_array_equal(ev("min(a, b, 1)", a=A, b=B), np.minimum(np.minimum(A, B), 1))
    np.testing.assert_array_equal(ev("max(a, b)", a=A, b=B), np.maximum(A, B))
    np.testing.assert_array_equal(ev("if(a > b, a, b)", a=A, b=B), np.maximum(A, B))
    assert ev("if(a > b, a, b)", a=A, b=B).dtype == np.int64
    np.testing.assert_array_equal(ev("round(a, -1)", a=A), np.round(A, -1))


def test_float_arithmetic_and_division_by_zero():
    with np.errstate(all="ignore"):
        want_div = np.where(B == 0, np.nan, A / B)
        want_fdiv = np.where(Y == 0, np.nan, X // Y)
        want_mod = np.where(Y == 0, np.nan, X % Y)
    np.testing.assert_array_equal(ev("a / b", a=A, b=B), want_div)
    assert ev("a / b", a=A, b=B).dtype == np.float64
    np.testing.assert_array_equal(ev("x // y", x=X, y=Y), want_fdiv)
    np.testing.assert_array_equal(ev("x % y", x=X, y=Y), want_mod)
    np.testing.assert_allclose(ev("x * 2 + a - y / 4", x=X, a=A, y=Y), X * 2 + A - Y / 4)
    np.testing.assert_array_equal(ev("1 / 0", a=A), np.full(len(A), np.nan))


def test_rounding_functions():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.675, -2.2, 7.9])
    out = ev("round(x)", x=x)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 2, 2, 0, -2, 3, -2, 8])  # half to even, like Python
    np.testing.assert_array_equal(ev("round(x, 1)", x=x), np.round(x, 1))
    np.testing.assert_array_equal(ev("floor(x)", x=x), np.floor(x).astype(np.int64))
    np.testing.assert_array_equal(ev("ceil(x)", x=x), np.ceil(x).astype(np.int64))
    assert ev("floor(x)", x=x).dtype == np.int64
    np.testing.assert_array_equal(ev("abs(x)", x=x), np.abs(x))
    np.testing.assert_array_equal(ev("min(a, x)", a=np.arange(8), x=x), np.minimum(np.arange(8), x))
    np.testing.assert_array_equal(ev("round(1 / 0)", x=x), np.zeros(8, dtype=np.int64))  # NaN → 0, no error


def test_boolean_logic_and_comparisons():
    out = ev("a > 0 and not (b > 0) or a == b", a=A, b=B)
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out, ((A > 0) & ~(B > 0)) | (A == B))
    for op, fn in [("==", np.equal), ("!=", np.not_equal), ("<", np.less), ("<=", np.less_equal),
                   (">", np.greater), (">=", np.greater_equal)]:
        np.testing.assert_array_equal(ev(f"a {op} x", a=A, x=X), fn(A, X))
    flag = A > 0
    np.testing.assert_array_equal(ev("f == true", f=flag), flag)
    np.testing.assert_array_equal(ev("if(f, 1.5, 2)", f=flag), np.where(flag, 1.5, 2.0))


def test_timestamps_dates_and_durations():
    ts = np.array([TS0, TS0 + 7, TS0 - 5 * HOUR, 0], dtype=np.int64)
    ts2 = np.array([TS0 - HOUR, TS0, TS0, -1], dtype=np.int64)
    dt = np.array([19_000, 0, -1, 20_000], dtype=np.int64)
    dt2 = np.array([18_990, 3, -1, 20_000], dtype=np.int64)
    cols = dict(ts=(ts, "timestamp"), ts2=(ts2, "timestamp"), dt=(dt, "date"), dt2=(dt2, "date"))
    np.testing.assert_array_equal(ev("ts + days(1)", **cols), ts + US_PER_DAY)
    np.testing.assert_array_equal(ev("hours(1.5) + ts", **cols), ts + 5400 * 10**6)
    np.testing.assert_array_equal(ev("ts - ts2", **cols), ts - ts2)
    np.testing.assert_array_equal(ev("(ts - ts2) / hours(1)", **cols), (ts - ts2) / HOUR)
    np.testing.assert_array_equal(ev("dt + days(1.5)", **cols), dt + 1)
    np.testing.assert_array_equal(ev("dt + hours(23)", **cols), dt)
    np.testing.assert_array_equal(ev("dt - days(0.5)", **cols), dt - 1)  # the day its midnight lands on
    np.testing.assert_array_equal(ev("dt - days(2)", **cols), dt - 2)
    np.testing.assert_array_equal(ev("dt - dt2", **cols), (dt - dt2) * US_PER_DAY)
    np.testing.assert_array_equal(ev("minutes(2) + seconds(30)", **cols), np.full(4, 150 * 10**6))
    np.testing.assert_array_equal(ev("days(1) * 2.5 - hours(2) * 3", **cols), np.full(4, 60 * HOUR - 6 * HOUR))
    np.testing.assert_array_equal(ev("min(ts, ts2)", **cols), np.minimum(ts, ts2))
    np.testing.assert_array_equal(ev("max(dt, dt2)", **cols), np.maximum(dt, dt2))
    np.testing.assert_array_equal(ev("ts > ts2", **cols), ts > ts2)
    np.testing.assert_array_equal(ev("abs(ts2 - ts)", **cols), np.abs(ts - ts2))
    kind, out = evaluate_typed("ts + days(1)", ArrayEnv({"ts": ts}, {"ts": "timestamp"}))
    assert kind == "timestamp" and out.dtype == np.int64


def test_strings():
    s = pa.array(["Abc", "dEF", "", "ünï"])
    a = np.array([1, -2, 30, 0], dtype=np.int64)
    x = np.array([0.5, 2.0, -1.25, 1e20])
    f = np.array([True, False, True, False])
    assert ev("lower(s)", s=s).to_pylist() == ["abc", "def", "", "ünï"]
    assert ev("upper(s)", s=s).to_pylist() == ["ABC", "DEF", "", "ÜNÏ"]
    assert ev("concat(s, '-', a, '/', x, '/', f)", s=s, a=a, x=x, f=f).to_pylist() == [
        "Abc-1/0.5/true", "dEF--2/2/false", "-30/-1.25/true", "ünï-0/1e+20/false"]
    assert ev("concat(a)", a=a).to_pylist() == ["1", "-2", "30", "0"]
    assert ev("if(a > 0, s, 'neg')", s=s, a=a).to_pylist() == ["Abc", "neg", "", "neg"]
    np.testing.assert_array_equal(ev("s == 'Abc' or s > 'c'", s=s), [True, True, False, True])
    dt = np.array([0, 19_000, -1, 1], dtype=np.int64)
    ts = np.array([0, TS0, TS0 + 123_456, -1], dtype=np.int64)
    assert ev("concat(d, ' ', t, ' ', seconds(a))", d=(dt, "date"), t=(ts, "timestamp"), a=a).to_pylist() == [
        "1970-01-01 1970-01-01T00:00:00Z 1000000",
        "2022-01-08 2023-11-14T22:13:20Z -2000000",
        "1969-12-31 2023-11-14T22:13:20.123456Z 30000000",
        "1970-01-02 1969-12-31T23:59:59.999999Z 0",
    ]
    out = ev("'lit'", a=a)
    assert isinstance(out, pa.Array) and out.to_pylist() == ["lit"] * 4
    # uuid columns read as strings; chunked arrays are accepted
    u = pa.chunked_array([["a", "b"], ["c", "d"]])
    assert evaluate("upper(u)", ArrayEnv({"u": u.combine_chunks()}, {"u": "uuid"})).to_pylist() == list("ABCD")


def test_literals_broadcast_to_block_length():
    env = ArrayEnv({"a": np.arange(7)}, {"a": "int"})
    for text, dtype in [("1", np.int64), ("2.5", np.float64), ("true", np.bool_), ("days(1)", np.int64)]:
        out = evaluate(text, env)
        assert out.shape == (7,) and out.dtype == dtype


def test_decimal_columns_read_as_float():
    env = ArrayEnv({"p": np.array([1.25, 2.5]), "q": np.array([3, 4])}, {"p": "decimal", "q": "int"})
    np.testing.assert_array_equal(evaluate("p * q", env), [3.75, 10.0])


def test_inline_random_draws():
    n = 2000
    env = ArrayEnv({"a": np.arange(n, dtype=np.int64)}, {"a": "int"})
    u0 = rng.uniform(rng.stream_key(env.seed, "t", "c", "expr:0"), env.rows)
    z0 = rng.normal(rng.stream_key(env.seed, "t", "c", "expr:0"), env.rows)
    np.testing.assert_array_equal(evaluate("uniform(2, 5)", env), 2 + 3 * u0)
    np.testing.assert_array_equal(evaluate("normal(10, 2)", env), 10 + 2 * z0)
    np.testing.assert_allclose(evaluate("exponential(3)", env), -3 * np.log(1 - u0))
    np.testing.assert_array_equal(evaluate("uniform(a, a + 1)", env), np.arange(n) + u0)
    env.purposes.clear()
    out = evaluate("uniform(0, 1) - uniform(0, 1)", env)
    assert env.purposes == ["expr:0", "expr:1"]  # each call has its own stream
    assert np.all(out != 0)
    e = evaluate("exponential(30)", env)
    assert e.min() >= 0 and 25 < e.mean() < 35
    g = evaluate("normal(100, 15)", env)
    assert 98 < g.mean() < 102 and 13 < g.std() < 17
    w = evaluate("uniform(-1, 1)", env)
    assert w.min() >= -1 and w.max() < 1


def test_timestamp_plus_exponential_days_never_goes_back():
    n = 5000
    ts = TS0 + np.arange(n, dtype=np.int64) * 997_000_000
    out = evaluate("ts + days(exponential(30))", ArrayEnv({"ts": ts}, {"ts": "timestamp"}))
    assert out.dtype == np.int64 and np.all(out >= ts)
    assert (out - ts).mean() / US_PER_DAY == pytest.approx(30, rel=0.1)


@pytest.mark.parametrize("text", [
    "a * uniform(0, 1) + normal(a, 2) - exponential(3)",
    "ts + days(exponential(30)) + hours(uniform(0, 24))",
    "if(uniform(0, 1) < 0.3, concat('lo-', round(normal(0, 1), 2)), upper(s))",
])
def test_random_draws_are_addressable_per_row(text):
    n = 1000
    cols = {"a": np.arange(n, dtype=np.int64) * 3, "ts": TS0 + np.arange(n, dtype=np.int64),
            "s": pa.array([f"s{i}" for i in range(n)])}
    kinds = {"a": "int", "ts": "timestamp", "s": "string"}
    env = ArrayEnv(cols, kinds)
    whole = evaluate(text, env)
    parts = [evaluate(text, env.block(np.arange(lo, hi))) for lo, hi in [(0, 500), (500, 1000)]]
    perm = np.random.default_rng(3).permutation(n)
    shuffled = evaluate(text, env.block(perm))
    if isinstance(whole, pa.Array):
        assert pa.concat_arrays(parts).equals(whole)
        assert shuffled.equals(whole.take(pa.array(perm)))
    else:
        np.testing.assert_array_equal(np.concatenate(parts), whole)
        np.testing.assert_array_equal(shuffled, whole[perm])


def test_evaluate_reports_type_errors():
    with pytest.raises(ExprError) as info:
        evaluate("a + s", ArrayEnv({"a": A, "s": pa.array(["x"] * len(A))}, {"a": "int", "s": "string"}))
    assert info.value.position == 2


# --- the expr generator --------------------------------------------------------------------------


def test_generator_is_registered_with_params_schema():
    gen = GENERATORS["expr"]
    assert isinstance(gen, expr_generator.ExprGenerator)
    assert gen.params_schema["required"] == ["expr"]
    assert gen.params_schema["properties"]["expr"] == {"type": "string", "minLength": 1}
    assert gen.params_schema["additionalProperties"] is False
    assert gen.references({"expr": "quantity * unit_price + customer_id.discount"}) == (
        "quantity", "unit_price", "customer_id.discount")


def test_generator_without_schema_infers_kinds_from_values():
    a = lambda r: r * 2  # noqa: E731
    x = lambda r: r / 4  # noqa: E731
    out = run("expr", {"expr": "a + x * 2"}, type="float64", rows=100, refs={"a": a, "x": x})
    r = np.arange(100)
    np.testing.assert_array_equal(out, r * 2 + r / 2)
    assert out.dtype == np.float64
    ints = run("expr", {"expr": "x * 3"}, type="int32", rows=100, refs={"x": x})
    assert ints.dtype == np.int64
    np.testing.assert_array_equal(ints, np.rint(r / 4 * 3).astype(np.int64))
    flags = run("expr", {"expr": "a % 3 == 0"}, type="bool", rows=10, refs={"a": a})
    np.testing.assert_array_equal(flags, (np.arange(10) * 2) % 3 == 0)
    names = run("expr", {"expr": "concat(upper(s), '#', a)"}, type="string", rows=3,
                refs={"s": pa.array(["x", "y", "z"]), "a": a})
    assert names.to_pylist() == ["X#0", "Y#2", "Z#4"]
    stamps = run("expr", {"expr": "t + hours(1)"}, type="timestamp", rows=2,
                 refs={"t": np.array(["2024-01-01T00:00:00", "2024-01-02T00:00:00"], dtype="datetime64[us]")})
    np.testing.assert_array_equal(stamps, np.array([1704067200, 1704153600]) * 10**6 + HOUR)


def test_generator_draws_are_addressable_through_the_context():
    params = {"expr": "a + uniform(0, 10) + normal(0, 1)"}
    refs = {"a": lambda r: r.astype(np.int64)}
    whole = run("expr", params, rows=1000, refs=refs)
    halves = [run("expr", params, rows=500, start=s, refs=refs) for s in (0, 500)]
    np.testing.assert_array_equal(np.concatenate(halves), whole)
    other_seed = run("expr", params, rows=1000, refs=refs, seed=8)
    assert not np.array_equal(whole, other_seed)


# a two-table schema: orders.customer_id is a foreign key to customers


def _col(name, type_, gen="const", **params):
    return Column(name=name, dtype=parse_type(type_), generator=GeneratorSpec(gen, freeze(params), "g"),
                  path=f"p.{name}")


def _schema(expr_text: str, type_: str = "timestamp", name: str = "created_at"):
    customers = Table("customers", 10, (
        _col("customer_id", "int64", "sequence"),
        _col("signup_at", "timestamp", "uniform_timestamp"),
        _col("birthday", "date", "uniform_date"),
        _col("name", "string", "faker"),
    ), "tables[0]", primary_key=("customer_id",))
    target = _col(name, type_, "expr", expr=expr_text)
    orders = Table("orders", 100, (
        _col("order_id", "int64", "sequence"),
        _col("customer_id", "int64", "fk", table="customers", column="customer_id"),
        _col("quantity", "int32", "poisson"),
        _col("unit_price", "decimal(10,2)", "lognormal"),
        _col("shipped_at", "timestamp", "uniform_timestamp"),
        target,
    ), "tables[1]", primary_key=("order_id",))
    schema = link_references(Schema(1, "shop", (customers, orders), Source("shop.yaml", "0" * 64)))
    return schema, schema.table("orders"), schema.table("orders").column(name)


def _check(expr_text, type_="timestamp", name="created_at"):
    schema, table, column = _schema(expr_text, type_, name)
    return GENERATORS["expr"].check(column, table, schema)


@pytest.mark.parametrize("text, type_", [
    ("customer_id.signup_at + days(exponential(30))", "timestamp"),
    ("quantity * unit_price", "decimal(12,2)"),
    ("quantity * unit_price", "int64"),
    ("customer_id.birthday + days(1)", "timestamp"),
    ("shipped_at", "date"),
    ("concat(upper(customer_id.name), '-', order_id)", "string"),
    ("quantity > 2 and unit_price < 10", "bool"),
])
def test_check_accepts_good_expressions(text, type_):
    assert _check(text, type_) == []


def test_check_reports_problems_with_position_path_and_hint():
    [(msg, path, hint)] = _check("quantty * 2", "int64")
    assert path == "params.expr"
    assert msg.startswith("at character 0: unknown name 'quantty'") and hint == "did you mean 'quantity'?"
    [(msg, _, hint)] = _check("customer_id.signup + days(1)")
    assert "unknown name 'customer_id.signup'" in msg and "customer_id.signup_at" in hint
    [(msg, _, _)] = _check("quantity.signup_at")
    assert "not a foreign key" in msg
    [(msg, _, hint)] = _check("created_at + days(1)")
    assert msg.startswith("at character 0:") and "own" in msg
    [(msg, _, _)] = _check("shipped_at + 1 ")
    assert msg.startswith("at character 11: cannot add timestamp and int")
    [(msg, _, _)] = _check("days(1) +")
    assert msg.startswith("at character 9:")
    [(msg, _, hint)] = _check("shipped_at - customer_id.signup_at", "float64", "lag")
    assert "duration" in msg and "days(1)" in hint
    [(msg, _, _)] = _check("quantity * 2", "timestamp")
    assert "int values" in msg and "timestamp" in msg
    problems = _check("nope + customer_id.nada + created_at", "float64")
    assert len(problems) == 3


def _order_ctx(expr_text, type_, rows, signup):
    schema, table, column = _schema(expr_text, type_)

    def resolver(name, r):
        return {"customer_id.signup_at": signup[r], "quantity": (r % 5 + 1).astype(np.int64),
                "unit_price": 1.25 + r * 0.5, "shipped_at": signup[r] + 7 * HOUR}[name]

    return ColumnContext(seed=3, table=table, column=column, params=column.generator.params, rows=rows,
                         n_total=1000, schema=schema, resolver=resolver)


def test_generate_with_schema_end_to_end():
    gen = GENERATORS["expr"]
    signup = TS0 + np.arange(1000, dtype=np.int64) * 86_399_999_999
    rows = np.arange(1000, dtype=np.int64)
    created = gen.generate(_order_ctx("customer_id.signup_at + days(exponential(30))", "timestamp", rows, signup))
    assert created.dtype == np.int64 and np.all(created >= signup)
    halves = [gen.generate(_order_ctx("customer_id.signup_at + days(exponential(30))", "timestamp",
                                      rows[s:s + 500], signup)) for s in (0, 500)]
    np.testing.assert_array_equal(np.concatenate(halves), created)
    day = gen.generate(_order_ctx("shipped_at", "date", rows, signup))
    np.testing.assert_array_equal(day, (signup + 7 * HOUR) // US_PER_DAY)
    total = gen.generate(_order_ctx("quantity * unit_price", "decimal(12,2)", rows, signup))
    np.testing.assert_array_equal(total, (rows % 5 + 1) * (1.25 + rows * 0.5))
    assert total.dtype == np.float64
    with pytest.raises(ExprError):
        gen.generate(_order_ctx("quantity > 1", "int64", rows, signup))


# --- properties ---------------------------------------------------------------------------------

_FRAGMENTS = list("ab()+-*/%<=>!,.'\"\\ 0123456789e_[]:#") + [
    "and ", "or ", "not ", "if(", "min(", "max(", "round(", "days(", "uniform(", "concat(", "lower(",
    "a.b", "__", "lambda ", "true", "false", "1e", "ts", " s", "//", "==",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(_FRAGMENTS), max_size=30).map("".join)))
def test_fuzz_parse_raises_only_expr_error(text):
    try:
        expr = parse_expr(text)
    except ExprError as e:
        assert 0 <= e.position <= len(text)
        return
    kinds = {name: ("timestamp" if name == "ts" else "string" if name == "s" else "int") for name in expr.names}
    try:
        kind = infer_kind(expr, kinds)
    except ExprError:
        return
    n = 3
    cols = {name: (np.array([TS0, 0, -5]) if k == "timestamp" else pa.array(["x", "", "Ab"]) if k == "string"
                   else np.array([3, 0, -2], dtype=np.int64)) for name, k in kinds.items()}
    got_kind, value = evaluate_typed(expr, ArrayEnv(cols, kinds, rows=np.arange(n)))
    assert got_kind == kind and len(value) == n


# random well-formed integer expressions against an independent evaluator over Python ints

_PREC = {"+": 5, "-": 5, "*": 6, "//": 6, "%": 6}


def _render(tree) -> tuple[str, int]:
    """Source text with the fewest parentheses the precedence rules allow, and its precedence."""
    tag = tree[0]
    if tag == "lit":
        return str(tree[1]), 9
    if tag == "col":
        return tree[1], 9
    if tag == "neg":
        text, p = _render(tree[1])
        return "-" + (text if p >= 7 else f"({text})"), 7
    if tag == "abs":
        return f"abs({_render(tree[1])[0]})", 9
    if tag in ("min", "max"):
        return f"{tag}({', '.join(_render(t)[0] for t in tree[1])})", 9
    if tag == "if":
        _, cmp, lhs, rhs, then, other = tree
        cond = f"{_render(lhs)[0]} {cmp} {_render(rhs)[0]}"
        return f"if({cond}, {_render(then)[0]}, {_render(other)[0]})", 9
    p = _PREC[tag]
    lt, lp = _render(tree[1])
    rt, rp = _render(tree[2])
    lt = lt if lp >= p else f"({lt})"
    rt = rt if rp > p else f"({rt})"  # left-associative: an equal-precedence right operand needs parens
    return f"{lt} {tag} {rt}", p


_leaves = st.one_of(st.tuples(st.just("lit"), st.integers(0, 20)), st.tuples(st.just("col"), st.sampled_from("ab")))
_trees = st.recursive(_leaves, lambda kids: st.one_of(
    st.tuples(st.sampled_from(["+", "-", "*", "//", "%"]), kids, kids),
    st.tuples(st.just("neg"), kids),
    st.tuples(st.just("abs"), kids),
    st.tuples(st.sampled_from(["min", "max"]), st.lists(kids, min_size=2, max_size=3).map(tuple)),
    st.tuples(st.just("if"), st.sampled_from(["<", "==", ">="]), kids, kids, kids, kids),
), max_leaves=12)

_A_ROWS = [0, 1, -1, 7, -13, 2**40 + 3, -(2**62), 2**63 - 1]
_B_ROWS = [3, 0, -4, 7, 5, -2, 2**31, -1]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test_integer_expressions_match_a_reference_evaluator(tree):
    text, _ = _render(tree)
    env = ArrayEnv({"a": np.array(_A_ROWS, dtype=np.int64), "b": np.array(_B_ROWS, dtype=np.int64)},
                   {"a": "int", "b": "int"})
    expr = parse_expr(text)
    assert infer_kind(expr, {"a": "int", "b": "int"}) == "int"
    out = evaluate(expr, env)
    assert out.dtype == np.int64
    want = [int_expr_reference(tree, a, b) for a, b in zip(_A_ROWS, _B_ROWS, strict=True)]
    assert out.tolist() == want, text


def test_reference_renderer_sanity():
    tree = ("-", ("col", "a"), ("-", ("col", "b"), ("lit", 1)))
    assert _render(tree)[0] == "a - (b - 1)"
    assert math.isclose(int_expr_reference(tree, 5, 3), 3)
