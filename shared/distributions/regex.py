"""The ``regex`` generator: strings that fully match a pattern from a documented subset.

Supported subset (every generated value satisfies ``re.fullmatch(pattern, value)``):

===================  ==========================================================================
construct            meaning here
===================  ==========================================================================
``abc``              literal characters (any character that is not special)
``\\+ \\. \\- \\\\`` …    escaped punctuation is literal; ``\\n \\t \\r \\f \\v \\a`` controls;
                     ``\\xhh``, ``\\uhhhh``, ``\\Uhhhhhhhh`` code points
``[A-Z0-9_]``        character classes with ranges, escapes and ``\\d \\w \\s`` inside;
                     a ``]`` right after ``[`` is literal. Negation ``[^…]`` is refused.
``\\d  \\w  \\s``       ``[0-9]``, ``[A-Za-z0-9_]`` (ASCII only), a single space
``.``                ASCII letters and digits (``[A-Za-z0-9]``)
``( … )``            groups; also ``(?: … )`` and ``(?P<name> … )``
``a|b``              alternation, at the top level and inside groups (options equally likely)
``? * + {m} {m,}``   quantifiers (a lazy ``?`` suffix is accepted and changes nothing);
``{,n} {m,n}``       unbounded ones are capped: ``*`` = ``{0,8}``, ``+`` = ``{1,9}``,
                     ``{m,}`` = ``{m,m+8}`` (``UNBOUNDED_EXTRA``); counts are uniform
``^ … $``            anchors only at the very start / end, where they are ignored
===================  ==========================================================================

Refused with a message (and a hint): negated classes and shorthands (``[^…]``, ``\\D \\W \\S``),
back-references and octal escapes, word boundaries and other anchors, look-arounds and inline
flags ``(?…)``, possessive quantifiers, an unescaped ``{`` that is not a quantifier, an unescaped
``[`` inside a class, ``-- && ~~ ||`` inside a class (Python reserves them for set operations),
surrogate code points. Size budget: a pattern longer than ``MAX_PATTERN_LENGTH`` (1000)
characters, group nesting deeper than ``MAX_DEPTH`` (32), a longest match over
``MAX_EXPANDED_LENGTH`` (10,000) characters or more than ``MAX_EXPANDED_NODES`` (20,000) expanded
nodes (alternatives counted in full) is refused.

How it runs: a pattern is compiled ONCE (cached) into a small tree of nodes — character sets,
sequences, alternations and repeats. Generation is vectorised: each node draws the choices of
all rows at once from its own purpose stream named after the node's position in the pattern
(``value/re<offset><kind>``, plus ``@i`` per enclosing repetition index ``i``), so changing the
end of a pattern leaves the draws of earlier nodes alone. Every node fills a fixed-width block of
a ``(rows, width)`` code-point matrix (``-1`` = no character); an alternation or a repetition
computes each branch only for the rows that take it (the draws are row-addressed, so a subset
gives the same values as the full block). The matrix is then compacted and UTF-8 encoded into
one Arrow string array with numpy — no per-row Python loop.

Unique values: a pattern is *unique-capable* (``supports_unique``) when it is fixed-length —
made only of literals, classes and fixed-count repeats ``{m}`` (groups allowed, no alternation,
no optional or variable parts). Then each string has exactly one derivation, its capacity is
the product of the class sizes over all positions, and ``from_index`` is a bijection decoding
a mixed-radix index (last position varies fastest). Capacities above ``INDEX_LIMIT`` (2**62)
are reported as ``INDEX_LIMIT``: the index is decoded into the trailing positions (which
alone keep the map injective) and the leading positions are drawn from their own streams.
Any other pattern has ``capacity`` None and cannot be ``unique`` (the planner calls
``supports_unique`` and refuses such a column; alternations and optional parts can derive one
string twice, so no bijection from an index exists without enumeration).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from shared.distributions.base import Generator, obj, register
from shared.io import rng

MAX_PATTERN_LENGTH = 1000
MAX_DEPTH = 32
MAX_EXPANDED_LENGTH = 10_000
MAX_EXPANDED_NODES = 20_000
MAX_REPEAT = 10_000
UNBOUNDED_EXTRA = 8
INDEX_LIMIT = 1 << 62
#: rows per internal chunk are chosen so that a chunk's code matrix stays near this many cells
_CELL_BUDGET = 1 << 22

_DIGITS = tuple(range(ord("0"), ord("9") + 1))
_UPPER = tuple(range(ord("A"), ord("Z") + 1))
_LOWER = tuple(range(ord("a"), ord("z") + 1))
_WORD = tuple(sorted(_DIGITS + _UPPER + _LOWER + (ord("_"),)))
_DOT = tuple(sorted(_DIGITS + _UPPER + _LOWER))
_SPACE = (ord(" "),)
_SHORTHANDS = {"d": _DIGITS, "w": _WORD, "s": _SPACE}
_CONTROLS = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class RegexError(ValueError):
    """A pattern outside the supported subset or over the size budget."""

    def __init__(self, message: str, offset: int, hint: str | None = None):
        super().__init__(f"{message} at offset {offset}")
        self.message = message
        self.offset = offset
        self.hint = hint


# --- the compiled program ---------------------------------------------------------------------


@dataclass(frozen=True)
class Chars:
    """One character drawn uniformly from a set (a literal is a set of one)."""

    offset: int
    codes: tuple[int, ...]  # sorted, distinct code points


@dataclass(frozen=True)
class Seq:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Alt:
    offset: int
    options: tuple[Any, ...]


@dataclass(frozen=True)
class Repeat:
    offset: int  # position of the quantifier
    child: Any
    lo: int
    hi: int


@dataclass(frozen=True)
class Program:
    pattern: str
    root: Any
    max_length: int
    fixed: bool  # fixed-length, single-derivation: unique-capable
    capacity: int  # exact number of distinct strings when fixed (else 0)


def _width(node) -> int:
    if isinstance(node, Chars):
        return 1
    if isinstance(node, Seq):
        return sum(_width(c) for c in node.items)
    if isinstance(node, Alt):
        return max(_width(o) for o in node.options)
    return node.hi * _width(node.child)


def _expanded_nodes(node) -> int:
    if isinstance(node, Chars):
        return 1
    if isinstance(node, Seq):
        return 1 + sum(_expanded_nodes(c) for c in node.items)
    if isinstance(node, Alt):
        return 1 + sum(_expanded_nodes(o) for o in node.options)
    return 1 + node.hi * _expanded_nodes(node.child)


def _is_fixed(node) -> bool:
    if isinstance(node, Chars):
        return True
    if isinstance(node, Seq):
        return all(_is_fixed(c) for c in node.items)
    if isinstance(node, Alt):
        return False
    return node.lo == node.hi and _is_fixed(node.child)


def _capacity(node) -> int:
    if isinstance(node, Chars):
        return len(node.codes)
    if isinstance(node, Seq):
        out = 1
        for c in node.items:
            out *= _capacity(c)
        return out
    return _capacity(node.child) ** node.hi  # fixed repeats only; int ** int: exact


# --- parser -----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, pattern: str):
        self.s = pattern
        self.i = 0
        self.end = len(pattern)

    def error(self, message: str, offset: int | None = None, hint: str | None = None):
        raise RegexError(message, self.i if offset is None else offset, hint)

    def parse(self):
        s = self.s
        if s.startswith("^"):
            self.i = 1
        if s.endswith("$") and self.end > self.i:
            slashes = len(s[:-1]) - len(s[:-1].rstrip("\\"))
            if slashes % 2 == 0:
                self.end -= 1
        root = self._alt(0, self.i)
        if self.i < self.end:
            self.error("unbalanced ')'", hint="remove it or escape it as \\)")
        return root

    def _peek(self) -> str | None:
        return self.s[self.i] if self.i < self.end else None

    def _alt(self, depth: int, offset: int):
        options = [self._seq(depth)]
        while self._peek() == "|":
            self.i += 1
            options.append(self._seq(depth))
        return options[0] if len(options) == 1 else Alt(offset, tuple(options))

    def _seq(self, depth: int) -> Seq:
        items: list = []
        while (c := self._peek()) is not None and c not in "|)":
            atom = self._atom(depth)
            quantified = lazy_seen = False
            while (q := self._peek()) is not None and q in "?*+{":
                q_at = self.i
                if q == "{" and not self._brace_quantifier_ahead():
                    break  # refused by _atom on the next turn
                if quantified:
                    if q == "?" and not lazy_seen:
                        self.i += 1  # lazy suffix: the same set of full matches
                        lazy_seen = True
                        continue
                    if q == "+" and not lazy_seen:
                        self.error("possessive quantifiers are not supported",
                                   hint="remove the trailing '+' (a greedy quantifier)")
                    self.error("multiple repeat", hint="wrap the repeated part in a group: (…){m}")
                lo, hi = self._quantifier()
                atom = Repeat(q_at, atom, lo, hi)
                quantified, lazy_seen = True, False
            items.append(atom)
        return Seq(tuple(items))

    def _brace_quantifier_ahead(self) -> bool:
        return re.match(r"\{(\d*)(,?)(\d*)\}", self.s[self.i:self.end]) is not None \
            and self.s[self.i:self.i + 2] != "{}"

    def _quantifier(self) -> tuple[int, int]:
        c = self.s[self.i]
        at = self.i
        self.i += 1
        if c == "?":
            return 0, 1
        if c == "*":
            return 0, UNBOUNDED_EXTRA
        if c == "+":
            return 1, 1 + UNBOUNDED_EXTRA
        m = re.match(r"(\d*)(,?)(\d*)\}", self.s[self.i:self.end])
        assert m is not None  # the caller saw a '{' that opens a valid repeat
        self.i += m.end()
        lo_t, comma, hi_t = m.groups()
        lo = int(lo_t) if lo_t else 0
        if not comma:
            hi = lo
        elif hi_t:
            hi = int(hi_t)
        else:
            hi = lo + UNBOUNDED_EXTRA
        if max(lo, hi) > MAX_REPEAT:
            self.error(f"repeat count over {MAX_REPEAT}", at, hint="use a smaller count")
        if lo > hi:
            self.error(f"min repeat {lo} greater than max repeat {hi}", at, hint=f"write {{{hi},{lo}}}")
        return lo, hi

    def _atom(self, depth: int):
        s, at = self.s, self.i
        c = s[at]
        if c == "(":
            return self._group(depth)
        if c == "[":
            return self._class()
        if c == ".":
            self.i += 1
            return Chars(at, _DOT)
        if c == "\\":
            codes = self._escape()
            return Chars(at, codes)
        if c in "*+?":
            self.error("nothing to repeat", hint="escape the character (\\" + c + ") to mean it literally")
        if c == "{":
            if self._brace_quantifier_ahead():
                self.error("nothing to repeat", hint="escape the brace as \\{ to mean it literally")
            self.error("a literal '{' must be escaped", hint="write \\{")
        if c == "^":
            self.error("anchor '^' is only supported at the start of the pattern",
                       hint="escape it as \\^ to mean a literal caret")
        if c == "$":
            self.error("anchor '$' is only supported at the end of the pattern",
                       hint="escape it as \\$ to mean a literal dollar")
        self.i += 1
        return Chars(at, (self._code(c, at),))

    def _code(self, ch: str, at: int) -> int:
        cp = ord(ch)
        if 0xD800 <= cp <= 0xDFFF:
            self.error("surrogate code points cannot be generated", at)
        return cp

    def _group(self, depth: int):
        s, at = self.s, self.i
        if depth + 1 > MAX_DEPTH:
            self.error(f"groups nested deeper than {MAX_DEPTH}", hint="flatten the pattern")
        if s.startswith("(?:", at):
            self.i += 3
        elif s.startswith("(?P<", at):
            close = s.find(">", at + 4, self.end)
            name = s[at + 4:close] if close >= 0 else ""
            if close < 0 or not name.isidentifier():
                self.error("bad group name", hint="write (?P<name>…) with a Python identifier")
            self.i = close + 1
        elif s.startswith("(?", at):
            self.error("unsupported group construct '(?…' (look-arounds, flags, back-references)",
                       hint="use a plain group ( … ) or (?: … )")
        else:
            self.i += 1
        node = self._alt(depth + 1, at)
        if self._peek() != ")":
            self.error(f"missing ')' for the group opened at offset {at}", hint="close the group")
        self.i += 1
        return node

    def _escape(self) -> tuple[int, ...]:
        """Parse an escape at ``self.i`` (the backslash); return its code points."""
        s, at = self.s, self.i

        def bad(message: str, hint: str | None = None):
            self.error(message, at, hint)

        if at + 1 >= self.end:
            bad("pattern ends with a lone backslash", hint="write \\\\ for a literal backslash")
        e = s[at + 1]
        self.i = at + 2
        if e in _SHORTHANDS:
            return _SHORTHANDS[e]
        if e in "DWS":
            bad(f"negated shorthand \\{e} is not supported",
                hint="list the wanted characters in a class, e.g. [A-Za-z]")
        if e in _CONTROLS:
            return (ord(_CONTROLS[e]),)
        if e in _HEX_ESCAPES:
            k = _HEX_ESCAPES[e]
            digits = s[at + 2:at + 2 + k]
            if len(digits) != k or not all(d in "0123456789abcdefABCDEF" for d in digits) or at + 2 + k > self.end:
                bad(f"bad escape \\{e}: expected {k} hex digits")
            self.i = at + 2 + k
            cp = int(digits, 16)
            if cp > 0x10FFFF:
                bad(f"code point {digits} out of range")
            if 0xD800 <= cp <= 0xDFFF:
                bad("surrogate code points cannot be generated")
            return (cp,)
        if e.isdigit():
            bad("back-references and octal escapes are not supported",
                hint="use \\xhh for a code point")
        if e in "bBAZzG":
            bad(f"anchor or boundary \\{e} is not supported",
                hint="remove it; values are generated whole")
        if e.isascii() and e.isalpha():
            bad(f"bad escape \\{e}", hint="escape only punctuation; \\d \\w \\s are the shorthands")
        return (self._code(e, at + 1),)

    def _class(self) -> Chars:
        s, at = self.s, self.i
        j = at + 1
        if j < self.end and s[j] == "^":
            self.error("negated character classes [^…] are not supported",
                       hint="list the wanted characters instead, e.g. [A-Za-z0-9]")
        codes: set[int] = set()
        first = True
        self.i = j
        while True:
            if self.i >= self.end:
                self.error("unterminated character class", at, hint="close it with ]")
            c = s[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            if c == "[":
                self.error("an unescaped '[' inside a character class", hint="write \\[")
            if c in "-&~|" and s[self.i + 1:self.i + 2] == c and self.i + 1 < self.end:
                self.error(f"'{c}{c}' inside a class is reserved by Python for set operations",
                           hint=f"escape it: \\{c}")
            item_at = self.i
            lo = self._class_item()
            first = False
            # a range: lo '-' hi, unless the '-' is the last character before ']'
            if s[self.i:self.i + 2] == "--":
                self.error("'--' inside a class is reserved by Python for set operations",
                           hint="escape it: \\-")
            if (self.i + 1 < self.end and s[self.i] == "-" and s[self.i + 1] != "]"):
                if len(lo) != 1:
                    self.error("bad character range (a shorthand cannot start a range)", item_at)
                self.i += 1
                if s[self.i] == "[":
                    self.error("an unescaped '[' inside a character class", hint="write \\[")
                hi = self._class_item()
                if len(hi) != 1:
                    self.error("bad character range (a shorthand cannot end a range)", item_at)
                a, b = lo[0], hi[0]
                if a > b:
                    self.error(f"bad character range {chr(a)}-{chr(b)}", item_at,
                               hint=f"write {chr(b)}-{chr(a)}")
                codes.update(range(a, b + 1))
            else:
                codes.update(lo)
        usable = tuple(sorted(cp for cp in codes if not 0xD800 <= cp <= 0xDFFF))
        if not usable:
            self.error("character class contains only surrogate code points", at)
        return Chars(at, usable)

    def _class_item(self) -> tuple[int, ...]:
        c = self.s[self.i]
        if c == "\\":
            if self.s[self.i + 1:self.i + 2] == "b":
                self.error("\\b inside a class (backspace) is not supported", hint="write \\x08")
            return self._escape()
        self.i += 1
        return (self._code(c, self.i - 1),)


_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_OPEN_MIN = re.compile(r"\{,(\d*)\}")


def to_re2(pattern: str) -> str:
    """``pattern`` (Python ``re`` syntax, as schemas write it) spelled for RE2, the linear-time
    engine ``validate`` checks ``pattern`` with (Arrow's ``match_substring_regex``).

    RE2 reads some Python spellings differently or not at all; they are rewritten, outside
    character classes only where that matters: ``{,n}`` and ``{,}`` → ``{0,n}`` / ``{0,}`` (RE2
    takes ``{,n}`` as literal text, so every value would fail), ``\\uXXXX`` / ``\\UXXXXXXXX`` →
    ``\\x{…}``, ``\\Z`` → ``\\z``. What RE2 cannot do in linear time (back-references,
    look-arounds) is left for it to refuse, with a clear failed check.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    class_at = -1  # index of the '[' of the class we are in, -1 outside
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e == "u" and _HEX4.fullmatch(pattern, i + 2, i + 6):
                out.append("\\x{" + pattern[i + 2:i + 6] + "}")
                i += 6
                continue
            if e == "U" and _HEX8.fullmatch(pattern, i + 2, i + 10):
                out.append("\\x{" + pattern[i + 2:i + 10] + "}")
                i += 10
                continue
            out.append("\\z" if e == "Z" and class_at < 0 else pattern[i:i + 2])
            i += 2
            continue
        if class_at >= 0:
            first = i == class_at + 1 or (i == class_at + 2 and pattern[class_at + 1] == "^")
            if c == "]" and not first:
                class_at = -1
        elif c == "[":
            class_at = i
        elif c == "{":
            m = _OPEN_MIN.match(pattern, i)
            if m and out and out[-1] not in "(|":  # after an atom: a quantifier in Python
                out.append("{0," + m.group(1) + "}")
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Program:
    """Parse and check a pattern once; raises ``RegexError`` (message, offset, hint)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexError(f"pattern longer than {MAX_PATTERN_LENGTH} characters", MAX_PATTERN_LENGTH,
                         "split the column or simplify the pattern")
    root = _Parser(pattern).parse()
    width = _width(root)
    if width > MAX_EXPANDED_LENGTH:
        raise RegexError(f"longest match has {width} characters (budget {MAX_EXPANDED_LENGTH})", 0,
                         "lower the repeat counts; unbounded * + {m,} count as +8")
    nodes = _expanded_nodes(root)
    if nodes > MAX_EXPANDED_NODES:
        raise RegexError(f"pattern expands to {nodes} nodes (budget {MAX_EXPANDED_NODES})", 0,
                         "lower the repeat counts of groups with alternatives")
    fixed = _is_fixed(root)
    return Program(pattern, root, width, fixed, _capacity(root) if fixed else 0)


# --- vectorised evaluation --------------------------------------------------------------------


def _purpose(offset: int, kind: str, path: str) -> str:
    return f"value/re{offset}{kind}{path}"


class _Evaluator:
    """Fills code-point matrices for arbitrary row subsets from row-addressed keyed draws."""

    def __init__(self, ctx):
        self.ctx = ctx

    def draw(self, purpose: str, k: int, rows: np.ndarray) -> np.ndarray:
        # identical to ctx.integers(0, k - 1, purpose) restricted to ``rows``
        return rng.integers(self.ctx.key(purpose), rows, 0, k - 1)

    def gen(self, node, rows: np.ndarray, path: str) -> np.ndarray:
        m = rows.shape[0]
        if isinstance(node, Chars):
            if len(node.codes) == 1:
                return np.full((m, 1), node.codes[0], dtype=np.int32)
            table = np.asarray(node.codes, dtype=np.int32)
            return table[self.draw(_purpose(node.offset, "c", path), len(node.codes), rows)][:, None]
        if isinstance(node, Seq):
            if not node.items:
                return np.empty((m, 0), dtype=np.int32)
            parts = [self.gen(c, rows, path) for c in node.items]
            return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        if isinstance(node, Alt):
            out = np.full((m, _width(node)), -1, dtype=np.int32)
            choice = self.draw(_purpose(node.offset, "a", path), len(node.options), rows)
            for i, option in enumerate(node.options):
                sel = np.flatnonzero(choice == i)
                if sel.size:
                    sub = self.gen(option, rows[sel], path)
                    out[sel, :sub.shape[1]] = sub
            return out
        # Repeat
        w = _width(node.child)
        out = np.full((m, node.hi * w), -1, dtype=np.int32)
        count: np.ndarray | None
        if node.lo == node.hi:
            count = None
        else:
            count = node.lo + self.draw(_purpose(node.offset, "q", path), node.hi - node.lo + 1, rows)
        for i in range(node.hi):
            taken = None if (count is None or i < node.lo) else np.flatnonzero(count > i)
            sub_rows = rows if taken is None else rows[taken]
            if sub_rows.size == 0:
                break  # counts are ≤ i for every row: no later repetition is taken either
            sub = self.gen(node.child, sub_rows, f"{path}@{i}")
            if taken is None:
                out[:, i * w:(i + 1) * w] = sub
            else:
                out[taken, i * w:(i + 1) * w] = sub
        return out

    def positions(self, node, path: str, acc: list) -> list:
        """The (purpose, codes) of every position of a fixed-length program, in order."""
        if isinstance(node, Chars):
            acc.append((_purpose(node.offset, "c", path), np.asarray(node.codes, dtype=np.int32)))
        elif isinstance(node, Seq):
            for c in node.items:
                self.positions(c, path, acc)
        else:  # fixed Repeat
            for i in range(node.hi):
                self.positions(node.child, f"{path}@{i}", acc)
        return acc


def codepoints_to_strings(codes: np.ndarray) -> pa.Array:
    """A pyarrow string array from a ``(rows, width)`` code-point matrix (``-1`` = no character).

    Row-major boolean indexing keeps each row's characters in order; UTF-8 encoding is done
    with numpy on the flat code points. Vectorised, no per-row loop.
    """
    codes = np.asarray(codes)
    n = codes.shape[0]
    mask = codes >= 0
    flat = codes[mask].astype(np.uint32)
    nbytes = (1 + (flat >= 0x80) + (flat >= 0x800) + (flat >= 0x10000)).astype(np.int64)
    per_cell = np.zeros(codes.shape, dtype=np.int64)
    per_cell[mask] = nbytes
    lengths = per_cell.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    if total >= (1 << 31):
        raise OverflowError("a string block over 2 GiB; generate smaller blocks")
    if flat.size == 0 or int(nbytes.max()) == 1:
        data = flat.astype(np.uint8)
    else:
        data = np.empty(total, dtype=np.uint8)
        start = np.cumsum(nbytes) - nbytes
        for k, lead in ((1, 0x00), (2, 0xC0), (3, 0xE0), (4, 0xF0)):
            sel = nbytes == k
            if not sel.any():
                continue
            cp, pos = flat[sel], start[sel]
            data[pos] = (lead | (cp >> np.uint32(6 * (k - 1)))).astype(np.uint8)
            for t in range(1, k):
                data[pos + t] = (0x80 | ((cp >> np.uint32(6 * (k - 1 - t))) & np.uint32(0x3F))).astype(np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data.tobytes()))


def _chunks(rows: np.ndarray, width: int):
    step = max(1, _CELL_BUDGET // max(1, width))
    for a in range(0, rows.shape[0], step):
        yield a, rows[a:a + step]


def _concat(arrays: list[pa.Array]) -> pa.Array:
    if not arrays:
        return pa.array([], type=pa.string())
    return arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)


@register("regex")
class Regex(Generator):
    """Strings fully matching ``pattern``, a documented regex subset (see the module docs):
    literals, escapes, classes with ranges, ``\\d \\w \\s .``, groups, alternation and the
    quantifiers ``? * + {m} {m,} {m,n}`` (unbounded ones capped at +8). Unique only for
    fixed-length patterns (literals, classes, ``{m}``), via a mixed-radix index bijection."""

    kinds = frozenset({"string"})
    params_schema = obj(("pattern",), pattern={"type": "string"})
    #: only for patterns where ``supports_unique(params)`` is true; others have no unique support
    unique_strategy = "index"

    def check(self, column, table, schema):
        pattern = column.generator.params.get("pattern")
        if not isinstance(pattern, str):
            return [("regex needs a string 'pattern'", "params.pattern", None)]
        try:
            compile_pattern(pattern)
        except RegexError as e:
            return [(f"regex pattern: {e}", "params.pattern", e.hint)]
        try:
            re.compile(pattern)
        except re.error as e:  # accepted by the subset parser but not by Python: refuse as well
            return [(f"regex pattern is not valid for Python's re: {e}", "params.pattern", None)]
        return []

    def supports_unique(self, params) -> bool:
        """True when ``unique: true`` can be honoured: the pattern is fixed-length (literals,
        classes and fixed ``{m}`` repeats only), so every string has one derivation and
        ``from_index`` is a bijection of ``[0, capacity)``. The planner must refuse a unique
        regex column for which this is False."""
        try:
            return compile_pattern(params["pattern"]).fixed
        except (RegexError, KeyError, TypeError):
            return False

    def capacity(self, column, params, plan) -> int | None:
        try:
            prog = compile_pattern(params["pattern"])
        except (RegexError, KeyError, TypeError):
            return None
        return min(prog.capacity, INDEX_LIMIT) if prog.fixed else None

    def generate(self, ctx):
        prog = compile_pattern(ctx.params["pattern"])
        if ctx.unique and prog.fixed:
            return self.from_index(ctx.permute(min(prog.capacity, INDEX_LIMIT)), ctx)
        ev = _Evaluator(ctx)
        rows = np.asarray(ctx.rows, dtype=np.int64)
        return _concat([codepoints_to_strings(ev.gen(prog.root, r, ""))
                        for _, r in _chunks(rows, prog.max_length)])

    def from_index(self, idx, ctx):
        """Decode domain indices (one per row of ``ctx.rows``, in ``[0, capacity)``) into
        strings: mixed radix over the positions, the last position varying fastest."""
        prog = compile_pattern(ctx.params["pattern"])
        if not prog.fixed:
            raise ValueError(f"regex {prog.pattern!r} is not fixed-length: no index bijection")
        ev = _Evaluator(ctx)
        positions = ev.positions(prog.root, "", [])
        idx = np.asarray(idx, dtype=np.int64)
        rows = np.asarray(ctx.rows, dtype=np.int64)
        out = []
        for a, r in _chunks(rows, prog.max_length):
            rest = idx[a:a + r.shape[0]].copy()
            codes = np.empty((r.shape[0], len(positions)), dtype=np.int32)
            covered = 1
            for j in range(len(positions) - 1, -1, -1):
                purpose, table = positions[j]
                k = table.shape[0]
                if k == 1:
                    codes[:, j] = table[0]
                elif covered < INDEX_LIMIT:
                    codes[:, j] = table[rest % k]
                    rest //= k
                    covered *= k
                else:  # the index is fully decoded: leading positions are free draws
                    codes[:, j] = table[ev.draw(purpose, k, r)]
            out.append(codepoints_to_strings(codes))
        return _concat(out)
