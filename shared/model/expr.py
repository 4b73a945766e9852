"""The ``expr`` language: a small, safe, vectorised expression language over columns.

It is parsed once by a hand-written tokenizer and a Pratt parser into a frozen AST (never Python's
``ast``, ``eval`` or ``compile``), type-checked statically against the kinds of the columns it
names, and evaluated on whole arrays in engine units (see ``shared.model.types``). The module
does not import the engine: the evaluator asks an *environment* for column values and random draws.

Grammar (lowest precedence first; binary operators are left-associative)::

    expr     := expr 'or' expr | expr 'and' expr | 'not' expr
              | sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum)?     # no chaining: a < b < c
    sum      := term (('+' | '-') term)*
    term     := unary (('*' | '/' | '//' | '%') unary)*
    unary    := ('-' | '+') unary | primary
    primary  := NUMBER | STRING | 'true' | 'false' | NAME | NAME '.' NAME
              | FUNC '(' (expr (',' expr)*)? ')' | '(' expr ')'

``NAME`` is a same-row column; ``fk_col.parent_col`` reads a parent column through a foreign key
(exactly one hop). Functions come from a whitelist (``FUNCTIONS``). Strings are ``'…'`` or ``"…"``
with backslash escapes (``\\\\ \\' \\" \\n \\t \\r \\0 \\uXXXX``).

Kinds: ``int``, ``float``, ``bool``, ``string``, ``date`` (int64 days), ``timestamp`` (int64 µs,
UTC) and ``duration`` (int64 µs, made by ``days()/hours()/minutes()/seconds()``). Column kinds map
in: ``decimal`` counts as ``float``, ``uuid`` as ``string``.

Evaluation notes (documented semantics, all vectorised, none raises on data):

* ``/`` is true division (float); ``x / 0``, ``x // 0.0`` and ``x % 0.0`` give NaN; on integers
  ``x // 0`` and ``x % 0`` give 0 (numpy's semantics). A NaN result is null in a nullable column
  and otherwise the in-range value nearest 0 (``constraints.coerce``); a divisor that is the
  constant 0 is refused when the expression is checked.
* Integer arithmetic (int, date, timestamp and duration values: ``+ - *``, unary ``-``, ``abs``,
  ``days()`` …) *saturates* at int64's bounds instead of wrapping, and a float turned into an
  integer is clipped to them (NaN gives 0); the column then clips to its own bounds. An
  expression without column references or random draws is evaluated when it is checked, and an
  overflow there (``9223372036854775807 + 1``, ``1e308 * 1e308``) is refused.
* ``round(x)``, ``floor(x)`` and ``ceil(x)`` return integers (round half to even, like Python);
  ``round(x, n)`` keeps the kind of ``x``; ``n`` must be an integer literal.
* ``date ± duration`` moves the date's midnight by the duration and keeps the day it lands on:
  ``days + floor(duration / 1 day)`` (and ``days + floor(-duration / 1 day)`` for ``-``).
* float durations (``days(1.5)``, ``days(1) * 0.3``) are rounded to the nearest microsecond.
* ``concat`` renders numbers as Arrow does, bools as ``true/false``, dates as ``YYYY-MM-DD``,
  timestamps as ISO 8601 with ``Z`` (fraction only when non-zero), durations as microseconds.
* ``row()`` is the row's absolute 0-based index (``Env.rows``), never its index in the block.
* nulls: a string that does not parse (``to_int``, ``to_float``, ``to_date``, ``to_timestamp``,
  ``parse_date``, ``parse_timestamp``) gives null; nulls flow through every operator and
  function except ``coalesce`` (the first argument neither null nor NaN) and ``is_null``; a null
  condition of ``if``/``case`` counts as false. References never carry nulls (they see values
  before their null mask). ``null_source`` finds a call that can make the result null.
* date parts use the proleptic Gregorian calendar in UTC; ``weekday`` is 0 for Monday;
  ``date_trunc`` weeks start on Monday. ``substring`` is 1-based; ``lpad``/``rpad`` never cut.
  Arguments that Arrow's kernels take once per call (patterns, starts, widths, units) must be
  literals.
* each inline random call ``uniform(a, b)``, ``normal(m, s)``, ``exponential(scale)`` draws from
  its own stream, purpose ``expr:<k>`` where ``k`` numbers the random calls in source order, so a
  cell's draw depends only on (stream, row) and never on the block it is computed in. Both
  branches of ``if`` are computed for every row (that keeps the draws addressable).

Errors are ``ExprError`` (a ``SchemaError``) carrying the 0-based character ``position`` and an
optional ``hint``. Input is capped at ``MAX_LENGTH`` characters and ``MAX_DEPTH`` levels of
nesting, so no input can exhaust the Python stack.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Protocol, cast

import numpy as np

from shared.errors import SchemaError
from shared.io import pmath

MAX_LENGTH = 10_000
MAX_DEPTH = 64

US_PER_DAY = 86_400_000_000
UNIT_US = {"days": US_PER_DAY, "hours": 3_600_000_000, "minutes": 60_000_000, "seconds": 1_000_000}

#: the result kinds of expressions
KINDS = ("int", "float", "bool", "string", "date", "timestamp", "duration")
#: column kinds → expression kinds
_COLUMN_KIND = {"int": "int", "float": "float", "decimal": "float", "bool": "bool", "string": "string",
                "uuid": "string", "date": "date", "timestamp": "timestamp", "duration": "duration"}

#: the function whitelist: name → (min args, max args or None for unbounded)
FUNCTIONS: Mapping[str, tuple[int, int | None]] = {
    "if": (3, 3),
    "days": (1, 1), "hours": (1, 1), "minutes": (1, 1), "seconds": (1, 1),
    "round": (1, 2), "abs": (1, 1), "floor": (1, 1), "ceil": (1, 1),
    "min": (2, None), "max": (2, None),
    "lower": (1, 1), "upper": (1, 1), "concat": (1, None),
    "uniform": (2, 2), "normal": (2, 2), "exponential": (1, 1),
    "row": (0, 0), "case": (3, None), "coalesce": (2, None), "is_null": (1, 1),
    "length": (1, 1), "trim": (1, 1), "ltrim": (1, 1), "rtrim": (1, 1), "replace": (3, 3),
    "substring": (2, 3), "lpad": (2, 3), "rpad": (2, 3),
    "year": (1, 1), "quarter": (1, 1), "month": (1, 1), "day": (1, 1), "weekday": (1, 1),
    "hour": (1, 1), "minute": (1, 1), "second": (1, 1), "date_trunc": (2, 2),
    "to_string": (1, 1), "to_int": (1, 1), "to_float": (1, 1), "to_date": (1, 1), "to_timestamp": (1, 1),
    "parse_date": (1, 1), "parse_timestamp": (1, 1),
}
RANDOM_FUNCTIONS = frozenset({"uniform", "normal", "exponential"})
#: functions whose result is null where a string argument does not parse (see ``null_source``)
PARSING_FUNCTIONS = frozenset({"to_int", "to_float", "to_date", "to_timestamp", "parse_date", "parse_timestamp"})
#: ``date_trunc`` units, finest last
TRUNC_UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute")
#: the characters ``trim``/``ltrim``/``rtrim`` remove (ASCII whitespace)
TRIM_CHARACTERS = " \t\n\r\x0b\x0c"
#: the widest ``lpad``/``rpad``, so no literal can blow a block up
MAX_PAD = 10_000

_NUM = frozenset({"int", "float"})
_INT64_MAX = (1 << 63) - 1


class ExprError(SchemaError):
    """A syntax or type error in an expression, at a 0-based character offset."""

    def __init__(self, message: str, position: int, hint: str | None = None):
        self.message = message
        self.position = int(position)
        self.hint = hint
        super().__init__(f"at character {self.position}: {message}")

    def __reduce__(self):
        return (type(self), (self.message, self.position, self.hint))

    def render(self, max_shown: int = 20) -> str:
        text = super().render(max_shown)
        return text + (f" (hint: {self.hint})" if self.hint else "")


# --- AST ----------------------------------------------------------------------------------------
# Every node is frozen; ``pos`` is the offset of its token (an operator's own offset for binary
# nodes, a function's name for calls); ``depth`` the number of operator/call levels below it.


@dataclass(frozen=True, slots=True)
class Num:
    value: int | float
    pos: int
    depth: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Str:
    value: str
    pos: int
    depth: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    pos: int
    depth: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name:
    name: str  # "col" or "fk_col.parent_col"
    pos: int
    depth: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+", "not"
    operand: Node
    pos: int
    depth: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / // % == != < <= > >= and or
    left: Node
    right: Node
    pos: int
    depth: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]
    pos: int
    rand: int | None = None  # index among the random calls (source order), for the draw's purpose
    depth: int = field(default=0, compare=False, repr=False)


Node = Num | Str | Bool | Name | Unary | Binary | Call


@dataclass(frozen=True)
class Expr:
    """A parsed expression: its text, AST root and the names it reads."""

    text: str
    root: Node
    names: tuple[str, ...]  # in order of first appearance
    name_positions: tuple[int, ...]  # offset of each name's first appearance
    n_random: int  # number of inline random calls (purposes expr:0 … expr:n-1)

    def position_of(self, name: str) -> int:
        return self.name_positions[self.names.index(name)]

    def __str__(self) -> str:
        return self.text


# --- tokenizer ----------------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WORD_OPS = frozenset({"and", "or", "not"})
_OPS2 = ("//", "==", "!=", "<=", ">=")
_OPS1 = "+-*/%<>"
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_PY_WORDS = frozenset({
    "lambda", "import", "def", "class", "for", "in", "is", "while", "return", "yield", "with", "as",
    "from", "global", "nonlocal", "del", "pass", "raise", "try", "except", "finally", "assert",
    "async", "await", "elif", "else", "break", "continue", "None", "True", "False",
})
_BAD_CHARS = {
    "[": "subscripts are not supported", "]": "subscripts are not supported",
    "{": "braces are not supported", "}": "braces are not supported",
    ":": "':' is not supported (no lambdas, slices or annotations)",
    "=": "'=' is not an operator: compare with '=='; keyword arguments are not supported",
    "!": "use '!=' to compare or 'not' to negate",
    "&": "use 'and'", "|": "use 'or'", "~": "use 'not'", "^": "'^' is not supported",
    ";": "one expression only", "@": "'@' is not supported", "`": "backticks are not supported",
    "\\": "a backslash is only allowed inside a string",
}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # num, str, bool, name, op, (, ), ",", eof
    value: Any
    pos: int


def _describe(tok: _Tok) -> str:
    if tok.kind == "eof":
        return "end of expression"
    if tok.kind == "str":
        return "a string"
    if tok.kind == "num":
        return f"number {tok.value!r}"
    return f"{tok.value!r}" if tok.kind in ("name", "op", "bool") else repr(tok.kind)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c.isascii() and (c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit())):
            m = _NUMBER.match(text, i)
            assert m is not None  # the character class above starts a number
            lit = m.group()
            j = m.end()
            if j < n and (text[j] == "." or text[j] == "_" or text[j].isalnum()):
                raise ExprError(f"invalid number {text[i:j + 1]!r}", i)
            if any(ch in lit for ch in ".eE"):
                val: int | float = float(lit)
                if not np.isfinite(val):
                    raise ExprError(f"number {lit!r} is out of range", i)
            else:
                digits = lit.lstrip("0")
                val = int(digits or "0") if len(digits) <= 19 else _INT64_MAX + 1
                if val > _INT64_MAX:
                    raise ExprError(f"integer {lit} does not fit in 64 bits", i, "write it as a float, e.g. 1e19")
            toks.append(_Tok("num", val, i))
            i = j
            continue
        if c == "_" or (c.isascii() and c.isalpha()):
            i = _name_token(text, i, toks)
            continue
        if c in "'\"":
            i = _string_token(text, i, toks)
            continue
        two = text[i:i + 2]
        if two == "**":
            raise ExprError("'**' (power) is not supported", i, "multiply, e.g. x * x")
        if two in _OPS2:
            toks.append(_Tok("op", two, i))
            i += 2
            continue
        if c in _OPS1:
            toks.append(_Tok("op", c, i))
            i += 1
            continue
        if c in "(),":
            toks.append(_Tok(c, c, i))
            i += 1
            continue
        if c == ".":
            raise ExprError("unexpected '.': attribute access is not supported", i,
                            "parent columns are written fk_column.parent_column")
        if c in _BAD_CHARS:
            raise ExprError(f"unexpected {c!r}", i, _BAD_CHARS[c])
        raise ExprError(f"unexpected character {c!r}", i)
    toks.append(_Tok("eof", None, n))
    return toks


def _check_ident(part: str, pos: int) -> None:
    if part.startswith("__"):
        raise ExprError(f"names starting with '__' are not allowed: {part!r}", pos)


def _name_token(text: str, i: int, toks: list[_Tok]) -> int:
    m = _IDENT.match(text, i)
    assert m is not None  # called on an identifier's first character
    word = m.group()
    _check_ident(word, i)
    j = m.end()
    if j < len(text) and text[j] == ".":
        m2 = _IDENT.match(text, j + 1)
        if m2 is None:
            raise ExprError("expected a column name after '.'", j + 1,
                            "parent columns are written fk_column.parent_column")
        _check_ident(m2.group(), j + 1)
        k = m2.end()
        if k < len(text) and text[k] == ".":
            raise ExprError(f"only one '.' hop is allowed: {text[i:k]!r} already names a parent column", k,
                            "reach a grandparent column by copying it into the parent table first; a struct's "
                            "field deeper than one level (a.b.c) is read by a template, or copied into a column")
        toks.append(_Tok("name", text[i:k], i))
        return k
    if word in _WORD_OPS:
        toks.append(_Tok("op", word, i))
    elif word in ("true", "false"):
        toks.append(_Tok("bool", word == "true", i))
    else:
        toks.append(_Tok("name", word, i))
    return j


def _string_token(text: str, i: int, toks: list[_Tok]) -> int:
    quote = text[i]
    j = i + 1
    parts: list[str] = []
    n = len(text)
    while True:
        k = j
        while k < n and text[k] != quote and text[k] != "\\":
            k += 1
        parts.append(text[j:k])
        if k >= n:
            raise ExprError("unterminated string", i, f"close it with {quote}")
        if text[k] == quote:
            toks.append(_Tok("str", "".join(parts), i))
            return k + 1
        # a backslash escape
        if k + 1 >= n:
            raise ExprError("unterminated string", i, f"close it with {quote}")
        e = text[k + 1]
        if e in _ESCAPES:
            parts.append(_ESCAPES[e])
            j = k + 2
        elif e == "u":
            hexa = text[k + 2:k + 6]
            if len(hexa) != 4 or any(h not in "0123456789abcdefABCDEF" for h in hexa):
                raise ExprError("\\u needs four hex digits", k)
            if 0xD800 <= int(hexa, 16) <= 0xDFFF:
                raise ExprError(f"\\u{hexa} is a surrogate, not a character", k,
                                "write the character itself; strings are UTF-8")
            parts.append(chr(int(hexa, 16)))
            j = k + 6
        else:
            raise ExprError(f"unknown escape '\\{e}'", k, "known: \\\\ \\' \\\" \\n \\t \\r \\0 \\uXXXX")


# --- parser -------------------------------------------------------------------------------------

_INFIX_BP = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
             "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_BP_NOT = 3
_BP_UNARY = 7


def _depth(*children: Node) -> int:
    return 1 + max((c.depth for c in children), default=0)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.level = 0
        self.n_random = 0
        self.names: dict[str, int] = {}

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def node(self, cls, *args, **kw):
        node = cls(*args, **kw)
        if node.depth > MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", node.pos,
                            "split it over several columns")
        return node

    def parse(self) -> Expr:
        root = self.expr(0)
        tok = self.peek()
        if tok.kind != "eof":
            hint = "missing an operator or a comma?" if tok.kind in ("name", "num", "str", "bool", "(") else None
            if tok.kind == "name" and tok.value in _PY_WORDS:
                self.python_word(tok)
            raise ExprError(f"unexpected {_describe(tok)} after a complete expression", tok.pos, hint)
        return Expr(self.text, root, tuple(self.names), tuple(self.names.values()), self.n_random)

    def expr(self, min_bp: int) -> Node:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", self.peek().pos,
                            "split it over several columns")
        left = self.prefix()
        compared = False
        while True:
            tok = self.peek()
            bp = _INFIX_BP.get(tok.value) if tok.kind == "op" else None
            if bp is None or bp <= min_bp:
                break
            if tok.value in _COMPARISONS and compared:
                raise ExprError(f"comparisons cannot be chained ({tok.value!r} after a comparison)", tok.pos,
                                "combine them with 'and': a < b and b < c")
            self.advance()
            right = self.expr(bp)
            left = self.node(Binary, tok.value, left, right, tok.pos, depth=_depth(left, right))
            compared = tok.value in _COMPARISONS
        self.level -= 1
        return left

    def prefix(self) -> Node:
        tok = self.advance()
        kind = tok.kind
        if kind == "num":
            return Num(tok.value, tok.pos)
        if kind == "str":
            return Str(tok.value, tok.pos)
        if kind == "bool":
            return Bool(tok.value, tok.pos)
        if kind == "name":
            if self.peek().kind == "(":
                return self.call(tok)
            return self.name(tok)
        if kind == "op" and tok.value in ("-", "+"):
            operand = self.expr(_BP_UNARY)
            if isinstance(operand, Num):  # fold signed literals
                return Num(-operand.value if tok.value == "-" else operand.value, tok.pos)
            return self.node(Unary, tok.value, operand, tok.pos, depth=_depth(operand))
        if kind == "op" and tok.value == "not":
            operand = self.expr(_BP_NOT)
            return self.node(Unary, "not", operand, tok.pos, depth=_depth(operand))
        if kind == "(":
            if self.peek().kind == ")":
                raise ExprError("empty parentheses", tok.pos)
            inner = self.expr(0)
            close = self.advance()
            if close.kind != ")":
                raise ExprError(f"expected ')' but found {_describe(close)}", close.pos,
                                f"the '(' at character {tok.pos} is not closed")
            return inner
        if kind == "eof":
            raise ExprError("unexpected end of expression: expected a value", tok.pos)
        raise ExprError(f"expected a value but found {_describe(tok)}", tok.pos)

    def python_word(self, tok: _Tok) -> None:
        word = tok.value
        hint = {"True": "write true", "False": "write false", "None": "there is no null literal",
                "else": "write if(condition, then, else)", "elif": "nest if(): if(a, x, if(b, y, z))",
                "in": "compare with == and combine with or", "is": "compare with =="}.get(word)
        raise ExprError(f"{word!r} is not part of the expression language", tok.pos, hint)

    def name(self, tok: _Tok) -> Node:
        word = tok.value
        if word in _PY_WORDS:
            self.python_word(tok)
        if word == "if":
            raise ExprError("'if' is a function here", tok.pos, "write if(condition, then, else)")
        nxt = self.peek()
        if word == "case" and nxt.kind == "name" and nxt.value == "when":
            raise ExprError("'case when … then … end' is not supported: case is a function here", tok.pos,
                            "write case(condition1, value1, condition2, value2, …, default)")
        self.names.setdefault(word, tok.pos)
        return Name(word, tok.pos)

    def call(self, tok: _Tok) -> Node:
        func = tok.value
        if func not in FUNCTIONS:
            if "." in func:
                raise ExprError(f"{func!r} is not a function: method calls are not supported", tok.pos)
            close = difflib.get_close_matches(func, list(FUNCTIONS), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}()?" if close else "known functions: " + ", ".join(sorted(FUNCTIONS))
            raise ExprError(f"unknown function {func!r}", tok.pos, hint)
        rand = None
        if func in RANDOM_FUNCTIONS:
            rand = self.n_random
            self.n_random += 1
        opening = self.advance()  # '('
        args: list[Node] = []
        if self.peek().kind != ")":
            while True:
                args.append(self.expr(0))
                sep = self.advance()
                if sep.kind == ")":
                    break
                if sep.kind != ",":
                    raise ExprError(f"expected ',' or ')' in the arguments of {func}() but found {_describe(sep)}",
                                    sep.pos, f"the '(' at character {opening.pos} is not closed"
                                    if sep.kind == "eof" else None)
                if self.peek().kind == ")":
                    raise ExprError(f"expected an argument after ',' in {func}()", self.peek().pos)
        else:
            self.advance()
        lo, hi = FUNCTIONS[func]
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if lo == hi else (f"{lo} or {hi}" if hi is not None and hi == lo + 1 else
                                              (f"at least {lo}" if hi is None else f"{lo} to {hi}"))
            plural = "" if want.endswith(" 1") or want == "1" else "s"
            raise ExprError(f"{func}() takes {want} argument{plural}, got {len(args)}", tok.pos)
        if func == "round" and len(args) == 2 and not (isinstance(args[1], Num) and isinstance(args[1].value, int)):
            raise ExprError("round()'s second argument (the number of decimals) must be an integer literal",
                            args[1].pos)
        _check_literal_args(func, args, tok.pos)
        return self.node(Call, func, tuple(args), tok.pos, rand, depth=_depth(*args))


def _int_literal(node: Node) -> int | None:
    return node.value if isinstance(node, Num) and isinstance(node.value, int) else None


def _check_literal_args(func: str, args: list[Node], pos: int) -> None:
    """Arguments that must be literals: Arrow's string kernels take one pattern, start or width
    per call, so a per-row value would need a per-row loop."""
    if func == "case" and len(args) % 2 == 0:
        raise ExprError(f"case() takes condition, value pairs and a default: an odd number of arguments, "
                        f"got {len(args)}", pos, "case(x < 10, 'low', x < 100, 'mid', 'high')")
    if func == "replace":
        for i, what in ((1, "text to find"), (2, "replacement")):
            if not isinstance(args[i], Str):
                raise ExprError(f"replace()'s {what} must be a string literal", args[i].pos)
        if not cast(Str, args[1]).value:
            raise ExprError("replace()'s text to find is empty", args[1].pos)
    elif func == "substring":
        start = _int_literal(args[1])
        if start is None or start < 1:
            raise ExprError("substring()'s start must be an integer literal of at least 1 (the first character "
                            "is 1)", args[1].pos, "substring(s, 1, 3) is the first three characters")
        if len(args) == 3:
            length = _int_literal(args[2])
            if length is None or length < 0:
                raise ExprError("substring()'s length must be a non-negative integer literal", args[2].pos)
    elif func in ("lpad", "rpad"):
        width = _int_literal(args[1])
        if width is None or not 0 <= width <= MAX_PAD:
            raise ExprError(f"{func}()'s width must be an integer literal from 0 to {MAX_PAD}", args[1].pos)
        if len(args) == 3 and not (isinstance(args[2], Str) and len(args[2].value) == 1):
            raise ExprError(f"{func}()'s fill must be a string literal of one character", args[2].pos,
                            f"e.g. {func}(code, 6, '0')")
    elif func == "date_trunc":
        unit = args[0]
        if not isinstance(unit, Str) or unit.value not in TRUNC_UNITS:
            close = difflib.get_close_matches(unit.value, TRUNC_UNITS, n=1, cutoff=0.6) \
                if isinstance(unit, Str) else None
            raise ExprError("date_trunc()'s unit must be one of the string literals " + ", ".join(
                repr(u) for u in TRUNC_UNITS), unit.pos, f"did you mean {close[0]!r}?" if close else None)


def parse_expr(text: str) -> Expr:
    """Parse an expression into a frozen AST; raises ExprError(message, position, hint)."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be a string, got {type(text).__name__}", 0)
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is too long ({len(text)} characters; at most {MAX_LENGTH})", MAX_LENGTH)
    if not text.strip():
        raise ExprError("empty expression", 0)
    lone = _SURROGATE.search(text)
    if lone is not None:  # from a JSON "\ud800" escape: not a character, and not encodable as UTF-8
        raise ExprError(f"a lone surrogate (U+{ord(lone.group()):04X}) is not a character", lone.start())
    return _Parser(text).parse()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_expr(expr: Expr | str) -> Expr:
    return expr if isinstance(expr, Expr) else parse_expr(expr)


