"""Nested columns (struct, list) for formats whose cells are plain values: CSV and SQLite.

Two layouts, chosen with ``--option nested=json|flatten`` (default json):

* ``json``: a struct or list cell holds the value's JSON text, exactly as the JSON format writes
  it (``{"street":"…","city":"Oslo"}``, ``["a","b"]``; optional fields left out where absent);
  a null struct or list is a null cell.
* ``flatten``: a struct becomes one column per field, named by its dotted path
  (``address.street``, ``address.geo.lat``), each of the field's type; a list (also a list inside
  a struct) stays JSON text. A null struct reads back as a struct of null fields: the
  layout cannot tell them apart, so ``validate`` compares a regenerated batch in the same layout.

Everything is vectorised: the text comes from ``json_encode`` (Arrow string kernels), and reading
back parses all the JSON cells of a batch in one ``pyarrow.json`` call.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from generators.common.json_encode import constant_strings, data_buffer, value_json

NESTED_LAYOUTS = ("json", "flatten")


def is_nested(t: pa.DataType) -> bool:
    return pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t)


def has_nested(schema: pa.Schema) -> bool:
    return any(is_nested(f.type) for f in schema)


def _flat_fields(field: pa.Field, prefix: str = "") -> list[pa.Field]:
    name = prefix + field.name
    if pa.types.is_struct(field.type):
        return [g for child in field.type for g in _flat_fields(child, name + ".")]
    return [pa.field(name, pa.string() if is_nested(field.type) else field.type, nullable=True)]


def text_schema(schema: pa.Schema, layout: str = "json", nested: frozenset[str] | None = None) -> pa.Schema:
    """The plain-valued schema a nested ``schema`` is written as (``nested``: only these columns
    are the table's nested ones, as in ``to_text``)."""
    if not has_nested(schema) or nested is not None and not nested:
        return schema
    fields: list[pa.Field] = []
    for f in schema:
        if not is_nested(f.type) or (nested is not None and f.name not in nested):
            fields.append(f)
        elif layout == "flatten" and pa.types.is_struct(f.type):
            fields += _flat_fields(f)
        else:
            fields.append(pa.field(f.name, pa.string(), nullable=f.nullable))
    return pa.schema(fields, metadata=schema.metadata)


def _json_text(arr: pa.Array) -> pa.Array:
    text, before, after = value_json(arr, decimals="string")
    return text if not (before or after) else pc.binary_join_element_wise(before, text, after, "")


def _flat_arrays(arr: pa.Array, field: pa.Field) -> list[pa.Array]:
    if pa.types.is_struct(field.type):
        return [a for i, child in enumerate(field.type) for a in _flat_arrays(pc.struct_field(arr, [i]), child)]
    return [_json_text(arr) if is_nested(field.type) else arr]


def to_text(batch: pa.RecordBatch, layout: str = "json", nested: frozenset[str] | None = None) -> pa.RecordBatch:
    """A batch's nested columns as JSON text (or flattened): the batch ``text_schema`` describes.
    ``nested``: the columns the table declares nested — any other struct column (the dirty
    profile's ``(value, text)`` of a text-dirt column) passes through for the writer."""
    if not has_nested(batch.schema) or nested is not None and not nested:
        return batch
    arrays: list[pa.Array] = []
    for f, arr in zip(batch.schema, batch.columns, strict=True):
        if not is_nested(f.type) or (nested is not None and f.name not in nested):
            arrays.append(arr)
        elif layout == "flatten" and pa.types.is_struct(f.type):
            arrays += _flat_arrays(arr, f)
        else:
            arrays.append(_json_text(arr))
    if nested is None:
        return pa.RecordBatch.from_arrays(arrays, schema=text_schema(batch.schema, layout))
    return pa.RecordBatch.from_arrays(arrays, names=_names(batch.schema, nested, layout))


def _names(schema: pa.Schema, nested: frozenset[str], layout: str) -> list[str]:
    """The column names of ``to_text``'s result when only ``nested`` columns are converted."""
    out: list[str] = []
    for f in schema:
        if f.name in nested and layout == "flatten" and pa.types.is_struct(f.type):
            out += [x.name for x in _flat_fields(f)]
        else:
            out.append(f.name)
    return out


def layout_of(names: list[str], schema: pa.Schema) -> str:
    """The layout a file was written in, told by its column names: ``flatten`` when a struct
    column of ``schema`` is missing and its first field's dotted column is there."""
    have = set(names)
    for f in schema:
        if pa.types.is_struct(f.type) and f.name not in have and _flat_fields(f)[0].name in have:
            return "flatten"
    return "json"


def read_type(t: pa.DataType) -> pa.DataType:
    """What ``pyarrow.json`` parses for ``t``: dates (inside structs and lists too) as strings
    (cast afterwards)."""
    if pa.types.is_date(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(read_type(f.type)) for f in t])
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(read_type(t.value_type)))
    return t


