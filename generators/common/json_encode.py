"""Vectorised JSON text for Arrow record batches: one JSON object per row, no per-row Python.

Each column is rendered once per batch to a string array holding every value's JSON text
(``pyarrow.compute`` casts and string kernels, all in C++), then one
``binary_join_element_wise`` call interleaves them with the constant key literals::

    <lead>{"id":<id>,"name":<name>,…}<tail>

The result is one Arrow string array whose data buffer *is* the bytes to write (rows are
contiguous and carry their own separators), so a writer hands that buffer to the file as is.

Value forms (see ``docs/formats/json.md``):

==========  =================================================================
ints        numbers (``42``)
floats      numbers in the shortest form that round-trips (``0.1``, ``1e-7``);
            NaN and ±inf become ``null`` (the engine never produces them)
decimals    strings with every digit of the scale (``"12.50"``), never in
            exponent form; ``decimals=number`` writes the same digits unquoted
bool        ``true`` / ``false``
string      JSON strings: ``"`` and ``\\`` escaped, control characters as
            ``\\n \\r \\t \\b \\f`` or ``\\u00XX``, other Unicode as UTF-8
date        ``"YYYY-MM-DD"``
timestamp   ``"YYYY-MM-DDTHH:MM:SS.ffffffZ"`` (UTC, microseconds)
null        ``null``; every key is present in every object, in column order
struct      a nested object, keys in field order; an optional field (``present``)
            is left out where it is absent, every other field is always there
list        an array of its items' JSON forms
==========  =================================================================
"""

from __future__ import annotations

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

