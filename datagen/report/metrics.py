"""The fidelity metrics, on whole numpy arrays, defined as SDMetrics defines them.

Inputs are already encoded by :mod:`datagen.report.encode`: a continuous column (numerical or
datetime) is a ``float64`` array with NaN for a missing value (datetimes in microseconds since
the epoch); a discrete column (categorical or boolean) is an ``int64`` array of codes into one
dictionary shared by the real and the synthetic data, ``-1`` for a missing value.

=============================  ====================================================================
metric                         definition (docs/report.md has the details)
=============================  ====================================================================
``ks_complement``              1 − D, D the two-sample Kolmogorov–Smirnov statistic of the non-missing
                               values (rounded to 14 decimals)
``tv_complement``              1 − ½ Σ |p_real(v) − p_syn(v)| over the non-missing categories
``correlation_similarity``     1 − |ρ_real − ρ_syn| / 2, ρ Pearson's on the rows where both are present
``contingency_similarity``     1 − ½ Σ |p_real(a, b) − p_syn(a, b)| over the joint categories (missing
                               is a category; a continuous column binned by ``discretize``)
``cardinality_counts``         children per parent row (zeros included); its KS complement is the
                               cardinality shape similarity
``range_coverage``             1 − (max(0, (min_s − min_r)/(max_r − min_r)) + max(0, (max_r − max_s)/…))
``category_coverage``          share of the real categories the synthetic data has
``missing_value_similarity``   1 − |missing share real − missing share synthetic|
``referential_integrity``      share of synthetic foreign keys that are parent keys
``dcr``                        distance to the closest record, mean of per-column distances
=============================  ====================================================================
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ks_complement", "tv_complement", "correlation_similarity", "contingency_similarity", "discretize",
    "cramers_v", "cardinality_counts", "range_coverage", "category_coverage", "missing_value_similarity",
    "referential_integrity", "dcr", "row_hashes", "MAX_DECIMALS", "DISCRETE_BINS",
]

#: SDMetrics rounds continuous values to this many decimals before the KS test
MAX_DECIMALS = 14
#: bins of a continuous column in a contingency table (numpy's default, as SDMetrics uses it)
DISCRETE_BINS = 10
#: cells of one distance block (data rows × reference rows) in ``dcr``
DCR_BLOCK_CELLS = 1_000_000

NAN = float("nan")


def _present(x: np.ndarray) -> np.ndarray:
    return x[~np.isnan(x)]


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 − the two-sample Kolmogorov–Smirnov statistic (NaN when a side has no value)."""
    a = np.sort(np.round(_present(np.asarray(real, np.float64)), MAX_DECIMALS))
    b = np.sort(np.round(_present(np.asarray(synthetic, np.float64)), MAX_DECIMALS))
    if not len(a) or not len(b):
        return NAN
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / len(a)
    cdf_b = np.searchsorted(b, points, side="right") / len(b)
    return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))


