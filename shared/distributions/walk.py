"""``random_walk``: values that drift step by step — a sensor's readings, a price, a balance.

Row ``t`` of a walk is ``start + drift · t + step · W(t)``, where ``W`` is a Gaussian random walk
(W(0) = 0, independent N(0, 1) increments). To keep every row computable on its own (any block,
any worker), ``W(t)`` is not a running sum: its values every 64 steps come from Lévy's midpoint
construction (W at the end of the range from one keyed normal, then each interval's midpoint
from its ends plus a keyed normal of variance length / 4, descending 26 levels), and the 64
steps inside are keyed normals bridged onto those ends. The values at the integer times have
exactly the joint law of a random walk with N(0, 1) steps, and a row costs about one normal,
vectorised over the block.

In a per-parent table (``rows: {per: …}``) each parent's children are a walk of their own (``t``
= the position among that parent's children; one walk per sensor); elsewhere the table is one
walk over its rows.
"""

from __future__ import annotations

import math

import numpy as np

from shared.distributions.base import NUMERIC, Generator, obj, register
from shared.io import rng

#: chunk boundaries are built over [0, 2^LEVELS] chunks of CHUNK steps: walks of up to 2^32 steps
CHUNK = 64
LEVELS = 26
NUMBER = {"type": "number"}


def _levy(key: int, salt: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A unit-step Gaussian walk at integer times ``t`` in [0, 2^LEVELS] by Lévy's midpoint
    construction, each node's normal keyed by the walk's ``salt`` and the node."""
    span = np.int64(1) << np.int64(LEVELS)
    a = np.zeros(t.shape, dtype=np.int64)
    wa = np.zeros(t.shape, dtype=np.float64)
    node = np.ones(t.shape, dtype=np.uint64)  # heap index: root 1, children 2i and 2i + 1
    with np.errstate(over="ignore"):
        wb = math.sqrt(float(span)) * rng.normal(key, (salt + node).view(np.int64))
    half = span
    for _ in range(LEVELS):
        half = half // 2
        mid = a + half
        with np.errstate(over="ignore"):
            z = rng.normal(key, (salt + node * np.uint64(2)).view(np.int64))
        wm = (wa + wb) * 0.5 + math.sqrt(float(half) / 2.0) * z
        right = t >= mid
        a = np.where(right, mid, a)
        wa = np.where(right, wm, wa)
        wb = np.where(right, wb, wm)
        node = node * np.uint64(2) + right.astype(np.uint64)
    return np.where(t >= span, wb, wa)


def levy_walk(key: int, walk: np.ndarray, t: np.ndarray) -> np.ndarray:
    """W(t) of walk ``walk`` (an id per row, e.g. the parent row) at integer times ``t`` >= 0.

    The walk's values every CHUNK steps come from Lévy's construction (a walk with N(0, CHUNK)
    steps); inside a chunk the CHUNK unit steps are keyed normals x bridged onto the chunk's
    ends: y = x − mean(x) + (W(end) − W(start)) / CHUNK, which is exactly the law of N(0, 1)
    steps given their sum. A row costs about one normal, plus the chunks' ends."""
    walk = np.asarray(walk, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    if t.size == 0:
        return np.zeros(0, dtype=np.float64)
    # a 64-bit salt per walk offsets its indices in the keyed streams (two walks drawing the
    # same normals would need salts within 2^40 of each other: about n² / 2^24 per 2^64)
    chunk, k = t // CHUNK, t % CHUNK
    if t.size > 1 and bool(np.all((walk[1:] > walk[:-1]) | ((walk[1:] == walk[:-1]) & (chunk[1:] >= chunk[:-1])))):
        # rows in (walk, time) order, as blocks of a walk come: the pairs by their change points
        new_pair = np.empty(t.size, dtype=bool)
        new_pair[0] = True
        new_pair[1:] = (walk[1:] != walk[:-1]) | (chunk[1:] != chunk[:-1])
        inverse = np.cumsum(new_pair) - 1
        pairs = np.stack([walk[new_pair], chunk[new_pair]])
    else:
        pairs, inverse = np.unique(np.stack([walk, chunk]), axis=1, return_inverse=True)
        inverse = inverse.reshape(-1)
    p_salt = rng.bits(rng.subkey(key, "walk"), pairs[0])
    ends_key, steps_key = rng.subkey(key, "ends"), rng.subkey(key, "steps")
    c = pairs[1]
    scale = math.sqrt(float(CHUNK))
    start = scale * _levy(ends_key, p_salt, c)
    end = scale * _levy(ends_key, p_salt, c + 1)
    # the chunk's CHUNK unit steps, keyed by the walk and the step's global index
    step_index = (c * CHUNK)[:, None] + np.arange(CHUNK, dtype=np.int64)[None, :]
    with np.errstate(over="ignore"):
        x = rng.normal(steps_key, (p_salt[:, None] + step_index.astype(np.uint64)).view(np.int64).reshape(-1))
    x = x.reshape(-1, CHUNK)
    partial = np.cumsum(x, axis=1)  # partial[:, j] = x_0 + … + x_j
    mean = partial[:, -1] / CHUNK
    drift = (end - start) / CHUNK
    taken = np.where(k > 0, partial[inverse, np.maximum(k - 1, 0)], 0.0)
    return start[inverse] + taken + k * (drift[inverse] - mean[inverse])


@register("random_walk")
class RandomWalk(Generator):
    """A Gaussian random walk: start + drift · t + step · W(t), W with N(0, 1) steps.

    Params: ``start`` (default 0) — the value at t = 0; ``step`` (default 1, > 0) — the standard
    deviation of one step; ``drift`` (default 0) — added per step. In a per-parent table each
    parent's children are their own walk (t counts that parent's children: one drifting series
    per sensor or account); elsewhere t is the row. Each row is computed on its own (Lévy's
    midpoint construction every 64 steps, keyed steps bridged in between), so the values are the same
    at any block size or worker count, and raising the rows only appends. Values outside the
    column's min/max are clipped to them (a walk has no bounds of its own); not unique."""

    kinds = NUMERIC
    params_schema = obj(start=NUMBER, step={"type": "number", "exclusiveMinimum": 0}, drift=NUMBER)

    def generate(self, ctx):
        p = ctx.params
        rows = np.asarray(ctx.rows, dtype=np.int64)
        if ctx.owners is not None:
            walk, t = (np.asarray(x, dtype=np.int64) for x in ctx.owners())
        else:
            walk, t = np.zeros(rows.shape, dtype=np.int64), rows
        w = levy_walk(ctx.key("value"), walk, t)
        return float(p.get("start", 0.0)) + float(p.get("drift", 0.0)) * t + float(p.get("step", 1.0)) * w