# --- static typing ------------------------------------------------------------------------------

_VERB = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "//": "floor-divide",
         "%": "take the remainder of"}


def _promote(a: str, b: str) -> str:
    return "int" if a == b == "int" else "float"


def _binary_kind(node: Binary, lk: str, rk: str) -> str:
    """The result kind of a binary node, or an ExprError at the operator."""
    op = node.op
    pair = (lk, rk)
    result: str | None = None
    if op in ("and", "or"):
        if pair == ("bool", "bool"):
            return "bool"
        raise ExprError(f"'{op}' needs bool operands, got {lk} and {rk}", node.pos,
                        "compare first, e.g. x > 0 and y > 0")
    if op in _COMPARISONS:
        if (lk in _NUM and rk in _NUM) or (lk == rk and lk in ("timestamp", "date", "duration", "string")):
            return "bool"
        if lk == rk == "bool" and op in ("==", "!="):
            return "bool"
        raise ExprError(f"cannot compare {lk} with {rk} using {op!r}", node.pos)
    if lk in _NUM and rk in _NUM:
        return "float" if op == "/" else _promote(lk, rk)
    if op == "+":
        result = {("timestamp", "duration"): "timestamp", ("duration", "timestamp"): "timestamp",
                  ("date", "duration"): "date", ("duration", "date"): "date",
                  ("duration", "duration"): "duration"}.get(pair)
    elif op == "-":
        result = {("timestamp", "duration"): "timestamp", ("date", "duration"): "date",
                  ("timestamp", "timestamp"): "duration", ("date", "date"): "duration",
                  ("duration", "duration"): "duration"}.get(pair)
    elif op == "*":
        if (lk == "duration" and rk in _NUM) or (lk in _NUM and rk == "duration"):
            result = "duration"
    elif op == "/":
        if pair == ("duration", "duration"):
            result = "float"
    if result is not None:
        return result
    hint = None
    if "string" in pair and op == "+":
        hint = "join strings with concat(a, b)"
    elif op in "+-" and ({lk, rk} & {"timestamp", "date"}) and ({lk, rk} & _NUM):
        hint = "turn the number into a duration: days(n), hours(n), minutes(n) or seconds(n)"
    elif op in "+-" and {lk, rk} == {"timestamp", "date"}:
        hint = "timestamps and dates do not mix; store both as the same type"
    verb = _VERB[op]
    if op == "-":
        msg = f"cannot subtract {rk} from {lk}"
    elif op in ("*", "/", "//"):
        msg = f"cannot {verb} {lk} by {rk}"
    else:
        msg = f"cannot {verb} {lk} and {rk}"
    raise ExprError(msg, node.pos, hint)


