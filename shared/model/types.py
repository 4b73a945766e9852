"""Column types of the DSL and their engine representation.

Each DSL type maps to exactly one Arrow type (``DType.arrow``) — the one every writer renders.
Inside the engine values travel in *engine units*:

=========  ==========================  =====================================
kind       DSL types                   engine values
=========  ==========================  =====================================
int        int8, int16, int32, int64   numpy int64
float      float32, float64            numpy float64
decimal    decimal(p,s)                numpy float64 (rounded half-even at the end)
bool       bool                        numpy bool
string     string                      pyarrow string array
date       date                        numpy int64: days since 1970-01-01
timestamp  timestamp                   numpy int64: microseconds since the epoch, UTC
uuid       uuid                        pyarrow string array (canonical 36-char form)
=========  ==========================  =====================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
FLOAT_BITS = {"float32": 32, "float64": 64}
SIMPLE = {"bool": "bool", "string": "string", "date": "date", "timestamp": "timestamp", "uuid": "uuid"}
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
TYPE_NAMES = (*INT_BITS, *FLOAT_BITS, "decimal(p,s)", *SIMPLE)
NUMERIC_KINDS = frozenset({"int", "float", "decimal"})
ORDERED_KINDS = NUMERIC_KINDS | {"date", "timestamp"}
TEXT_KINDS = frozenset({"string", "uuid"})


@dataclass(frozen=True)
class DType:
    """A parsed column type."""

    name: str  # canonical spelling, e.g. "int32", "decimal(10,2)"
    kind: str  # int | float | decimal | bool | string | date | timestamp | uuid
    bits: int | None = None
    precision: int | None = None
    scale: int | None = None

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
        """Largest absolute value a decimal(p,s) holds."""
        # 10**-s parsed from text: correctly rounded by Python itself, not by the C library's pow
        assert self.precision is not None and self.scale is not None, "decimal_bound of a non-decimal type"
        return float(10 ** (self.precision - self.scale) - float(f"1e-{self.scale}"))

    @property
    def arrow(self) -> pa.DataType:
        if self.kind == "int":
            return {8: pa.int8(), 16: pa.int16(), 32: pa.int32(), 64: pa.int64()}[self.bits or 64]
        if self.kind == "float":
            return pa.float32() if self.bits == 32 else pa.float64()
        if self.kind == "decimal":
            return pa.decimal128(self.precision, self.scale)
        return {
            "bool": pa.bool_(),
            "string": pa.string(),
            "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC"),
            "uuid": pa.string(),
        }[self.kind]


def parse_type(text: str) -> DType:
    """Parse a DSL type name; raises ValueError with a readable message."""
    t = str(text).strip()
    low = t.lower()
    if low in INT_BITS:
        return DType(low, "int", bits=INT_BITS[low])
    if low in FLOAT_BITS:
        return DType(low, "float", bits=FLOAT_BITS[low])
    if low in SIMPLE:
        return DType(low, SIMPLE[low])
    m = _DECIMAL.match(low)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        if not 1 <= p <= 38:
            raise ValueError(f"decimal precision must be 1..38, got {p}")
        if s > p:
            raise ValueError(f"decimal scale {s} exceeds precision {p}")
        return DType(f"decimal({p},{s})", "decimal", precision=p, scale=s)
    raise ValueError(f"unknown type {t!r}")
