"""Value checks on the parts of nested columns: a struct's fields, a list's items.

Every part of a struct or list column is a column of the model (``address.city``, ``tags[]``,
``orders[].qty``) with its own constraints. ``NestedParts`` feeds them to the same streaming
checks as a table's own columns: for each nested column (a *container*) its direct parts form a
*level* — a record batch of the parts' values, one row per present struct or per list item — and
every check kind's accumulators, begun for that level as for a table whose columns are the parts,
are fed those batches. Results carry the table's name and the part's dotted name.

* A struct's fields are checked where the struct is not null; a field that is optional
  (``present``) counts as nullable.
* A list's items are all the items of the lists that are not null, in row order.

All of it is vectorised (``struct_field``, ``ListArray.flatten``, ``filter``); a level's batch is
as long as its parts, so memory stays bounded by the table's batch and its items.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


class _Level:
    def __init__(self, container, accs: dict[str, list]):
        self.container = container
        self.accs = accs
        self.offset = 0


class NestedParts:
    """The accumulators of every check kind for the parts of a table's nested columns."""

    def __init__(self, vctx, table, streaming: dict[str, Any], names: set[str]):
        self.table = table
        self.levels: list[_Level] = []
        self.failed: dict[str, list[dict]] = {}
        for c in table.columns:
            if c.dtype.is_nested and c.name in names:
                self._add(vctx, streaming, c)

    def _add(self, vctx, streaming: dict[str, Any], container) -> None:
        parts = tuple(dataclasses.replace(p, nullable=p.nullable or p.present is not None)
                      for p in container.children)
        level_table = dataclasses.replace(self.table, columns=parts, primary_key=(), unique=(), events=None)
        accs: dict[str, list] = {}
        for kind, check in streaming.items():
            try:
                accs[kind] = list(check.begin(vctx, level_table, {p.name for p in parts}))
            except Exception as exc:  # noqa: BLE001 - a check that cannot run on a level fails, as for a table
                self.failed.setdefault(kind, []).append(_failure(kind, self.table.name, container.name, exc))
        self.levels.append(_Level(container, accs))
        for p in container.children:
            if p.dtype.is_nested:
                self._add(vctx, streaming, p)

    def update(self, batch: pa.RecordBatch) -> None:
        """Feed one batch of the table (its nested columns as read back and conformed)."""
        arrays: dict[str, pa.Array] = {}
        have = set(batch.schema.names)
        for level in self.levels:
            c = level.container
            if c.part_of is None:
                if c.name not in have:
                    continue
                arr = batch.column(c.name)
            elif c.name in arrays:
                arr = arrays[c.name]
            else:
                continue
            if arr.null_count:
                arr = arr.filter(pc.is_valid(arr))
            if c.dtype.kind == "struct":
                values = [pc.struct_field(arr, [i]) for i in range(len(c.fields))]
            else:
                values = [arr.flatten()]
            names = [p.name for p in c.children]
            arrays.update(zip(names, values, strict=True))
            part_batch = pa.RecordBatch.from_arrays(values, names=names)
            for kind, lst in level.accs.items():
                for i, acc in enumerate(lst):
                    try:
                        acc.update(part_batch, level.offset)
                    except Exception as exc:  # noqa: BLE001 - as for a table's own columns
                        lst[i] = _Fixed(_failure(kind, self.table.name, c.name, exc))
            level.offset += part_batch.num_rows

    def results(self, vctx) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {k: list(v) for k, v in self.failed.items()}
        for level in self.levels:
            for kind, lst in level.accs.items():
                for acc in lst:
                    try:
                        out.setdefault(kind, []).extend(acc.results(vctx))
                    except Exception as exc:  # noqa: BLE001
                        out.setdefault(kind, []).append(_failure(kind, self.table.name, level.container.name, exc))
        return out


class _Fixed:
    def __init__(self, res: dict):
        self.res = res
        self.columns: tuple[str, ...] = ()

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        pass

    def results(self, vctx) -> list[dict]:
        return [self.res]


def _failure(kind: str, table: str, column: str, exc: Exception) -> dict:
    from shared.validation.checks import result

    text = f"{type(exc).__name__}: {exc}"
    return result(kind, table, column, "fail", f"the {kind} check could not run: {text[:280]}")
