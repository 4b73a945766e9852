"""Foreign keys between the source's tables, and each one's children per parent.

A column C of table T references the key K of table P (P's primary key, or another unique,
non-null column) when their types agree and the distinct values of C are included in K's:

* **name evidence** — C is named like K (``carrier`` → ``airlines.carrier``), or like P's key
  (``user_id`` → ``users.id``/``users.user_id``), or a self-reference word (``manager_id``,
  ``parent_id``, ``reports_to`` … → its own table's key): at least ``NAME_INCLUSION`` of C's
  distinct values must be in K;
* **values only** (text and dates; never numbers, whose small integers fall inside any id range):
  at least ``VALUE_INCLUSION`` of C's distinct values, and at least 2 of them.

The best parent wins per column (name evidence, then inclusion, then the parent's name). Values of
C without a parent are reported (``unmatched_share``); the schema's ``fk`` makes every generated
value reference a parent (referential integrity is restored, not reproduced). An edge that would
close a cycle between tables is dropped (reported).

Children per parent: ``index_in`` of C's values into K, then ``bincount`` over the parent rows
(zeros included) — the counts a per-parent ``rows: {per: P, distribution: …}`` reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.fit.infer import TableFacts
from shared.schema_dsl.defaults import _words

__all__ = ["Relation", "find_relations"]

NAME_INCLUSION = 0.5
VALUE_INCLUSION = 0.95
SELF_WORDS = {"manager", "parent", "report", "reports", "supervisor", "boss", "referrer", "referred", "mentor",
              "predecessor", "successor", "lead", "head", "previous", "next", "replaced", "reply", "superior"}


@dataclass
class Relation:
    child: str
    column: str
    parent: str
    parent_column: str
    evidence: str
    inclusion: float  # share of the child's distinct values that are parent keys
    matched_rows: float  # share of the child's non-null rows that reference a parent
    counts: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))  # children per parent row

    @property
    def self_reference(self) -> bool:
        return self.child == self.parent

    def to_json(self, *, dp: bool = False) -> dict[str, Any]:
        """The relation for the report; with ``dp`` (differential privacy) without its exact
        shares (inclusion, unmatched), which are aggregates of the data."""
        out = {"child": self.child, "column": self.column, "parent": self.parent,
               "parent_column": self.parent_column, "evidence": self.evidence,
               "inclusion": round(self.inclusion, 4), "unmatched_share": round(1 - self.matched_rows, 4),
               "self_reference": self.self_reference}
        if dp:
            del out["inclusion"], out["unmatched_share"]
        return out


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _name_evidence(child: str, col: str, parent: str, key: str) -> str | None:
    cw, kw, pw = _words(col), _words(key), tuple(_singular(w) for w in _words(parent))
    if child != parent and col == key:
        return "same name"
    stem = pw[-1:] if pw else ()
    if child != parent and cw and (cw == stem + kw or cw == pw + kw or (kw == ("id",) and cw == stem + ("id",))
                                   or (len(cw) > len(kw) and cw[-len(kw):] == kw and kw != ("id",)
                                       and cw[-len(kw) - 1:-len(kw)] == stem)):
        return f"named after {parent}.{key}"
    if child == parent and col != key and set(cw) & SELF_WORDS:
        return "a self-reference by name"
    if child != parent and cw[-len(kw):] == kw and len(cw) > len(kw) and kw != ("id",):
        return f"ends with {key}"
    return None


def _keys(facts: TableFacts) -> list[str]:
    keys = list(facts.primary_key) if facts.key_kind == "single" else []
    keys += [c for c, f in facts.columns.items() if f.unique and f.nulls == 0 and c not in keys
             and f.kind in ("int", "string", "date")]
    return keys


def _comparable(a: pa.Array, b: pa.Array) -> tuple[pa.Array, pa.Array] | None:
    if a.type == b.type:
        return a, b
    if pa.types.is_integer(a.type) and pa.types.is_integer(b.type):
        return pc.cast(a, pa.int64()), pc.cast(b, pa.int64())
    return None


def find_relations(facts: dict[str, TableFacts], dropped: set[tuple[str, str]]) -> tuple[list[Relation], list[str]]:
    """Every foreign key among ``facts`` (see the module docstring), and what was left out."""
    notes: list[str] = []
    found: list[Relation] = []
    parents = {t: [k for k in _keys(f) if (t, k) not in dropped] for t, f in facts.items()}
    for child, cf in sorted(facts.items()):
        own_key = cf.primary_key if cf.key_kind == "single" else []
        for col, c in cf.columns.items():
            if (child, col) in dropped or col in own_key or c.kind not in ("int", "string", "date") \
                    or len(c.values) == 0:
                continue
            child_distinct = pc.unique(c.values)
            best: tuple[tuple, Relation] | None = None
            for parent, keys in sorted(parents.items()):
                for key in keys:
                    if parent == child and key == col:
                        continue
                    pf = facts[parent].columns[key]
                    pair = _comparable(child_distinct, pf.values)
                    if pair is None:
                        continue
                    evidence = _name_evidence(child, col, parent, key)
                    if evidence is None and (c.kind == "int" or parent == child):
                        continue
                    inside = pc.is_in(pair[0], value_set=pair[1])
                    inclusion = pc.sum(pc.cast(inside, pa.int64())).as_py() / max(len(pair[0]), 1)
                    need = NAME_INCLUSION if evidence else VALUE_INCLUSION
                    if inclusion < need or (evidence is None and len(pair[0]) < 2):
                        continue
                    rank = (0 if evidence else 1, -inclusion, parent, key)
                    if best is None or rank < best[0]:
                        vals = c.values if c.values.type == pair[1].type else pc.cast(c.values, pair[1].type)
                        idx = pc.index_in(vals, value_set=pair[1])
                        hit = idx.drop_null().to_numpy(zero_copy_only=False)
                        counts = np.bincount(hit, minlength=len(pair[1])).astype(np.int64)
                        rel = Relation(child, col, parent, key, evidence or "values only", inclusion,
                                       len(hit) / max(len(c.values), 1), counts)
                        best = (rank, rel)
            if best is not None:
                found.append(best[1])
    return _acyclic(found, notes), notes


def _acyclic(relations: list[Relation], notes: list[str]) -> list[Relation]:
    """Drop the edges that would close a cycle between different tables (in a stable order)."""
    kept: list[Relation] = []
    edges: dict[str, set[str]] = {}

    def reaches(a: str, b: str) -> bool:
        seen, todo = set(), [a]
        while todo:
            n = todo.pop()
            if n == b:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(edges.get(n, ()))
        return False

    order = sorted(relations, key=lambda r: (r.evidence == "values only", -r.inclusion, r.child, r.column))
    for r in order:
        if not r.self_reference and reaches(r.parent, r.child):
            notes.append(f"{r.child}.{r.column} → {r.parent}.{r.parent_column} left out: it would close a cycle")
            continue
        if not r.self_reference:
            edges.setdefault(r.child, set()).add(r.parent)
        kept.append(r)
    return sorted(kept, key=lambda r: (r.child, r.column))
