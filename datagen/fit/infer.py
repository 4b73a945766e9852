"""Types, null rates and keys of the source's columns, computed on whole Arrow arrays.

* **Types.** Arrow's type maps to the DSL's: integers → ``int64``, floats → ``float64``, decimals
  keep ``decimal(p,s)``, ``bool``, ``date``, ``timestamp`` (UTC), text → ``string``. A text
  column whose every value is a date or a timestamp in a recognised form (``TEXT_TIME_FORMATS``:
  ISO dates and timestamps with or without ``T``/``Z``/an offset, ``MM/DD/YYYY``,
  ``DD.MM.YYYY``) becomes a ``date`` or ``timestamp`` column: the shape is tested by regex on a
  sample, then the whole column is parsed (one vectorised cast or ``strptime``); one value that
  does not parse keeps it text.
* **Null rates**: null count / rows.
* **Unique columns**: as many distinct non-null values as non-null values (and at least 2 rows).
* **Primary key**: the best unique, non-null column — integers and names like ``id``,
  ``<table>_id``, ``*_key``, ``*_code`` first, then the earliest column. No single one: the first
  pair of non-null columns (foreign keys first, ``COMPOSITE_MAX_COLUMNS`` candidates at most)
  whose combination is unique, by a group-by count — a composite key.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shared.schema_dsl.defaults import _words

__all__ = ["ColumnFacts", "TableFacts", "infer_table", "composite_key", "TEXT_TIME_FORMATS"]

#: candidates for a composite key: at most this many columns are paired
COMPOSITE_MAX_COLUMNS = 12
#: the sample a text column's shape is tested on before the whole column is parsed
SHAPE_SAMPLE = 2000

#: (shape regex on the text, kind, strptime format or None for an ISO cast)
TEXT_TIME_FORMATS: tuple[tuple[str, str, str | None], ...] = (
    (r"^\d{4}-\d{2}-\d{2}$", "date", None),
    (r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$", "timestamp", None),
    (r"^\d{4}/\d{2}/\d{2}$", "date", "%Y/%m/%d"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "date", "%m/%d/%Y"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "date", "%d/%m/%Y"),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "date", "%d.%m.%Y"),
    (r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(:\d{2})?$", "timestamp", "%m/%d/%Y %H:%M:%S"),
)


@dataclass
class ColumnFacts:
    """What the data says about one column (``values``: its non-null values, typed)."""

    name: str
    dtype: str
    rows: int
    nulls: int
    distinct: int
    values: pa.Array
    text_format: str | None = None  # "date from text (%m/%d/%Y)" when parsed from text
    notes: list[str] = field(default_factory=list)

    @property
    def null_rate(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def unique(self) -> bool:
        return self.rows >= 2 and self.distinct == len(self.values) and len(self.values) > 0

    @property
    def kind(self) -> str:
        if self.dtype.startswith("int"):
            return "int"
        if self.dtype.startswith(("float", "decimal")):
            return "float"
        return self.dtype


@dataclass
class TableFacts:
    name: str
    rows: int
    columns: dict[str, ColumnFacts]
    primary_key: list[str] = field(default_factory=list)
    key_kind: str | None = None  # "single", "composite"
    skipped: list[str] = field(default_factory=list)


def _dsl_type(t: pa.DataType) -> str | None:
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_floating(t):
        return "float64"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_dictionary(t):
        return _dsl_type(t.value_type)
    if pa.types.is_null(t):
        return "string"
    return None


def _parse_text_time(values: pa.Array) -> tuple[pa.Array, str, str] | None:
    """The text values as dates/timestamps when every one parses in one form, else None."""
    if len(values) == 0:
        return None
    sample = values.slice(0, SHAPE_SAMPLE)
    for shape, kind, fmt in TEXT_TIME_FORMATS:
        if not pc.all(pc.match_substring_regex(sample, shape)).as_py():
            continue
        if not pc.all(pc.match_substring_regex(values, shape)).as_py():
            continue
        try:
            if fmt is None and kind == "date":
                parsed = pc.cast(values, pa.date32())
            elif fmt is None:
                text = pc.replace_substring_regex(values, " ", "T")
                if pc.any(pc.match_substring_regex(text, r"[+-]\d{2}:?\d{2}$")).as_py():
                    parsed = pc.cast(text, pa.timestamp("us", tz="UTC"))
                else:
                    parsed = pc.cast(pc.replace_substring_regex(text, "Z$", ""), pa.timestamp("us"))
            else:
                parsed = pc.strptime(values, format=fmt, unit="us", error_is_null=True)
                if kind == "timestamp" and parsed.null_count:
                    parsed = pc.strptime(values, format=fmt.replace(":%S", ""), unit="us", error_is_null=True)
                if parsed.null_count:
                    continue
                if kind == "date":
                    parsed = pc.cast(parsed, pa.date32())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return parsed, kind, fmt or ("ISO 8601" if kind == "timestamp" else "YYYY-MM-DD")
    return None


def infer_column(name: str, array: pa.ChunkedArray | pa.Array) -> ColumnFacts | None:
    """The facts of one column, or None for a type the DSL cannot hold (lists, binary …)."""
    arr = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    dtype = _dsl_type(arr.type)
    if dtype is None:
        return None
    rows = len(arr)
    nulls = arr.null_count
    if pa.types.is_floating(arr.type):  # NaN counts as missing
        nan = pc.is_nan(arr)
        nulls = int(pc.sum(pc.or_kleene(pc.is_null(arr), nan)).as_py() or 0) if rows else 0
        arr = pc.if_else(nan, pa.scalar(None, arr.type), arr)
    values = pc.drop_null(arr)
    if pa.types.is_large_string(values.type) or pa.types.is_null(values.type):
        values = pc.cast(values, pa.string())
    if pa.types.is_timestamp(values.type):
        values = pc.cast(values, pa.timestamp("us", tz="UTC") if values.type.tz else pa.timestamp("us"))
    facts = ColumnFacts(name=name, dtype=dtype, rows=rows, nulls=nulls, distinct=0, values=values)
    if dtype == "string":
        got = _parse_text_time(values)
        if got is not None:
            facts.values, facts.dtype, fmt = got[0], got[1], got[2]
            facts.text_format = f"{got[1]}s written as text ({fmt})"
    facts.distinct = pc.count_distinct(facts.values).as_py() if len(facts.values) else 0
    return facts


def _key_rank(table: str, c: ColumnFacts, position: int) -> tuple[int, int, int]:
    words = _words(c.name)
    twords = _words(table)
    singular = twords[-1] if twords else ""
    named = (words in (("id",), ("key",), (singular, "id"), (singular, "key"), (singular, "code"))
             or (len(words) >= 1 and words[-1] in ("id", "key", "code", "uuid", "num", "no")))
    return (0 if named else 1, 0 if c.kind in ("int", "string") else 1, position)


def infer_table(name: str, table: pa.Table) -> TableFacts:
    """The facts of every column of ``table`` and its primary key (single or composite)."""
    cols: dict[str, ColumnFacts] = {}
    skipped = []
    for col_name in table.column_names:
        facts = infer_column(col_name, table.column(col_name))
        if facts is None:
            skipped.append(f"{col_name} ({table.schema.field(col_name).type}: no DSL type)")
            continue
        cols[col_name] = facts
    out = TableFacts(name=name, rows=table.num_rows, columns=cols, skipped=skipped)
    candidates = [(c, i) for i, c in enumerate(cols.values())
                  if c.unique and c.nulls == 0 and c.kind in ("int", "string", "date", "float")
                  and not (c.kind == "float" and not c.dtype.startswith("decimal"))]
    if candidates:
        best = min(candidates, key=lambda ci: _key_rank(name, ci[0], ci[1]))[0]
        # a float or date is a key only when its name says so
        if best.kind in ("int", "string") or _key_rank(name, best, 0)[0] == 0:
            out.primary_key, out.key_kind = [best.name], "single"
    return out


def composite_key(table: pa.Table, facts: TableFacts, preferred: list[str]) -> list[str] | None:
    """The first pair of non-null columns (``preferred`` — foreign keys — first) jointly unique."""
    if facts.rows < 2 or facts.primary_key:
        return None
    names = [c for c in preferred if c in facts.columns]
    names += [c for c, f in facts.columns.items() if c not in names and f.kind in ("int", "string", "date")]
    names = [c for c in names if facts.columns[c].nulls == 0 and not facts.columns[c].unique][:COMPOSITE_MAX_COLUMNS]
    for a, b in itertools.combinations(names, 2):
        groups = table.select([a, b]).group_by([a, b]).aggregate([])
        if groups.num_rows == facts.rows:
            return [a, b]
    return None


def describe_type(c: ColumnFacts) -> str:
    text = c.dtype
    if c.text_format:
        text += f" ({c.text_format})"
    return text


def jsonable(value: Any) -> Any:
    """A Python value as JSON/YAML-friendly (dates and timestamps as ISO text)."""
    import datetime as dt
    import decimal

    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds" if value.microsecond == 0 else "microseconds") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value