def parse_json(texts: dict[str, pa.Array], types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
    """JSON text columns (nulls for null values) parsed into their Arrow types, all at once."""
    if not texts:
        return {}
    n = len(next(iter(texts.values())))
    if n == 0:
        return {k: pa.array([], types[k]) for k in texts}
    args: list = []
    for i, (k, t) in enumerate(texts.items()):
        lit = ("{" if i == 0 else ",") + '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '":'
        args += [constant_strings(lit, n), pc.fill_null(pc.cast(t, pa.string()), "null")]
    args += [constant_strings("}\n", n), ""]
    lines = pc.binary_join_element_wise(*args)
    buf = pa.py_buffer(data_buffer(lines))
    schema = pa.schema([pa.field(k, read_type(types[k])) for k in texts])
    longest = int(pc.max(pc.binary_length(lines)).as_py() or 0)
    table = pj.read_json(pa.BufferReader(buf), read_options=pj.ReadOptions(block_size=max(1 << 20, 2 * longest + 2)),
                         parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error"))
    out = {}
    for k in texts:
        col = table.column(k).combine_chunks()
        out[k] = col if col.type == types[k] else col.cast(types[k])
    return out


def _rebuild(field: pa.Field, columns: dict[str, pa.Array], prefix: str = "") -> pa.Array | None:
    """A struct column from its flattened field columns (a struct is null where every field is)."""
    name = prefix + field.name
    if not pa.types.is_struct(field.type):
        return columns.get(name)
    children = [_rebuild(child, columns, name + ".") for child in field.type]
    if any(c is None for c in children):
        return None
    valid = None
    for c in children:
        v = pc.is_valid(c)
        valid = v if valid is None else pc.or_(valid, v)
    mask = pc.invert(valid) if valid is not None else None
    return pa.StructArray.from_arrays(children, fields=list(field.type),
                                      mask=mask if mask is not None and pc.any(mask).as_py() else None)


def from_text(batch: pa.RecordBatch | pa.Table, schema: pa.Schema, layout: str = "json") -> pa.RecordBatch:
    """The inverse of ``to_text``: columns of ``schema`` that are nested, parsed back from JSON
    text (or rebuilt from their flattened fields); other columns as read. A column the batch
    lacks stays missing (``validate``'s ``columns`` check reports it)."""
    if isinstance(batch, pa.Table):
        batch = batch.combine_chunks().to_batches()[0] if batch.num_rows else \
            pa.RecordBatch.from_arrays([pa.array([], f.type) for f in batch.schema], schema=batch.schema)
    if not has_nested(schema):
        return batch
    have = {n: batch.column(i) for i, n in enumerate(batch.schema.names)}
    flat: dict[str, pa.Array] = {}
    if layout == "flatten":
        for f in schema:
            if pa.types.is_struct(f.type):
                for g in _flat_fields(f):
                    if g.name in have:
                        flat[g.name] = have[g.name]
    texts = {n: have[n] for n in have if n in schema.names and is_nested(schema.field(n).type)
             and pa.types.is_string(have[n].type)}
    wanted = {f.name: f.type for f in schema}
    for f in schema:
        if pa.types.is_struct(f.type):
            for g, leaf in zip(_flat_fields(f), _leaf_types(f), strict=True):
                if g.name in flat and is_nested(leaf) and pa.types.is_string(flat[g.name].type):
                    texts[g.name] = flat[g.name]
                    wanted[g.name] = leaf
    parsed = parse_json(texts, {k: wanted[k] for k in texts})
    flat.update({k: v for k, v in parsed.items() if k in flat})
    names, arrays = [], []
    for n, arr in have.items():
        if n in flat:
            continue
        names.append(n)
        arrays.append(parsed.get(n, arr))
    if layout == "flatten":
        for f in schema:
            if pa.types.is_struct(f.type) and f.name not in have:
                rebuilt = _rebuild(f, flat)
                if rebuilt is not None:
                    names.append(f.name)
                    arrays.append(rebuilt)
        order = {n: i for i, n in enumerate(schema.names)}
        pairs = sorted(zip(names, arrays, strict=True), key=lambda p: order.get(p[0], len(order)))
        names, arrays = [p[0] for p in pairs], [p[1] for p in pairs]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _leaf_types(field: pa.Field) -> list[pa.DataType]:
    if pa.types.is_struct(field.type):
        return [t for child in field.type for t in _leaf_types(child)]
    return [field.type]


def flat_table(table):
    """A model table as ``flatten`` writes it: each struct column replaced by its fields' columns
    (dotted names; nullable where the field, or a struct around it, may be null or absent)."""
    import dataclasses

    if not any(c.dtype.kind == "struct" for c in table.columns):
        return table
    cols = []
    for c in table.columns:
        cols += _flat_model(c, c.nullable) if c.dtype.kind == "struct" else [c]
    return dataclasses.replace(table, columns=tuple(cols))


def _flat_model(column, optional: bool) -> list:
    import dataclasses

    out = []
    for f in column.fields:
        opt = optional or f.nullable or f.present is not None
        if f.dtype.kind == "struct":
            out += _flat_model(f, opt)
        else:
            out.append(dataclasses.replace(f, nullable=opt, present=None, part_of=None))
    return out


def normalise(want: pa.Table, layout: str) -> pa.Table:
    """A regenerated table as ``layout`` reads it back (``validate``'s replay): in ``flatten`` a
    null struct and a struct of null fields read back alike."""
    if layout == "json" or not has_nested(want.schema):
        return want
    batches = [from_text(to_text(b, layout), want.schema, layout) for b in want.to_batches()]
    if not batches:
        return want
    got = pa.Table.from_batches(batches)
    return pa.Table.from_arrays([got.column(n) for n in want.schema.names], schema=want.schema)
