"""Column types of the DSL and their engine representation.

Each DSL type maps to exactly one Arrow type (``DType.arrow``) — the one every writer renders.
Inside the engine values travel in *engine units*:

=========  ==========================  =====================================
kind       DSL types                   engine values
=========  ==========================  =====================================
int        int8, int16, int32, int64   numpy int64
float      float32, float64            numpy float64
decimal    decimal(p,s)                numpy float64 (rounded half-even at the end; written
                                       exactly at any precision, see constraints.coerce)
bool       bool                        numpy bool
string     string                      pyarrow string array
date       date                        numpy int64: days since 1970-01-01
timestamp  timestamp                   numpy int64: microseconds since the epoch, UTC
uuid       uuid                        pyarrow string array (canonical 36-char form)
struct     struct (with ``fields``)    pyarrow StructArray, assembled from its fields' columns
list       list (with ``items``)       pyarrow ListArray, assembled from its items' column
=========  ==========================  =====================================

A nested type carries its children (``DType.children``): a struct one ``Child`` per field, a
list one ``Child`` for its items; ``DType.arrow`` builds the nested Arrow type from them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

import pyarrow as pa

from shared.model.timeutil import TIMESTAMP_MAX_US, TIMESTAMP_MIN_US

INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
FLOAT_BITS = {"float32": 32, "float64": 64}
SIMPLE = {"bool": "bool", "string": "string", "date": "date", "timestamp": "timestamp", "uuid": "uuid"}
#: the nested types: their children are given by the column's ``fields`` (struct) or ``items`` (list)
NESTED = {"struct": "struct", "list": "list"}
NESTED_KINDS = frozenset(NESTED)
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
TYPE_NAMES = (*INT_BITS, *FLOAT_BITS, "decimal(p,s)", *SIMPLE, *NESTED)
#: Arrow field metadata of a struct field written with ``present``: formats that can leave a key
#: out (JSON) omit it where the value is absent (null)
PRESENT_META = b"datagen.present"
#: the name of a list's item field in Arrow (as Parquet's compliant nested types write it)
LIST_ITEM = "element"
NUMERIC_KINDS = frozenset({"int", "float", "decimal"})
ORDERED_KINDS = NUMERIC_KINDS | {"date", "timestamp"}
TEXT_KINDS = frozenset({"string", "uuid"})
#: the instants every format can write and read back: 0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999999Z
#: (CSV and JSON render four-digit years; Arrow's readers refuse a fifth digit): TIMESTAMP_MIN_US and
#: TIMESTAMP_MAX_US, defined with the time parsers, which refuse a relative time outside them
#: the same range in days since 1970-01-01: 0001-01-01 … 9999-12-31
DATE_MIN_DAYS = -719_162
DATE_MAX_DAYS = 2_932_896


@dataclass(frozen=True)
class Child:
    """A child of a nested type: a struct field (``name`` its key) or a list's items (``item``)."""

    name: str
    dtype: DType
    #: the field is optional (``present``): absent keys are null in Arrow, left out in JSON
    optional: bool = False

    @property
    def arrow_field(self) -> pa.Field:
        meta = {PRESENT_META: b"1"} if self.optional else None
        return pa.field(self.name, self.dtype.arrow, nullable=True, metadata=meta)