def _unary_kind(node: Unary, k: str) -> str:
    if node.op == "not":
        if k == "bool":
            return "bool"
        raise ExprError(f"'not' needs a bool operand, got {k}", node.pos)
    if k in _NUM or k == "duration":
        return k
    raise ExprError(f"cannot negate {k}" if node.op == "-" else f"unary '+' needs a number, got {k}", node.pos)


def _call_kind(node: Call, ks: list[str]) -> str:
    f = node.func

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ExprError(f"{f}() needs {what}, got {', '.join(ks)}", node.pos, _kind_hint(f, ks))

    if f == "if":
        if ks[0] != "bool":
            raise ExprError(f"if() needs a bool condition, got {ks[0]}", node.args[0].pos,
                            "compare first, e.g. if(x > 0, a, b)")
        a, b = ks[1], ks[2]
        if a == b:
            return a
        if a in _NUM and b in _NUM:
            return "float"
        raise ExprError(f"if() branches must have the same kind, got {a} and {b}", node.pos)
    if f == "case":
        for i in range(0, len(ks) - 1, 2):
            if ks[i] != "bool":
                raise ExprError(f"case() needs a bool condition as argument {i + 1}, got {ks[i]}", node.args[i].pos,
                                "arguments go condition, value, condition, value, …, default")
        return _unify(node, [*ks[1::2], ks[-1]], "values")
    if f == "coalesce":
        return _unify(node, ks, "arguments")
    if f == "is_null":
        return "bool"
    if f == "row":
        return "int"
    if f in ("length", "trim", "ltrim", "rtrim", "replace", "substring", "lpad", "rpad"):
        need(ks[0] == "string", "a string" if len(ks) == 1 else "a string first")
        # the other arguments are literals of the right kind (checked by the parser)
        return "int" if f == "length" else "string"
    if f in ("year", "quarter", "month", "day", "weekday"):
        need(ks[0] in ("date", "timestamp"), "a date or a timestamp")
        return "int"
    if f in ("hour", "minute", "second"):
        if ks[0] == "date":
            raise ExprError(f"{f}() needs a timestamp, got date", node.pos, "a date has no time of day")
        need(ks[0] == "timestamp", "a timestamp")
        return "int"
    if f == "date_trunc":
        need(ks[1] in ("date", "timestamp"), "a unit and a date or a timestamp")
        unit = cast(Str, node.args[0]).value
        if ks[1] == "date" and unit in ("hour", "minute"):
            raise ExprError(f"date_trunc('{unit}', …) needs a timestamp, got date", node.pos,
                            "a date has no time of day")
        return ks[1]
    if f == "to_string":
        return "string"
    if f == "to_int":
        return "int"  # from every kind: dates count days, timestamps and durations microseconds
    if f == "to_float":
        need(ks[0] in ("int", "float", "bool", "string"), "a number, a bool or a string")
        return "float"
    if f in ("to_date", "to_timestamp"):
        need(ks[0] in ("date", "timestamp", "string"), "a date, a timestamp or a string")
        return f[3:]
    if f in ("parse_date", "parse_timestamp"):
        need(ks[0] == "string", "a string")
        return f[6:]
    if f in UNIT_US:
        need(ks[0] in _NUM, "a number")
        return "duration"
    if f == "round":
        need(ks[0] in _NUM, "a number")
        return "int" if len(ks) == 1 else ks[0]
    if f == "abs":
        need(ks[0] in _NUM or ks[0] == "duration", "a number or a duration")
        return ks[0]
    if f in ("floor", "ceil"):
        need(ks[0] in _NUM, "a number")
        return "int"
    if f in ("min", "max"):
        if all(k in _NUM for k in ks):
            return "int" if all(k == "int" for k in ks) else "float"
        need(len(set(ks)) == 1 and ks[0] in ("timestamp", "date", "duration"),
             "numbers, or timestamps, dates or durations of one kind")
        return ks[0]
    if f in ("lower", "upper"):
        need(ks[0] == "string", "a string")
        return "string"
    if f == "concat":
        return "string"
    # uniform, normal, exponential
    need(all(k in _NUM for k in ks), "numbers")
    return "float"