def _frequencies(codes: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(codes, minlength=size).astype(np.float64)


def tv_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 − the total variation distance of the category frequencies (missing values left out)."""
    r = real[real >= 0]
    s = synthetic[synthetic >= 0]
    if not len(r) or not len(s):
        return NAN
    size = int(max(r.max(), s.max())) + 1
    pr = _frequencies(r, size) / len(r)
    ps = _frequencies(s, size) / len(s)
    return float(1.0 - 0.5 * np.abs(pr - ps).sum())


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2:
        return NAN
    x = x - x.mean()
    y = y - y.mean()
    sx, sy = math.sqrt(float(np.dot(x, x))), math.sqrt(float(np.dot(y, y)))
    if sx == 0 or sy == 0:  # a constant column: correlation is undefined
        return NAN
    return float(max(-1.0, min(1.0, float(np.dot(x, y)) / (sx * sy))))


def correlation_similarity(real_x: np.ndarray, real_y: np.ndarray, syn_x: np.ndarray,
                           syn_y: np.ndarray) -> tuple[float, float, float]:
    """(score, real ρ, synthetic ρ): 1 − |ρ_real − ρ_syn| / 2 with Pearson's ρ."""
    r = _pearson(real_x, real_y)
    s = _pearson(syn_x, syn_y)
    if math.isnan(r) or math.isnan(s):
        return NAN, r, s
    return 1.0 - abs(r - s) / 2.0, r, s


def discretize(x: np.ndarray, bins: int = DISCRETE_BINS) -> np.ndarray:
    """A continuous column as bin numbers: ``bins`` equal-width bins over its own non-missing
    range, numbered as ``numpy.digitize`` numbers them (the maximum and a missing value land one
    past the last bin), which is how SDMetrics' column pair trends bin a column."""
    present = _present(x)
    edges = np.histogram_bin_edges(present, bins=bins)
    return np.digitize(x, edges).astype(np.int64)


def _joint(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    return (a.astype(np.int64) + 1) * (width + 2) + (b.astype(np.int64) + 1)


def contingency_similarity(real_a: np.ndarray, real_b: np.ndarray, syn_a: np.ndarray, syn_b: np.ndarray) -> float:
    """1 − ½ Σ |p_real − p_syn| over the joint categories of two discrete columns (codes; a missing
    value, ``-1``, is a category of its own; frequencies over all rows)."""
    if not len(real_a) or not len(syn_a):
        return NAN
    width = int(max(real_b.max(initial=0), syn_b.max(initial=0)))
    kr = _joint(real_a, real_b, width)
    ks = _joint(syn_a, syn_b, width)
    keys = np.union1d(kr, ks)
    pr = np.bincount(np.searchsorted(keys, kr), minlength=len(keys)) / len(kr)
    ps = np.bincount(np.searchsorted(keys, ks), minlength=len(keys)) / len(ks)
    return float(1.0 - 0.5 * np.abs(pr - ps).sum())


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramér's V of two discrete columns (no bias correction; missing is a category), NaN when
    the table has fewer than two rows or columns."""
    if not len(a):
        return NAN
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    na, nb = int(ia.max()) + 1, int(ib.max()) + 1
    if min(na, nb) < 2:
        return NAN
    table = np.bincount(ia * nb + ib, minlength=na * nb).reshape(na, nb).astype(np.float64)
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / (n * (min(na, nb) - 1)))


def cardinality_counts(parent_keys: np.ndarray, child_keys: np.ndarray) -> np.ndarray:
    """Children per parent row, zeros included (``child_keys``: each child's parent row index,
    −1 for a key that matches no parent or is missing)."""
    hit = child_keys[child_keys >= 0]
    return np.bincount(hit, minlength=len(parent_keys)).astype(np.float64)


def range_coverage(real: np.ndarray, synthetic: np.ndarray) -> float:
    """How much of the real range the synthetic values span (NaN for a constant real column)."""
    r, s = _present(real), _present(synthetic)
    if not len(r) or not len(s):
        return NAN
    lo, hi = float(r.min()), float(r.max())
    if lo == hi:
        return NAN
    below = max((float(s.min()) - lo) / (hi - lo), 0.0)
    above = max((hi - float(s.max())) / (hi - lo), 0.0)
    return max(1.0 - (below + above), 0.0)


def category_coverage(real: np.ndarray, synthetic: np.ndarray) -> float:
    """The share of the real data's categories that appear in the synthetic data."""
    r = np.unique(real[real >= 0])
    if not len(r):
        return NAN
    return float(np.isin(r, synthetic[synthetic >= 0]).sum() / len(r))


def missing_value_similarity(real_missing: np.ndarray, syn_missing: np.ndarray) -> float:
    """1 − |real missing share − synthetic missing share| (boolean masks)."""
    if not len(real_missing) or not len(syn_missing):
        return NAN
    return 1.0 - abs(float(real_missing.mean()) - float(syn_missing.mean()))


def referential_integrity(matched: np.ndarray, missing: np.ndarray, real_has_missing: bool) -> float:
    """The share of synthetic foreign keys that reference a parent key (``matched``); a missing
    key counts as a miss unless the real foreign key has missing values too (then it is left out)."""
    keep = ~missing if real_has_missing else np.ones(len(matched), bool)
    n = int(keep.sum())
    return float(matched[keep].sum() / n) if n else NAN


def dcr(data: list[np.ndarray], reference: list[np.ndarray], kinds: list[str], ranges: list[float]) -> np.ndarray:
    """Each data row's distance to its closest reference row: the mean over columns of

    * continuous: |a − b| / the reference's range, capped at 1 (a range of 0: 1 when they differ);
    * discrete: 0 when equal, else 1;
    * one side missing: 1; both missing: 0.

    Columns are parallel lists (``kinds``: "continuous" or "discrete"); computed in blocks of at
    most ``DCR_BLOCK_CELLS`` pairs."""
    n, m = len(data[0]), len(reference[0])
    out = np.empty(n, np.float64)
    if m == 0:
        out.fill(NAN)
        return out
    step = max(1, DCR_BLOCK_CELLS // m)
    for start in range(0, n, step):
        stop = min(n, start + step)
        total = np.zeros((stop - start, m), np.float64)
        for a_all, b, kind, rng in zip(data, reference, kinds, ranges, strict=True):
            a = a_all[start:stop]
            if kind == "continuous":
                diff = np.abs(a[:, None] - b[None, :])
                d = (diff > 0).astype(np.float64) if rng == 0 else np.minimum(diff / rng, 1.0)
                na, nb = np.isnan(a)[:, None], np.isnan(b)[None, :]
                d = np.where(na | nb, (na ^ nb).astype(np.float64), d)
            else:
                d = (a[:, None] != b[None, :]).astype(np.float64)
            total += d
        out[start:stop] = total.min(axis=1) / len(data)
    return out


def row_hashes(columns: list[np.ndarray]) -> np.ndarray:
    """One 64-bit hash per row of the encoded columns (NaN hashes alike), to find exact copies."""
    import pandas as pd

    frame = pd.DataFrame({str(i): c for i, c in enumerate(columns)})
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()