@dataclass(frozen=True)
class DType:
    """A parsed column type."""

    name: str  # canonical spelling, e.g. "int32", "decimal(10,2)"
    kind: str  # int | float | decimal | bool | string | date | timestamp | uuid
    bits: int | None = None
    precision: int | None = None
    scale: int | None = None
    #: the length of an SQL string type (``varchar(40)``): the column's ``max_length`` unless
    #: it sets a smaller one; not part of the type's identity (a string is a string)
    length: int | None = field(default=None, compare=False)
    #: a nested type's children: a struct's fields, or a list's one item child
    children: tuple[Child, ...] = ()

    @property
    def is_nested(self) -> bool:
        return self.kind in NESTED_KINDS

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_ordered(self) -> bool:
        return self.kind in ORDERED_KINDS

    def int_bounds(self) -> tuple[int, int]:
        """The representable range of an int type."""
        b = self.bits or 64
        return -(1 << (b - 1)), (1 << (b - 1)) - 1

    def decimal_bound(self) -> float:
        """Largest absolute value a decimal(p,s) holds, as the nearest float64 (for comparisons)."""
        # 10**-s parsed from text: correctly rounded by Python itself, not by the C library's pow
        assert self.precision is not None and self.scale is not None, "decimal_bound of a non-decimal type"
        return float(10 ** (self.precision - self.scale) - float(f"1e-{self.scale}"))

    def decimal_bound_inside(self) -> float:
        """``decimal_bound`` rounded *towards zero*: the largest float64 whose value a decimal(p,s)
        holds, so a value clipped to it never rounds to p + 1 digits (1e18 for decimal(18,0))."""
        exact = self.exact_decimal_bound()
        b = float(exact)
        if Fraction(b) > exact:
            b = math.nextafter(b, 0.0)
        return b

    def exact_decimal_bound(self) -> Fraction:
        """10^(p−s) − 10^−s, exactly: the largest absolute value a decimal(p,s) holds."""
        assert self.precision is not None and self.scale is not None, "decimal_bound of a non-decimal type"
        return Fraction(10 ** self.precision - 1, 10 ** self.scale)

    def exact_range(self) -> tuple[Fraction | int, Fraction | int] | None:
        """The closed range of values (engine units) the type can hold and every format can write:
        int types, decimals (exactly), dates and timestamps (years 1 to 9999); None for the rest."""
        if self.kind == "int":
            return self.int_bounds()
        if self.kind == "decimal":
            b = self.exact_decimal_bound()
            return -b, b
        if self.kind == "date":
            return DATE_MIN_DAYS, DATE_MAX_DAYS
        if self.kind == "timestamp":
            return TIMESTAMP_MIN_US, TIMESTAMP_MAX_US
        return None

    @property
    def arrow(self) -> pa.DataType:
        if self.kind == "int":
            return {8: pa.int8(), 16: pa.int16(), 32: pa.int32(), 64: pa.int64()}[self.bits or 64]
        if self.kind == "float":
            return pa.float32() if self.bits == 32 else pa.float64()
        if self.kind == "decimal":
            return pa.decimal128(self.precision, self.scale)
        if self.kind == "struct":
            return pa.struct([c.arrow_field for c in self.children])
        if self.kind == "list":
            return pa.list_(self.children[0].arrow_field if self.children else pa.field(LIST_ITEM, pa.null()))
        return {
            "bool": pa.bool_(),
            "string": pa.string(),
            "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC"),
            "uuid": pa.string(),
        }[self.kind]


#: SQL spellings accepted as aliases of a DSL type (case-insensitive, runs of spaces as one).
#: ``int8`` keeps its DSL meaning (8 bits), not PostgreSQL's (``bigint``).
SQL_ALIASES = {
    "tinyint": "int8", "smallint": "int16", "int2": "int16", "smallserial": "int16",
    "integer": "int32", "int": "int32", "int4": "int32", "mediumint": "int32", "serial": "int32",
    "bigint": "int64", "bigserial": "int64",
    "real": "float32", "float4": "float32",
    "double": "float64", "double precision": "float64", "float8": "float64", "float": "float64",
    "boolean": "bool",
    "text": "string", "varchar": "string", "character varying": "string", "nvarchar": "string",
    "clob": "string", "tinytext": "string", "mediumtext": "string", "longtext": "string",
    "timestamptz": "timestamp", "timestamp with time zone": "timestamp",
    "timestamp without time zone": "timestamp", "datetime": "timestamp", "datetime2": "timestamp",
    "timestamp_tz": "timestamp", "timestamp_ntz": "timestamp", "timestamp_ltz": "timestamp",
}
#: SQL spellings with a length: strings of at most that many characters (``max_length``)
SQL_LENGTH_TYPES = ("varchar", "character varying", "char", "character", "nvarchar", "nchar", "varchar2", "string")
#: SQL spellings of exact numbers: ``numeric(p,s)``, ``numeric(p)`` (scale 0)
SQL_DECIMAL_TYPES = ("decimal", "numeric", "number", "dec")
#: SQL spellings of times with a fractional-second precision (0–6 digits: datagen keeps microseconds)
SQL_TIME_TYPES = ("timestamp", "timestamptz", "datetime", "datetime2", "timestamp with time zone",
                  "timestamp without time zone")