#: JSON escapes of the control characters U+0000..U+001F (the short forms where JSON has one,
#: as orjson and the stdlib write them)
_CONTROL_ESCAPES = {chr(c): f"\\u{c:04x}" for c in range(0x20)} | {
    "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_TS_UTC_US = pa.timestamp("us", tz="UTC")
# Arrow renders a decimal whose adjusted exponent is below -6 in exponent form ("1E-10",
# "-1.5E-8"); such a value is below 1e-6, so its plain form is 0.<zeros><digits>.
_DEC_EXP = r"^(-?)(\d)\.?(\d*)E-\d+$"


def _string_bytes(values: pa.Array) -> np.ndarray:
    """The UTF-8 bytes of every string of ``values`` (a view, no copy)."""
    if len(values) == 0 or values.buffers()[2] is None:
        return np.empty(0, np.uint8)
    offsets = np.frombuffer(values.buffers()[1], np.int32)
    data = np.frombuffer(values.buffers()[2], np.uint8)
    return data[offsets[values.offset]:offsets[values.offset + len(values)]]


def escape_strings(values: pa.Array) -> pa.Array:
    """The JSON-escaped contents of each string, without the quotes (nulls stay null).

    One numpy pass over the bytes finds whether anything needs escaping at all (rarely); only
    the characters present are replaced.
    """
    raw = _string_bytes(values)
    special = np.unique(raw[(raw < 0x20) | (raw == 0x22) | (raw == 0x5C)])
    if not len(special):
        return values
    s = values
    if 0x5C in special:  # the backslash first, so the escapes added below stay intact
        s = pc.replace_substring(s, "\\", "\\\\")
    if 0x22 in special:
        s = pc.replace_substring(s, '"', '\\"')
    for b in special[special < 0x20]:
        s = pc.replace_substring(s, chr(b), _CONTROL_ESCAPES[chr(b)])
    return s


def decimal_text(values: pa.Array) -> pa.Array:
    """Decimals as plain digit strings with exactly ``scale`` fraction digits ("12.50")."""
    text = pc.cast(values, pa.string())
    scale = values.type.scale
    if scale <= 0 or 0x45 not in _string_bytes(text):  # no "E" anywhere
        return text
    is_exp = pc.fill_null(pc.match_substring(text, "E"), False)
    digits = pc.utf8_lpad(pc.replace_substring_regex(text, _DEC_EXP, r"\2\3"), width=scale, padding="0")
    neg = pc.fill_null(pc.starts_with(text, "-"), False)
    plain = pc.if_else(neg, pc.binary_join_element_wise("-0.", digits, ""),
                       pc.binary_join_element_wise("0.", digits, ""))
    return pc.if_else(is_exp, plain, text)


def value_json(values: pa.Array, *, decimals: str = "string") -> tuple[pa.Array, str, str]:
    """The JSON text of every value of one column: ``(text, before, after)``.

    ``text`` is a string array (nulls where the value is null); each non-null value's JSON is
    ``before + text + after`` (the quotes, for strings). The caller places ``before``/``after``
    into the constant literals when the column has no nulls, saving a pass.
    """
    t = values.type
    if pa.types.is_dictionary(t):
        values = values.dictionary_decode()
        t = values.type
    if is_override(t):
        return _override_json(values, decimals), "", ""
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return pc.cast(values, pa.string()), "", ""
    if pa.types.is_floating(t):
        text = pc.cast(values, pa.string())
        finite = pc.is_finite(values)
        if not pc.all(finite).as_py():
            text = pc.if_else(finite, text, pa.scalar(None, pa.string()))
        return text, "", ""
    if pa.types.is_decimal(t):
        q = '"' if decimals == "string" else ""
        return decimal_text(values), q, q
    if pa.types.is_date(t):
        return pc.cast(values, pa.string()), '"', '"'
    if pa.types.is_timestamp(t):
        if t != _TS_UTC_US:
            values = pc.cast(values, _TS_UTC_US)
        # rendered as naive UTC (the tz-aware cast is 30x slower): "2024-06-01 08:30:00.000000"
        text = pc.cast(values.view(pa.timestamp("us")), pa.string())
        return pc.replace_substring(text, " ", "T", max_replacements=1), '"', 'Z"'
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return escape_strings(pc.cast(values, pa.string())), '"', '"'
    if pa.types.is_struct(t):
        return struct_json(values, decimals=decimals), "", ""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return list_json(values, decimals=decimals), "", ""
    raise TypeError(f"no JSON form for Arrow type {t}")


#: a column given as a struct of these fields is written as the JSON string ``text`` where that
#: is not null and as ``value`` elsewhere (``"N/A"`` where a number belongs)
OVERRIDE_FIELDS = ("value", "text")


def is_override(t: pa.DataType) -> bool:
    """Whether a column's type is the struct of ``OVERRIDE_FIELDS``."""
    return pa.types.is_struct(t) and t.num_fields == 2 and \
        tuple(t.field(i).name for i in range(2)) == OVERRIDE_FIELDS


def _override_json(values: pa.Array, decimals: str) -> pa.Array:
    value, text = pc.struct_field(values, [0]), pc.struct_field(values, [1])
    vtext, before, after = value_json(value, decimals=decimals)
    if before or after:
        vtext = pc.binary_join_element_wise(before, vtext, after, "")
    full = pc.fill_null(vtext, "null")
    over = pc.binary_join_element_wise('"', escape_strings(text.cast(pa.string())), '"', "")
    return pc.if_else(pc.is_valid(text), over, full)


def quote_values(data: bytes, keys: list[str], within: str | None = None) -> bytes:
    """JSON text with the bare values (numbers, ``true``/``false``) of ``keys`` turned into
    strings of the same text, so a reader can take those keys as text when some of their values
    are strings (``"N/A"`` among numbers) — one regular-expression pass over the whole text.
    ``within``: only keys after this literal on the same line (the event envelope's
    ``"data":{``). A key only ever appears unescaped as a key, so nothing else matches."""
    import re

    if not keys:
        return data
    names = "|".join(re.escape(orjson.dumps(k).decode()) for k in keys)
    lead = f"({re.escape(within)}(?:|.*?,)" if within is not None else "([{,]"
    pattern = lead + f"(?:{names}):)(-?[0-9][0-9.eE+-]*|true|false)"
    out = pa.array([data], pa.large_binary())
    # one value a line a pass where the match starts at ``within`` (matches do not overlap)
    for _ in range(len(keys) if within is not None else 1):
        out = pc.replace_substring_regex(out, pattern, r'\1"\2"')
    return out[0].as_py()


def text_keys(table, schema: pa.Schema) -> list[str]:
    """The columns of ``table`` (a schema model table) asked for as ``string`` in ``schema`` that
    the table types otherwise (``validate`` reads a column with text-only corruption so): a
    reader passes them to ``quote_values``."""
    names = {c.name: c for c in getattr(table, "columns", ())}
    return [f.name for f in schema if pa.types.is_string(f.type) and f.name in names
            and not pa.types.is_string(names[f.name].dtype.arrow)]


def _framed(values: pa.Array, *, decimals: str) -> pa.Array:
    """Every value's whole JSON text, ``null`` for nulls."""
    text, before, after = value_json(values, decimals=decimals)
    if before or after:
        text = pc.binary_join_element_wise(before, text, after, "")
    return pc.fill_null(text, "null")


def struct_json(values: pa.Array, *, decimals: str = "string") -> pa.Array:
    """A struct array as JSON objects (null where the struct is null): ``{"k":v,…}``, keys in
    field order; a field whose Arrow metadata marks it optional (``types.PRESENT_META``) is left
    out where it is null."""
    from shared.model.types import PRESENT_META

    n = len(values)
    if n == 0:
        return pa.array([], pa.string())
    pieces = []
    for i, f in enumerate(values.type):
        text = _framed(pc.struct_field(values, [i]), decimals=decimals)
        piece = pc.binary_join_element_wise(constant_strings("," + orjson.dumps(f.name).decode() + ":", n), text, "")
        if f.metadata and PRESENT_META in f.metadata:
            piece = pc.if_else(pc.is_valid(pc.struct_field(values, [i])), piece, constant_strings("", n))
        pieces.append(piece)
    if pieces:
        body = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*pieces, ""), 1)  # the first ","
    else:
        body = constant_strings("", n)
    text = pc.binary_join_element_wise(constant_strings("{", n), body, constant_strings("}", n), "")
    return pc.if_else(pc.is_valid(values), text, pa.scalar(None, pa.string())) if values.null_count else text