def _kind_hint(f: str, ks: list[str]) -> str | None:
    """A way out of a call's kind error, for the common slips."""
    first = ks[0] if ks else None
    if first == "string" and f in ("year", "quarter", "month", "day", "weekday", "date_trunc"):
        return f"parse the text first, e.g. {f}(parse_date(s))" if f != "date_trunc" else \
            "parse the text first, e.g. date_trunc('month', parse_date(s))"
    if first == "string" and f in ("hour", "minute", "second"):
        return f"parse the text first, e.g. {f}(parse_timestamp(s))"
    if f in ("length", "trim", "ltrim", "rtrim", "replace", "substring", "lpad", "rpad", "lower", "upper") \
            and first != "string":
        return f"turn it into text first, e.g. {f}(to_string(x){', …' if f in ('replace', 'substring', 'lpad', 'rpad') else ''})"
    if f == "to_float" and first in ("date", "timestamp", "duration"):
        return "to_int() counts days (dates) or microseconds; durations divide: d / days(1)"
    if f in ("to_date", "to_timestamp") and first in _NUM:
        return "add a duration to a date instead, e.g. to_date('1970-01-01') + days(n)"
    if f in _NUM_FUNCS and first == "string":
        return f"parse the text first, e.g. {f}(to_float(s))"
    return None


_NUM_FUNCS = frozenset({"round", "abs", "floor", "ceil", "days", "hours", "minutes", "seconds"})


def _unify(node: Call, ks: list[str], what: str) -> str:
    """The common kind of ``case``'s values or ``coalesce``'s arguments: one kind, or numbers
    (int when all are int, else float)."""
    if all(k == ks[0] for k in ks):
        return ks[0]
    if all(k in _NUM for k in ks):
        return "float"
    raise ExprError(f"{node.func}() {what} must have the same kind, got {', '.join(ks)}", node.pos)


def _column_kind(name: str, kind: Any, pos: int) -> str:
    k = _COLUMN_KIND.get(str(kind))
    if k is None:
        raise ExprError(f"column {name!r} has kind {kind!r}, which expressions cannot read", pos)
    return k


