"""Per-parent cardinality: ``rows: {per: parent, distribution, min, max}``.

Each parent row's child count is a cell of the parent (addressable): the ``distribution`` drawn
under the key ``(seed, child, "__rows__", "count")`` at the parent's row index, rounded and
clamped into ``[min, max]``. Children are grouped by parent: child row ``r`` belongs to the parent
whose cumulative count first exceeds ``r``.

To find the owner of any child row without holding every count, ``CountIndex`` keeps one
cumulative total per block of parents (8 bytes per ``PARENT_BLOCK`` parents); a lookup binary-
searches the block totals, recomputes that block's counts and binary-searches inside. Row
counts are exact and ``min``/``max`` always hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

PARENT_BLOCK = 1 << 16
COUNT_COLUMN = "__rows__"


@dataclass
class CountIndex:
    """Cumulative child counts per block of parent rows."""

    child: str
    n_parent: int
    block_ends: np.ndarray  # cumulative child total at the end of each parent block
    count_fn: Callable[[np.ndarray], np.ndarray]  # parent rows -> int64 child counts

    @property
    def total(self) -> int:
        return int(self.block_ends[-1]) if len(self.block_ends) else 0

    def counts(self, parent_rows: np.ndarray) -> np.ndarray:
        return self.count_fn(parent_rows)

    def owners(self, child_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(parent index, position among that parent's children) for each child row."""
        child_rows = np.asarray(child_rows, dtype=np.int64)
        owner = np.empty(child_rows.shape, np.int64)
        pos = np.empty(child_rows.shape, np.int64)
        if child_rows.size == 0:
            return owner, pos
        blocks = np.searchsorted(self.block_ends, child_rows, side="right")
        for b in np.unique(blocks):  # one iteration per parent block touched, not per row
            sel = blocks == b
            p0 = int(b) * PARENT_BLOCK
            p1 = min(self.n_parent, p0 + PARENT_BLOCK)
            counts = self.counts(np.arange(p0, p1, dtype=np.int64))
            start = int(self.block_ends[b - 1]) if b > 0 else 0
            ends = start + np.cumsum(counts)
            local = np.searchsorted(ends, child_rows[sel], side="right")
            owner[sel] = p0 + local
            begins = ends - counts
            pos[sel] = child_rows[sel] - begins[local]
        return owner, pos


def build_count_index(child: str, n_parent: int, count_fn) -> CountIndex:
    ends = np.empty((n_parent + PARENT_BLOCK - 1) // PARENT_BLOCK, dtype=np.int64)
    total = 0
    for i, p0 in enumerate(range(0, n_parent, PARENT_BLOCK)):
        p1 = min(n_parent, p0 + PARENT_BLOCK)
        total += int(count_fn(np.arange(p0, p1, dtype=np.int64)).sum())
        ends[i] = total
    return CountIndex(child=child, n_parent=n_parent, block_ends=ends, count_fn=count_fn)


def clamp_counts(x: np.ndarray, lo: int, hi: int | None) -> np.ndarray:
    c = np.rint(np.nan_to_num(np.asarray(x, dtype=np.float64), nan=lo, posinf=hi or lo, neginf=lo))
    c = np.maximum(c, lo)
    if hi is not None:
        c = np.minimum(c, hi)
    return c.astype(np.int64)