_ARGS = re.compile(r"^([a-z_][a-z0-9_ ]*?)\s*\(\s*([0-9]+)\s*(?:,\s*([0-9]+)\s*)?\)\s*(with(?:out)? time zone)?$")
_SPACES = re.compile(r"\s+")


def type_pattern() -> str:
    """A regular expression (JSON Schema ``pattern``) every type name ``parse_type`` reads matches:
    a name, optionally followed by ``(n)`` or ``(p,s)`` (and SQL's ``with[out] time zone``);
    ``parse_type`` decides which names and arguments are types."""
    return (r"^\s*[A-Za-z_][A-Za-z0-9_ ]*(\(\s*[0-9]+\s*(,\s*[0-9]+\s*)?\)"
            r"(\s+[Ww][Ii][Tt][Hh]([Oo][Uu][Tt])?\s+[Tt][Ii][Mm][Ee]\s+[Zz][Oo][Nn][Ee])?)?\s*$")


def _decimal(p: int, s: int, spelled: str) -> DType:
    if not 1 <= p <= 38:
        raise ValueError(f"{spelled}: decimal precision must be 1..38, got {p}")
    if s > p:
        raise ValueError(f"{spelled}: decimal scale {s} exceeds precision {p}")
    return DType(f"decimal({p},{s})", "decimal", precision=p, scale=s)


def parse_type(text: str) -> DType:
    """Parse a DSL type name, or one of its SQL spellings (``varchar(40)``, ``numeric(12,2)``,
    ``bigint``, ``timestamptz`` …); raises ValueError with a readable message."""
    t = str(text).strip()
    low = _SPACES.sub(" ", t.lower())
    low = SQL_ALIASES.get(low, low)
    if low in INT_BITS:
        return DType(low, "int", bits=INT_BITS[low])
    if low in FLOAT_BITS:
        return DType(low, "float", bits=FLOAT_BITS[low])
    if low in SIMPLE:
        return DType(low, SIMPLE[low])
    if low in NESTED:
        return DType(low, NESTED[low])
    m = _DECIMAL.match(low)
    if m:
        return _decimal(int(m.group(1)), int(m.group(2)), t)
    m = _ARGS.match(low)
    if m:
        name, first, second, zone = m.group(1).strip(), int(m.group(2)), m.group(3), m.group(4)
        if zone is not None:
            name = f"{name} {zone}"
        if name in SQL_DECIMAL_TYPES:
            return _decimal(first, int(second) if second is not None else 0, t)
        if name in SQL_LENGTH_TYPES and second is None:
            if first < 1:
                raise ValueError(f"{t}: a string length must be at least 1")
            return DType("string", "string", length=first)
        if name in SQL_TIME_TYPES and second is None:
            if first > 6:
                raise ValueError(f"{t}: datagen keeps times to the microsecond (a precision of 0 to 6)")
            return DType("timestamp", "timestamp")
        if name == "float" and second is None:  # SQL: float(p) is single precision up to 24 bits
            return DType("float32", "float", bits=32) if first <= 24 else DType("float64", "float", bits=64)
    if low in SQL_DECIMAL_TYPES:
        raise ValueError(f"{t}: give the precision and scale, e.g. {low}(12,2)")
    if low in ("char", "character", "nchar"):
        return DType("string", "string", length=1)  # SQL: char is char(1)
    raise ValueError(f"unknown type {t!r}")