def infer_kind(expr: Expr | str, kinds: Mapping[str, str]) -> str:
    """The kind of the expression's values, given each referenced name's column kind.

    ``kinds`` maps names to column kinds (int, float, decimal, bool, string, date, timestamp,
    uuid); the result is one of ``KINDS``. Raises ExprError at the offending position.
    """
    expr = _as_expr(expr)

    def walk(node: Node) -> str:
        if isinstance(node, Num):
            return "int" if isinstance(node.value, int) else "float"
        if isinstance(node, Str):
            return "string"
        if isinstance(node, Bool):
            return "bool"
        if isinstance(node, Name):
            if node.name not in kinds:
                close = difflib.get_close_matches(node.name, [str(k) for k in kinds], n=1, cutoff=0.6)
                raise ExprError(f"unknown name {node.name!r}", node.pos,
                                f"did you mean {close[0]!r}?" if close else None)
            return _column_kind(node.name, kinds[node.name], node.pos)
        if isinstance(node, Unary):
            return _unary_kind(node, walk(node.operand))
        if isinstance(node, Binary):
            return _binary_kind(node, walk(node.left), walk(node.right))
        return _call_kind(node, [walk(a) for a in node.args])

    return walk(expr.root)


def null_source(expr: Expr | str, kinds: Mapping[str, str]) -> Call | None:
    """The call that can make the expression's value null, or None when it never is null.

    Nulls come only from strings that do not parse (``PARSING_FUNCTIONS`` on a string that is not
    a literal; a literal is checked by ``constant_problems``) and flow to the result through every
    operator and function except ``coalesce`` (null only where all its arguments are) and
    ``is_null``. References never bring nulls in: they see values before their null mask. A NaN
    float is not a null here (see the module docstring). Assumes ``infer_kind`` accepted it.
    """
    expr = _as_expr(expr)

    def kind(node: Node) -> str:
        return infer_kind(Expr(expr.text, node, expr.names, expr.name_positions, expr.n_random), kinds)

    def walk(node: Node) -> Call | None:
        if isinstance(node, Unary):
            return walk(node.operand)
        if isinstance(node, Binary):
            return walk(node.left) or walk(node.right)
        if not isinstance(node, Call):
            return None
        if node.func == "is_null":
            return None
        sources = [walk(a) for a in node.args]
        if node.func == "coalesce":
            return sources[0] if all(sources) else None
        if node.func in PARSING_FUNCTIONS and not isinstance(node.args[0], Str) and kind(node.args[0]) == "string":
            return node
        return next((c for c in sources if c is not None), None)

    return walk(expr.root)


_ASSIGNABLE = {
    "int": frozenset({"int", "float", "decimal"}),
    "float": frozenset({"int", "float", "decimal"}),
    "timestamp": frozenset({"timestamp", "date"}),
    "date": frozenset({"date", "timestamp"}),
    "string": frozenset({"string", "uuid"}),
    "bool": frozenset({"bool"}),
    "duration": frozenset(),
}


def is_assignable(expr_kind: str, column_kind: str) -> bool:
    """Whether values of ``expr_kind`` can be stored in a column of ``column_kind``."""
    return column_kind in _ASSIGNABLE.get(expr_kind, frozenset())


# --- constant folding ---------------------------------------------------------------------------

_FOLDABLE_CALLS = frozenset({"abs", "min", "max", *UNIT_US})


def constant_problems(expr: Expr | str) -> list[ExprError]:
    """Overflows and divisions by zero that can be seen without data, located at their operator.

    Every sub-expression without column references or random draws is evaluated exactly (Python
    integers, Python floats): an integer (or duration) result outside int64, a float result that
    is not finite, and a ``/``, ``//`` or ``%`` whose divisor is such a constant equal to 0 are
    reported — at run time they would saturate, clip or give NaN, which is never what was meant.
    Only arithmetic, unary minus, ``abs``, ``min``, ``max`` and ``days()``-style units are folded.
    """
    expr = _as_expr(expr)
    problems: list[ExprError] = []

    def check(value: int | float, node: Node, what: str) -> int | float | None:
        if isinstance(value, int) and not -(1 << 63) <= value <= _INT64_MAX:
            problems.append(ExprError(f"{what} overflows: {value} is outside the 64-bit integer range",
                                      node.pos, "keep integer constants within ±9223372036854775807"))
            return None
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(ExprError(f"{what} overflows: the constant result is {value}", node.pos,
                                      "keep float constants within ±1.7976931348623157e308"))
            return None
        return value

    def fold(node: Node) -> int | float | None:
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Unary):
            v = fold(node.operand)
            if v is None or node.op == "not":
                return None
            return check(-v if node.op == "-" else v, node, "the negation")
        if isinstance(node, Binary):
            a, b = fold(node.left), fold(node.right)
            if node.op in ("/", "//", "%") and b == 0 and isinstance(b, (int, float)):
                problems.append(ExprError(f"'{node.op}' by the constant 0", node.pos,
                                          "divide by a column, or by a number other than 0"))
                return None
            if a is None or b is None or node.op not in ("+", "-", "*", "/", "//", "%"):
                return None
            try:
                if node.op == "+":
                    v = a + b
                elif node.op == "-":
                    v = a - b
                elif node.op == "*":
                    v = a * b
                elif node.op == "/":
                    v = a / b
                elif node.op == "//":
                    v = a // b
                else:
                    v = a % b
            except OverflowError:
                v = float("inf")
            return check(v, node, f"'{node.op}'")
        if isinstance(node, Call):
            args = [fold(a) for a in node.args]
            if node.func not in _FOLDABLE_CALLS or any(v is None for v in args):
                return None
            vals = cast(list[int | float], args)
            if node.func in UNIT_US:
                v0, unit = vals[0], UNIT_US[node.func]
                us = v0 * unit
                if isinstance(us, float) and math.isfinite(us):
                    us = round(us)  # float durations are rounded to the microsecond
                return check(us, node, f"{node.func}()")
            if node.func == "abs":
                return check(abs(vals[0]), node, "abs()")
            return (min if node.func == "min" else max)(vals)
        return None

    def visit(node: Node) -> None:
        """Fold every maximal constant sub-tree; walk into the rest."""
        if isinstance(node, (Unary, Binary, Call)) and not _has_data(node):
            fold(node)
            return
        if isinstance(node, Unary):
            visit(node.operand)
        elif isinstance(node, Binary):
            visit(node.left)
            visit(node.right)
            if node.op in ("/", "//", "%") and not _has_data(node.right):
                b = _quiet_fold(node.right)
                if b == 0 and isinstance(b, (int, float)):
                    problems.append(ExprError(f"'{node.op}' by the constant 0", node.pos,
                                              "divide by a column, or by a number other than 0"))
        elif isinstance(node, Call):
            for a in node.args:
                visit(a)

    def _quiet_fold(node: Node) -> int | float | None:
        before = len(problems)
        v = fold(node)
        del problems[before:]
        return v

    visit(expr.root)
    problems += _literal_parse_problems(expr.root)
    return problems


def _literal_parse_problems(node: Node) -> list[ExprError]:
    """``parse_date('2024-02-30')`` and the like: a string literal that does not parse."""
    import pyarrow as pa

    out: list[ExprError] = []
    if isinstance(node, Unary):
        return _literal_parse_problems(node.operand)
    if isinstance(node, Binary):
        return _literal_parse_problems(node.left) + _literal_parse_problems(node.right)
    if not isinstance(node, Call):
        return out
    for a in node.args:
        out += _literal_parse_problems(a)
    arg = node.args[0] if node.args else None
    if node.func in PARSING_FUNCTIONS and isinstance(arg, Str):
        target = node.func.partition("_")[2]
        _, bad = _PARSERS[target](pa.array([arg.value], pa.string()))
        if bad[0]:
            example = {"int": "'42'", "float": "'1.5'", "date": "'2024-01-31'",
                       "timestamp": "'2024-01-31T12:00:00Z'"}[target]
            out.append(ExprError(f"{node.func}() of {arg.value!r}: the string does not parse as {target}",
                                 arg.pos, f"write e.g. {example}"))
    return out


def _has_data(node: Node) -> bool:
    """Whether the sub-tree reads a column or draws a random number."""
    if isinstance(node, Name):
        return True
    if isinstance(node, Unary):
        return _has_data(node.operand)
    if isinstance(node, Binary):
        return _has_data(node.left) or _has_data(node.right)
    if isinstance(node, Call):
        return node.func in RANDOM_FUNCTIONS or node.func == "row" or any(_has_data(a) for a in node.args)
    return False


# --- evaluation ---------------------------------------------------------------------------------


class Env(Protocol):
    """What ``evaluate`` needs: column values and keyed random draws for one block of rows."""

    n: int
    rows: np.ndarray  # int64 absolute row indices of the block (what ``row()`` gives)

    def ref(self, name: str) -> Any: ...  # engine-unit array (numpy, or pyarrow strings)
    def kind(self, name: str) -> str: ...  # the column kind of ``name``
    def uniform(self, purpose: str) -> np.ndarray: ...  # float64 in [0, 1), one per row
    def normal(self, purpose: str) -> np.ndarray: ...  # standard normals, one per row