def list_json(values: pa.Array, *, decimals: str = "string") -> pa.Array:
    """A list array as JSON arrays (null where the list is null): ``[v,…]``."""
    n = len(values)
    if n == 0:
        return pa.array([], pa.string())
    lengths = np.asarray(pc.fill_null(pc.list_value_length(values), 0).to_numpy(zero_copy_only=False),
                         dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    items = _framed(values.flatten(), decimals=decimals)
    nested = pa.LargeListArray.from_arrays(pa.array(offsets), items)
    body = pc.binary_join(nested, ",")
    text = pc.binary_join_element_wise(constant_strings("[", n), body, constant_strings("]", n), "")
    return pc.if_else(pc.is_valid(values), text, pa.scalar(None, pa.string())) if values.null_count else text


def key_literals(names: list[str], lead: str, tail: str) -> list[str]:
    """The constant text around the values: ``lead{"a":``, ``,"b":``, …, ``}tail``."""
    keys = [orjson.dumps(n).decode() for n in names]
    if not keys:
        return [lead + "{}" + tail]
    lits = [lead + "{" + keys[0] + ":"] + ["," + k + ":" for k in keys[1:]]
    return lits + ["}" + tail]


def rows_json(batch: pa.RecordBatch, lits: list[str], *, decimals: str = "string") -> pa.Array:
    """One string per row: the row's JSON object framed by the literals of ``key_literals``."""
    if batch.num_columns == 0:
        return pa.array([lits[0]] * batch.num_rows, pa.string())
    lits = list(lits)
    cols = []
    for i in range(batch.num_columns):
        text, before, after = value_json(batch.column(i), decimals=decimals)
        if text.null_count:
            if before or after:
                text = pc.binary_join_element_wise(before, text, after, "")
            text = pc.fill_null(text, "null")
        else:
            lits[i] += before
            lits[i + 1] = after + lits[i + 1]
        cols.append(text)
    # the literals as constant arrays: Arrow joins arrays-only arguments on a fast path, about
    # twice as fast as with scalars among them
    n = batch.num_rows
    args: list = []
    for lit, col in zip(lits, cols, strict=False):
        args += [constant_strings(lit, n), col]
    args += [constant_strings(lits[-1], n), ""]
    return pc.binary_join_element_wise(*args)


def constant_strings(text: str, n: int) -> pa.Array:
    """``n`` copies of ``text`` as a string array, built from two numpy buffers."""
    b = text.encode("utf-8")
    offsets = np.arange(0, len(b) * (n + 1), len(b), dtype=np.int32) if b else np.zeros(n + 1, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(b * n))


def data_buffer(rows: pa.Array) -> memoryview:
    """The concatenated bytes of every string of ``rows`` (no copy)."""
    if len(rows) == 0:
        return memoryview(b"")
    offsets = memoryview(rows.buffers()[1]).cast("i")  # int32 offsets of a (non-large) string array
    return memoryview(rows.buffers()[2])[offsets[rows.offset]:offsets[rows.offset + len(rows)]]
