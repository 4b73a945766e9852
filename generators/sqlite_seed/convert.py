"""Arrow ↔ SQLite values, whole columns at a time with pyarrow.compute.

``to_sql_columns(batch)`` turns a record batch into one Python list per column, already in the
stored form of ``ddl`` (dates and timestamps as ISO text, decimals as the nearest double or exact
text); the writer only zips them into rows for ``executemany``. ``to_arrow(values, dtype)`` is the
way back for ``read_table``; a column whose stored values do not convert to the DSL type is
returned as stored, so ``validate`` reports it under ``columns`` instead of losing the table.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from generators.common.nested_text import is_nested, parse_json, to_text
from generators.sqlite_seed.ddl import MAX_REAL_DECIMAL_PRECISION, TIMESTAMP_FORMAT
from shared.errors import OutputError

_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


def _as_stored(arr: pa.Array, name: str) -> pa.Array:
    t = arr.type
    if is_nested(t):  # a struct or list: its JSON text, as the JSON format writes it
        return to_text(pa.RecordBatch.from_arrays([arr], names=[name])).column(0)
    if pa.types.is_dictionary(t):
        return _as_stored(arr.dictionary_decode(), name)
    if pa.types.is_date(t):
        return pc.cast(arr, pa.string())  # YYYY-MM-DD
    if pa.types.is_timestamp(t):
        us = pc.cast(arr, pa.timestamp("us", tz=t.tz))
        return pc.strftime(us, format=TIMESTAMP_FORMAT)  # 2024-05-01T12:00:00.000000Z
    if pa.types.is_decimal(t):
        text = pc.cast(arr, pa.string())  # exact digits
        if t.precision <= MAX_REAL_DECIMAL_PRECISION:
            return pc.cast(text, pa.float64())  # correctly rounded: the double nearest the decimal
        return text
    if pa.types.is_floating(t):
        if pc.any(pc.is_nan(arr)).as_py():
            raise OutputError(f"column {name}: NaN cannot be stored in SQLite (it would become NULL)")
        if t == pa.float32():
            # the shortest decimal that reads back as the same float32 (0.1, not 0.100000001490116)
            short = pc.cast(pc.cast(arr, pa.string()), pa.float64())
            exact = pc.cast(arr, pa.float64())
            return pc.if_else(pc.equal(pc.cast(short, pa.float32()), arr), short, exact)
        return arr
    return arr


def to_sql_columns(batch: pa.RecordBatch) -> list[list]:
    """One list of Python values per column, in the stored form (see ``ddl``)."""
    return [_as_stored(col, name).to_pylist() for col, name in zip(batch.columns, batch.schema.names, strict=True)]


def storage_type(dtype) -> pa.DataType:
    """The Arrow type values of a DSL type are fetched into before conversion."""
    kind = dtype.kind
    if kind in ("int", "bool"):
        return pa.int64()
    if kind == "float" or (kind == "decimal" and dtype.precision <= MAX_REAL_DECIMAL_PRECISION):
        return pa.float64()
    return pa.string()


def to_arrow(stored: pa.Array, dtype) -> pa.Array:
    """Stored values (``storage_type``) → the DSL type's Arrow type; unconvertible: as stored."""
    target = dtype.arrow
    try:
        if dtype.is_nested:
            return parse_json({"v": stored}, {"v": target})["v"]
        if dtype.kind == "decimal" and pa.types.is_floating(stored.type):
            # shortest text of the double → decimal: exact for every decimal that fits; a double
            # with more digits than the scale (not written by datagen) fails instead of rounding
            return pc.cast(pc.cast(stored, pa.string()), target)
        if dtype.kind == "bool":
            if not pc.all(pc.is_in(pc.drop_null(stored), pa.array([0, 1], pa.int64()))).as_py():
                return stored
            return pc.cast(stored, target)
        if dtype.kind == "float" and target == pa.float32():
            out = pc.cast(stored, target)
            exact = pc.cast(out, pa.float64())
            short = pc.cast(pc.cast(out, pa.string()), pa.float64())
            if not pc.all(pc.or_(pc.equal(exact, stored), pc.equal(short, stored))).as_py():
                return stored  # not one of the two forms a float32 is written in (1e300, 0.1234567891)
            return out
        return pc.cast(stored, target)
    except _CAST_ERRORS:
        return stored