_INT64_MIN = -(1 << 63)
#: the largest float64 below 2**63 (int64's maximum itself rounds up to 2**63)
_INT64_MAX_FLOAT = 9223372036854774784.0


def to_int64(x: np.ndarray) -> np.ndarray:
    """Round floats to the nearest int64, saturating at int64's bounds (NaN gives 0), no error."""
    x = np.asarray(x, dtype=np.float64)
    out = np.rint(np.clip(np.nan_to_num(x, nan=0.0, posinf=_INT64_MAX_FLOAT, neginf=-_INT64_MAX_FLOAT),
                          float(_INT64_MIN), _INT64_MAX_FLOAT)).astype(np.int64)
    return np.where(x > _INT64_MAX_FLOAT, np.int64(_INT64_MAX), out)


def _saturate(exact_sign: np.ndarray, overflow: np.ndarray, wrapped: np.ndarray) -> np.ndarray:
    """``wrapped`` where no overflow happened, else int64's bound on the side of ``exact_sign``."""
    if not overflow.any():
        return wrapped
    bound = np.where(exact_sign, np.int64(_INT64_MAX), np.int64(_INT64_MIN))
    return np.where(overflow, bound, wrapped)


def sat_add(a: Any, b: Any) -> np.ndarray:
    """a + b on int64, saturating: overflow iff both operands' signs differ from the result's."""
    r = a + b
    return _saturate(a > 0, ((a ^ r) & (b ^ r)) < 0, r)


def sat_sub(a: Any, b: Any) -> np.ndarray:
    r = a - b
    return _saturate(a >= 0, ((a ^ b) & (a ^ r)) < 0, r)


def sat_mul(a: Any, b: Any) -> np.ndarray:
    """a · b on int64, saturating: without overflow r // a == b exactly (a ≠ 0); with it, r − a·b is
    a non-zero multiple of 2**64, so the quotient differs — except −1 · int64_min, checked apart."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    r = a * b
    nz = a != 0
    q = np.floor_divide(r, np.where(nz, a, 1))
    overflow = (nz & (q != b)) | ((a == -1) & (b == _INT64_MIN)) | ((b == -1) & (a == _INT64_MIN))
    return _saturate((a < 0) == (b < 0), overflow, r)


def sat_neg(a: np.ndarray) -> np.ndarray:
    return np.where(a == _INT64_MIN, np.int64(_INT64_MAX), -a)


def _strings(value: Any, n: int):
    import pyarrow as pa

    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks() if value.num_chunks != 1 else value.chunk(0)
    if not isinstance(value, pa.Array):
        arr = np.asarray(value, dtype=object)
        if arr.ndim == 0:
            return pa.repeat(pa.scalar(str(arr.item()), pa.string()), n)
        value = pa.array(arr, type=pa.string())
    if value.type != pa.string():
        value = value.cast(pa.string())
    return value


def _numbers(value: Any, dtype, n: int) -> np.ndarray:
    import pyarrow as pa

    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        value = value.to_numpy(zero_copy_only=False)
    arr = np.asarray(value)
    if arr.dtype.kind == "M":  # datetime64 → engine units
        unit = "D" if dtype == "date" else "us"
        arr = arr.astype(f"datetime64[{unit}]").view(np.int64)
    want = {"int": np.int64, "date": np.int64, "timestamp": np.int64, "duration": np.int64,
            "float": np.float64, "bool": np.bool_}[dtype]
    arr = arr.astype(want, copy=False)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=want)
    return arr


def _to_string(kind: str, v: Any):
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "string":
        return v
    if kind == "date":
        return pc.cast(pa.array(v.astype(np.int32), pa.date32()), pa.string())
    if kind == "timestamp":
        text = pc.cast(pa.array(v, pa.timestamp("us")), pa.string())
        text = pc.replace_substring_regex(text, r"\.000000$", "")
        text = pc.replace_substring(text, " ", "T")
        return pc.binary_join_element_wise(text, "Z", "")
    return pc.cast(pa.array(v), pa.string())  # int, float, bool, duration (µs)


def _union(*masks: np.ndarray | None) -> np.ndarray | None:
    """The rows null in any of ``masks`` (None: no null anywhere)."""
    out = None
    for m in masks:
        if m is not None:
            out = m if out is None else (out | m)
    return out


# --- calendar arithmetic (proleptic Gregorian, days since 1970-01-01, vectorised) --------------
# A 400-year era has 146,097 days; counting years from March puts the leap day last, so the day
# of the year gives month and day by a linear formula. 719,468 is 0000-03-01's distance to 1970.

_ERA_DAYS = 146_097
_MARCH_0000 = 719_468
#: dates are clipped to ±2**40 days (±3 billion years) before taking parts, so nothing overflows
_DAY_CLIP = 1 << 40
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month 1–12, day 1–31) of each day number."""
    z = np.clip(np.asarray(days, dtype=np.int64), -_DAY_CLIP, _DAY_CLIP) + _MARCH_0000
    era = np.floor_divide(z, _ERA_DAYS)
    doe = z - era * _ERA_DAYS  # day of the era, 0 … 146096
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365  # year of the era, 0 … 399
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)  # day of the March-based year, 0 … 365
    mp = (5 * doy + 2) // 153  # March = 0 … February = 11
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The day number of (year, month, day); the inverse of ``civil_from_days``."""
    y = np.asarray(year, dtype=np.int64) - (np.asarray(month) <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(month > 2, month - 3, month + 9)
    doy = (153 * mp + 2) // 5 + np.asarray(day, dtype=np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * _ERA_DAYS + doe - _MARCH_0000


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return _MONTH_DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)


def _day_of(kind: str, v: np.ndarray) -> np.ndarray:
    return np.floor_divide(v, US_PER_DAY) if kind == "timestamp" else v


def _trunc(unit: str, kind: str, v: np.ndarray) -> np.ndarray:
    """``date_trunc``: the start of the unit holding each value, in the value's kind."""
    if kind == "timestamp" and unit in ("hour", "minute"):
        step = 3_600_000_000 if unit == "hour" else 60_000_000
        return v - np.remainder(v, step)
    days = _day_of(kind, v)
    if unit == "week":  # weeks start on Monday (ISO 8601)
        days = days - np.remainder(days + 3, 7)
    elif unit != "day":
        year, month, _ = civil_from_days(days)
        if unit == "year":
            month = np.ones_like(month)
        elif unit == "quarter":
            month = (month - 1) // 3 * 3 + 1
        days = days_from_civil(year, month, np.ones_like(month))
    return sat_mul(days, np.int64(US_PER_DAY)) if kind == "timestamp" else days


def _date_part(f: str, kind: str, v: np.ndarray) -> np.ndarray:
    if f in ("hour", "minute", "second"):
        tod = np.remainder(v, US_PER_DAY)  # microseconds since midnight
        return {"hour": tod // 3_600_000_000, "minute": tod // 60_000_000 % 60, "second": tod // 1_000_000 % 60}[f]
    days = _day_of(kind, v)
    if f == "weekday":  # 0 = Monday … 6 = Sunday (Python's date.weekday()); 1970-01-01 was a Thursday
        return np.remainder(days + 3, 7)
    year, month, day = civil_from_days(days)
    return {"year": year, "month": month, "day": day, "quarter": (month - 1) // 3 + 1}[f]


# --- parsing strings (never raises: a string that does not parse is null) ---------------------

_DATE_RE = r"^(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})$"
_TIMESTAMP_RE = (r"^(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
                 r"(?:[T ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?"
                 r"(?P<z>Z|[+-][0-9]{2}:[0-9]{2})?)?$")
_INT_RE = r"^(?P<sign>[+-]?)0*(?P<digits>[0-9]+)$"
_FLOAT_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _extract(s, pattern: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Rows matching ``pattern`` and its named groups (as strings, "" where absent or unmatched)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    m = pc.extract_regex(s, pattern=pattern)
    ok = m.is_valid()
    fields = {}
    for i in range(m.type.num_fields):
        name = m.type.field(i).name
        fields[name] = pc.if_else(ok, pc.fill_null(m.field(i), ""), pa.scalar("", pa.string()))
    return ok.to_numpy(zero_copy_only=False).astype(np.bool_, copy=False), fields


def _digits(text) -> np.ndarray:
    """Strings of at most 18 ASCII digits (or empty, read as 0) as int64."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.replace_substring_regex(text, pattern="^$", replacement="0")
    return pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def parse_dates(s) -> tuple[np.ndarray, np.ndarray]:
    """``YYYY-MM-DD`` (years 0001–9999, a real calendar day) → (days, null mask)."""
    ok, g = _extract(s, _DATE_RE)
    y, mo, d = _digits(g["y"]), _digits(g["mo"]), _digits(g["d"])
    ok &= (y >= 1) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= _days_in_month(y, mo))
    days = days_from_civil(np.where(ok, y, 1970), np.where(ok, mo, 1), np.where(ok, d, 1))
    return np.where(ok, days, 0), ~ok


def parse_timestamps(s) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 ``YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,6}]][Z|±HH:MM]]`` → (µs since the epoch UTC, nulls)."""
    import pyarrow.compute as pc

    ok, g = _extract(s, _TIMESTAMP_RE)
    y, mo, d = _digits(g["y"]), _digits(g["mo"]), _digits(g["d"])
    h, mi, sec = _digits(g["h"]), _digits(g["mi"]), _digits(g["s"])
    frac = _digits(pc.utf8_rpad(g["f"], width=6, padding="0"))
    z = g["z"]
    zh = _digits(pc.utf8_slice_codeunits(z, 1, 3))
    zm = _digits(pc.utf8_slice_codeunits(z, 4, 6))
    zsign = np.where(pc.starts_with(z, "-").to_numpy(zero_copy_only=False), -1, 1)
    ok &= (y >= 1) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= _days_in_month(y, mo))
    ok &= (h <= 23) & (mi <= 59) & (sec <= 59) & (zh <= 23) & (zm <= 59)
    days = days_from_civil(np.where(ok, y, 1970), np.where(ok, mo, 1), np.where(ok, d, 1))
    us = (days * US_PER_DAY + h * 3_600_000_000 + mi * 60_000_000 + sec * 1_000_000 + frac
          - zsign * (zh * 60 + zm) * 60_000_000)
    return np.where(ok, us, 0), ~ok


def parse_ints(s) -> tuple[np.ndarray, np.ndarray]:
    """An optional sign and ASCII digits (leading zeros allowed, nothing else) within int64 →
    (values, null mask)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ok, g = _extract(s, _INT_RE)
    digits = g["digits"]
    neg = pc.equal(g["sign"], "-").to_numpy(zero_copy_only=False)
    size = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    le_max = pc.less_equal(digits, "9223372036854775807").to_numpy(zero_copy_only=False)
    le_min = pc.less_equal(digits, "9223372036854775808").to_numpy(zero_copy_only=False)
    ok &= (size < 19) | ((size == 19) & np.where(neg, le_min, le_max))
    digits = pc.if_else(pa.array(ok), digits, pa.scalar("0", pa.string()))
    digits = pc.replace_substring_regex(digits, pattern="^$", replacement="0")
    u = pc.cast(digits, pa.uint64()).to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    values = np.where(neg, (np.uint64(0) - u).view(np.int64), u.view(np.int64))
    return np.where(ok, values, 0), ~ok


def parse_floats(s) -> tuple[np.ndarray, np.ndarray]:
    """Decimal numbers (``-1.5``, ``.5``, ``2.``, ``1e-3``; no ``nan``/``inf``) that are finite as
    float64, correctly rounded → (values, null mask); a null is NaN."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ok = pc.fill_null(pc.match_substring_regex(s, pattern=_FLOAT_RE), False)
    text = pc.if_else(ok, s, pa.scalar("0", pa.string()))
    values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    good = ok.to_numpy(zero_copy_only=False).astype(np.bool_, copy=False) & np.isfinite(values)
    return np.where(good, values, np.nan), ~good


_PARSERS = {"int": parse_ints, "float": parse_floats, "date": parse_dates, "timestamp": parse_timestamps}


def _int_values(arr) -> np.ndarray:
    """An Arrow integer array (nulls as 0) as int64."""
    import pyarrow.compute as pc

    return pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


#: (kind, values, null mask or None) — the evaluator's intermediate results
_Val = tuple[str, Any, "np.ndarray | None"]


class _Evaluator:
    def __init__(self, env: Env):
        self.env = env
        self.n = int(env.n)
        self.refs: dict[str, tuple[str, Any]] = {}

    def full(self, value, dtype) -> np.ndarray:
        return np.full(self.n, value, dtype=dtype)

    def eval(self, node: Node) -> _Val:
        if isinstance(node, Num):
            if isinstance(node.value, int):
                return "int", self.full(node.value, np.int64), None
            return "float", self.full(node.value, np.float64), None
        if isinstance(node, Str):
            import pyarrow as pa

            return "string", pa.repeat(pa.scalar(node.value, pa.string()), self.n), None
        if isinstance(node, Bool):
            return "bool", self.full(node.value, np.bool_), None
        if isinstance(node, Name):
            return (*self.name(node), None)
        if isinstance(node, Unary):
            k, v, null = self.eval(node.operand)
            kind = _unary_kind(node, k)
            if node.op == "not":
                return kind, ~v, null
            if node.op == "-":
                return kind, (sat_neg(v) if v.dtype == np.int64 else -v), null
            return kind, v, null
        if isinstance(node, Binary):
            lk, a, an = self.eval(node.left)
            rk, b, bn = self.eval(node.right)
            kind = _binary_kind(node, lk, rk)
            with np.errstate(all="ignore"):
                return kind, self.binary(node.op, lk, rk, a, b), _union(an, bn)
        vals = [self.eval(a) for a in node.args]
        kind = _call_kind(node, [k for k, _, _ in vals])
        with np.errstate(all="ignore"):
            return self.call(node, kind, vals)

    def name(self, node: Name) -> tuple[str, Any]:
        got = self.refs.get(node.name)
        if got is None:
            kind = _column_kind(node.name, self.env.kind(node.name), node.pos)
            raw = self.env.ref(node.name)
            value = _strings(raw, self.n) if kind == "string" else _numbers(raw, kind, self.n)
            if len(value) != self.n:
                raise ValueError(f"column {node.name!r} gave {len(value)} values for a block of {self.n} rows")
            got = self.refs[node.name] = (kind, value)
        return got

    def binary(self, op: str, lk: str, rk: str, a, b):
        if op == "and":
            return a & b
        if op == "or":
            return a | b
        if op in _COMPARISONS:
            if lk == "string":
                import pyarrow.compute as pc

                fn = {"==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
                      ">": pc.greater, ">=": pc.greater_equal}[op]
                return fn(a, b).to_numpy(zero_copy_only=False).astype(np.bool_, copy=False)
            fn = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
                  ">": np.greater, ">=": np.greater_equal}[op]
            return fn(a, b)
        ints = a.dtype == np.int64 and b.dtype == np.int64
        if op == "+":
            if lk == "date":
                return sat_add(a, np.floor_divide(b, US_PER_DAY))
            if rk == "date":
                return sat_add(b, np.floor_divide(a, US_PER_DAY))
            return sat_add(a, b) if ints else a + b
        if op == "-":
            if lk == "date" and rk == "duration":
                return sat_add(a, np.floor_divide(sat_neg(b), US_PER_DAY))
            if lk == rk == "date":
                return sat_mul(sat_sub(a, b), np.int64(US_PER_DAY))
            return sat_sub(a, b) if ints else a - b
        if op == "*":
            if ints:
                return sat_mul(a, b)
            out = a * b
            if "duration" in (lk, rk):
                return to_int64(out)
            return out
        if op == "/":
            return np.where(b == 0, np.nan, np.true_divide(a, b))
        if op == "//":
            out = np.floor_divide(a, b)
            if out.dtype == np.int64:  # int64_min // -1 is the one quotient past the bounds
                return np.where((a == _INT64_MIN) & (b == -1), np.int64(_INT64_MAX), out)
            return np.where(b == 0, np.nan, out)
        # "%"
        out = np.remainder(a, b)
        return out if out.dtype == np.int64 else np.where(b == 0, np.nan, out)

    def as_kind(self, kind: str, k: str, v):
        """A value of kind ``k`` in the numpy dtype of ``kind`` (ints widen to float)."""
        return v.astype(np.float64, copy=False) if kind == "float" and k == "int" else v

    def pick(self, kind: str, conds: list[np.ndarray], branches: list[_Val]) -> _Val:
        """The branch of the first true condition, else the last branch (``if`` and ``case``)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        values = [self.as_kind(kind, k, v) for k, v, _ in branches]
        nulls = [m for _, _, m in branches]
        if kind == "string":
            out = values[-1]
            for cond, v in zip(reversed(conds), reversed(values[:-1]), strict=True):
                out = pc.if_else(pa.array(cond, pa.bool_()), v, out)
        else:
            out = np.select(conds, values[:-1], values[-1]) if conds else values[-1]
        null = None
        if any(m is not None for m in nulls):
            masks = [np.zeros(self.n, np.bool_) if m is None else m for m in nulls]
            null = np.select(conds, masks[:-1], masks[-1])
        return kind, out, null

    def call(self, node: Call, kind: str, vals: list[_Val]) -> _Val:
        f = node.func
        ks = [k for k, _, _ in vals]
        vs = [v for _, v, _ in vals]
        null = _union(*(m for _, _, m in vals))
        if f in ("if", "case"):
            # a null condition counts as false (as in SQL)
            conds = [v if m is None else v & ~m for _, v, m in vals[:-1:2]]
            return self.pick(kind, conds, [*vals[1::2], vals[-1]])
        if f == "coalesce":
            return self.coalesce(kind, vals)
        if f == "is_null":
            return "bool", self.null_or_nan(vals[0]), None
        if f in PARSING_FUNCTIONS:
            return self.convert(f, kind, vals[0])
        return kind, self.plain(node, kind, ks, vs), null

    @staticmethod
    def null_or_nan(val: _Val) -> np.ndarray:
        k, v, m = val
        out = np.isnan(v) if k == "float" else np.zeros(len(v), np.bool_)
        return out if m is None else (out | m)

    def coalesce(self, kind: str, vals: list[_Val]) -> _Val:
        """The first argument that is neither null nor NaN, row by row (vectorised, last first)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        k, out, _ = vals[-1]
        out = self.as_kind(kind, k, out)
        null = self.null_or_nan(vals[-1])
        for val in reversed(vals[:-1]):
            k, v, _ = val
            here = ~self.null_or_nan(val)
            if kind == "string":
                out = pc.if_else(pa.array(here, pa.bool_()), v, out)
            else:
                out = np.where(here, self.as_kind(kind, k, v), out)
            null = null & ~here
        return kind, out, (null if null.any() else None)

    def convert(self, f: str, kind: str, val: _Val) -> _Val:
        """``to_int``/``to_float``/``to_date``/``to_timestamp``/``parse_date``/``parse_timestamp``."""
        k, v, null = val
        if k == "string":
            values, bad = _PARSERS[kind](v)
            return kind, values, _union(null, bad if bad.any() else None)
        if kind == "int":
            if k == "float":  # toward zero, saturating; NaN gives 0 (as when an int column stores it)
                return kind, to_int64(np.trunc(v)), null
            return kind, v.astype(np.int64, copy=False), null  # bool 0/1; date days; timestamp, duration µs
        if kind == "float":
            return kind, v.astype(np.float64, copy=False), null
        if kind == k:
            return kind, v, null
        if kind == "date":  # from a timestamp: the day it falls on
            return kind, np.floor_divide(v, US_PER_DAY), null
        return kind, sat_mul(v, np.int64(US_PER_DAY)), null  # timestamp from a date: its midnight

    def plain(self, node: Call, kind: str, ks: list[str], vs: list[Any]):
        """Functions whose result is null exactly where an argument is."""
        f = node.func
        if f in UNIT_US:
            unit = UNIT_US[f]
            return sat_mul(vs[0], np.int64(unit)) if ks[0] == "int" else to_int64(vs[0] * float(unit))
        if f == "round":
            if len(vs) == 1:
                return vs[0] if ks[0] == "int" else to_int64(vs[0])
            decimals = int(cast(Num, node.args[1]).value)
            return vs[0] if ks[0] == "int" and decimals >= 0 else np.round(vs[0], decimals)
        if f == "abs":
            return sat_neg(-np.abs(vs[0])) if vs[0].dtype == np.int64 else np.abs(vs[0])
        if f in ("floor", "ceil"):
            if ks[0] == "int":
                return vs[0]
            return to_int64(np.floor(vs[0]) if f == "floor" else np.ceil(vs[0]))
        if f in ("min", "max"):
            want = np.float64 if kind == "float" else np.int64
            arrays = [v.astype(want, copy=False) for v in vs]
            return reduce(np.minimum if f == "min" else np.maximum, arrays)
        if f == "row":
            rows = np.asarray(self.env.rows, dtype=np.int64)
            if len(rows) != self.n:
                raise ValueError(f"the environment gave {len(rows)} row indices for a block of {self.n} rows")
            return rows
        if f in ("year", "quarter", "month", "day", "weekday", "hour", "minute", "second"):
            return _date_part(f, ks[0], vs[0])
        if f == "date_trunc":
            return _trunc(cast(Str, node.args[0]).value, ks[1], vs[1])
        if f in RANDOM_FUNCTIONS:
            return self.draw(node, vs)
        return self.text(node, ks, vs)

    def text(self, node: Call, ks: list[str], vs: list[Any]):
        import pyarrow.compute as pc

        f = node.func
        if f in ("lower", "upper"):
            return (pc.utf8_lower if f == "lower" else pc.utf8_upper)(vs[0])
        if f == "concat":
            return pc.binary_join_element_wise(*[_to_string(k, v) for k, v in zip(ks, vs, strict=True)], "")
        if f == "to_string":
            return _to_string(ks[0], vs[0])
        if f == "length":  # in characters (code points)
            return _int_values(pc.utf8_length(vs[0]))
        if f in ("trim", "ltrim", "rtrim"):
            fn = {"trim": pc.utf8_trim, "ltrim": pc.utf8_ltrim, "rtrim": pc.utf8_rtrim}[f]
            return fn(vs[0], characters=TRIM_CHARACTERS)
        if f == "replace":
            old, new = (cast(Str, a).value for a in node.args[1:])
            return pc.replace_substring(vs[0], pattern=old, replacement=new)
        if f == "substring":  # 1-based like SQL: substring(s, 2, 3) is s[1:4] in Python
            start = int(cast(Num, node.args[1]).value) - 1
            if len(node.args) == 2:
                return pc.utf8_slice_codeunits(vs[0], start=start)
            return pc.utf8_slice_codeunits(vs[0], start=start, stop=start + int(cast(Num, node.args[2]).value))
        # lpad, rpad: like Python's str.rjust / str.ljust (a longer string is kept whole)
        width = int(cast(Num, node.args[1]).value)
        fill = cast(Str, node.args[2]).value if len(node.args) == 3 else " "
        return (pc.utf8_lpad if f == "lpad" else pc.utf8_rpad)(vs[0], width=width, padding=fill)

    def draw(self, node: Call, vs: list[Any]) -> np.ndarray:
        """Inline random draws: each call has its own purpose, so each draw is addressable per row."""
        f = node.func
        purpose = f"expr:{node.rand}"
        args = [v.astype(np.float64, copy=False) for v in vs]
        if f == "uniform":
            u = np.asarray(self.env.uniform(purpose), dtype=np.float64)
            return args[0] + (args[1] - args[0]) * u
        if f == "normal":
            z = np.asarray(self.env.normal(purpose), dtype=np.float64)
            return args[0] + args[1] * z
        u = np.asarray(self.env.uniform(purpose), dtype=np.float64)
        return -args[0] * pmath.log1p(-u)


def evaluate(expr: Expr | str, env: Env):
    """Evaluate on a whole block: numpy arrays in engine units, or a pyarrow string array.

    Raises ExprError for type errors (the same ones ``infer_kind`` reports).
    """
    return evaluate_typed(expr, env)[1]


def evaluate_typed(expr: Expr | str, env: Env) -> tuple[str, Any]:
    """``evaluate`` that also returns the result's kind (one of ``KINDS``)."""
    kind, values, _ = evaluate_masked(expr, env)
    return kind, values


def evaluate_masked(expr: Expr | str, env: Env) -> tuple[str, Any, np.ndarray | None]:
    """``evaluate_typed`` with the null mask (None when no row is null; see ``null_source``).
    A null row's value is 0, NaN, 1970-01-01, the epoch or whatever the operators make of those."""
    expr = _as_expr(expr)
    kind, values, null = _Evaluator(env).eval(expr.root)
    return kind, values, (null if null is not None and null.any() else None)
