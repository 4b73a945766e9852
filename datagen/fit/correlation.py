"""The Gaussian copula of a table: the latent correlation of its columns, for ``correlations:``.

The standard Gaussian-copula estimator: each column becomes **normal scores** —
Φ⁻¹(r / (n + 1)) of its ranks r among its n non-null values, ties sharing their average rank, so
a category (or a repeated integer) gets Φ⁻¹ of the midpoint of its cumulative frequency — and
the latent correlation of two columns is the Pearson correlation of their scores over the rows
where both are present. Categorical columns (``choice``, ``bernoulli``) are ranked in the order
their values are written, which is the order the engine's inverse CDF buckets them in
(docs/dsl.md "Correlations"); ``order_categories`` first chooses that order so the category's
rank says the most about the other columns (by the mean score of the continuous column it
explains best, the correlation ratio η).

The matrix is then made a valid correlation matrix (``shared.schema_dsl.copula``: eigenvalues
floored, unit diagonal) and rounded for the YAML — shrunk towards the identity by the smallest
step that keeps it positive semi-definite after rounding. Everything is whole-array numpy: one
``rankdata`` per column, one matrix product for all pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CopulaFit", "ParentContext", "parent_context", "normal_scores", "grouped_scores", "conditional_pairs",
           "fit_copula", "fit_from_matrix", "cross_correlations", "attenuation",
           "order_categories", "ordinal_codes", "attenuation_from_probs"]

#: decimals of the written matrix
DIGITS = 3
#: the smallest eigenvalue kept when making the matrix valid (before rounding)
EIGEN_FLOOR = 1e-3
#: fewer rows than this where two columns are both present: their correlation is taken as 0
MIN_PAIR_ROWS = 30
#: parent context: the largest expected move of a child column's mean (in its standard
#: deviations) that conditioning on parents with few effective parents may cause
MAX_SHIFT = 0.05


@dataclass
class CopulaFit:
    columns: list[str]
    matrix: list[list[float]]
    rows: int  # rows the scores were computed on
    adjusted: float  # Frobenius distance between the estimate and the written (valid) matrix
    strongest: list[tuple[str, str, float]] = field(default_factory=list)
    #: each column's normal scores on the fitted rows (rows × columns, NaN: missing) and their
    #: tie attenuations — what a child's parent context is estimated against (not written)
    scores: np.ndarray | None = field(default=None, repr=False)
    attenuations: np.ndarray | None = field(default=None, repr=False)

    def block(self) -> dict[str, Any]:
        return {"kind": "gaussian_copula", "columns": list(self.columns), "matrix": self.matrix}

    def summary(self) -> str:
        pairs = ", ".join(f"{a}~{b} {r:+.2f}" for a, b, r in self.strongest[:5])
        text = (f"learned: a Gaussian copula over {len(self.columns)} columns — the correlation of their "
                f"normal scores (ranks; categories at their cumulative-frequency midpoints, in the order "
                f"written) on {self.rows:,} rows")
        if pairs:
            text += f"; strongest: {pairs}"
        if self.adjusted > 5e-3:
            text += f"; made positive semi-definite (moved by {self.adjusted:.3f})"
        return text + ". Edit or drop the block; docs/dsl.md#correlations."


def ordinal_codes(values: pa.Array | pa.ChunkedArray, order: list[Any] | None) -> np.ndarray:
    """The column as floats to rank: a category's position in ``order`` (a value not in it, e.g.
    withheld under k-anonymity, and nulls are NaN), else the values themselves (numbers, dates and
    timestamps as their integer units, booleans as 0/1)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if order is not None:
        try:
            idx = pc.index_in(arr, value_set=pa.array(order, type=arr.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            idx = pc.index_in(pc.cast(arr, pa.string()), value_set=pa.array([str(v) for v in order]))
        return np.asarray(pc.cast(idx, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_boolean(arr.type):
        arr = pc.cast(arr, pa.int8())
    elif pa.types.is_timestamp(arr.type):
        arr = pc.cast(arr, pa.int64())
    elif pa.types.is_date(arr.type):
        arr = pc.cast(pc.cast(arr, pa.date32()), pa.int32())
    out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype=np.float64)


def normal_scores(x: np.ndarray) -> np.ndarray:
    """Φ⁻¹(average rank / (n + 1)) of the non-NaN values of ``x`` (NaN stays NaN)."""
    from scipy import special, stats

    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    n = int(ok.sum())
    if n:
        out[ok] = special.ndtri(stats.rankdata(x[ok]) / (n + 1))
    return out


def attenuation(x: np.ndarray) -> float:
    """How much ties shrink a column's normal scores' correlation with its latent normal:
    corr(s(X), Z) when X is Z cut at its values' cumulative frequencies and s the midpoint scores
    — Σ P_i s_i m_i / √(Σ P_i s_i²), m_i = E[Z | cell i] = (φ(a_i) − φ(b_i)) / P_i. 1 for a
    continuous column, ≈ 0.80 for a fair coin. The latent correlation of two columns is the scores'
    correlation divided by both (the polyserial / polychoric correction, to first order)."""
    v = x[~np.isnan(x)]
    if v.size == 0:
        return 1.0
    _, counts = np.unique(v, return_counts=True)
    if counts.size == v.size:
        return 1.0
    return attenuation_from_probs(counts / v.size)


def attenuation_from_probs(p: np.ndarray) -> float:
    """:func:`attenuation` of a discrete column from its categories' probabilities, in order."""
    from scipy import special

    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    if p.size < 2:
        return 1.0
    hi = np.cumsum(p)
    lo = hi - p
    s = special.ndtri(np.clip((lo + hi) / 2.0, 1e-12, 1 - 1e-12))
    phi = lambda q: np.exp(-0.5 * special.ndtri(np.clip(q, 0.0, 1.0)) ** 2) / np.sqrt(2 * np.pi)  # noqa: E731
    m = (phi(lo) - phi(hi)) / p
    num = float((p * s * m).sum())
    den = float(np.sqrt((p * s * s).sum()))
    return max(num / den, 0.05) if den > 0 else 1.0


def grouped_scores(x: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, float]:
    """Normal scores of ``x`` ranked within each group (a ``switch``'s case: the rows whose
    ``on`` value is one case), and the rows' mean tie attenuation (each group's, weighted by its
    rows). One ``normal_scores`` per group: a loop over the cases, not the rows."""
    out = np.full(x.shape, np.nan)
    weighted, total = 0.0, 0
    for g in np.unique(groups):
        sel = groups == g
        out[sel] = normal_scores(x[sel])
        n = int((~np.isnan(x[sel])).sum())
        weighted += attenuation(x[sel]) * n
        total += n
    return out, (weighted / total if total else 1.0)


def conditional_pairs(codes: dict[str, tuple[np.ndarray, int]], max_cases: int = 64,
                      threshold: float = 0.5) -> list[tuple[str, str, float]]:
    """(child, parent, strength) of categorical columns that another category explains:
    strength = I(C; P) / min(H(C), H(P)) — 1 when one is a function of the other (a plane's
    carrier) — at least ``threshold``, the parent with at most ``max_cases`` values (a switch's
    cases). Strongest first; one parent per child, a parent is no child itself (one level).
    ``codes``: {column: (each row's position in its values, NaN missing; the number of values)}."""
    def entropy(counts: np.ndarray) -> float:
        p = counts[counts > 0] / counts.sum()
        return float(-(p * np.log(p)).sum())

    found = []
    names = list(codes)
    for child in names:
        xc, mc = codes[child]
        for parent in names:
            xp, mp = codes[parent]
            if parent == child or mp > max_cases or mp < 2 or mc < 2:
                continue
            ok = ~(np.isnan(xc) | np.isnan(xp))
            if ok.sum() < MIN_PAIR_ROWS:
                continue
            c, p = xc[ok].astype(np.int64), xp[ok].astype(np.int64)
            joint = np.bincount(p * mc + c, minlength=mp * mc).astype(np.float64)
            hc = entropy(np.bincount(c, minlength=mc).astype(np.float64))
            hp = entropy(np.bincount(p, minlength=mp).astype(np.float64))
            if min(hc, hp) <= 0:
                continue
            strength = (hc + hp - entropy(joint)) / min(hc, hp)
            if strength >= threshold:
                found.append((child, parent, round(float(strength), 4)))
    found.sort(key=lambda t: -t[2])
    chosen: list[tuple[str, str, float]] = []
    children: set[str] = set()
    parents: set[str] = set()
    for child, parent, strength in found:
        if child in children or child in parents or parent in children:
            continue
        chosen.append((child, parent, strength))
        children.add(child)
        parents.add(parent)
    return chosen


def _pairwise(scores: np.ndarray) -> np.ndarray:
    """Pearson correlations of the columns of ``scores`` (NaN: missing) over the rows where both
    are present, all pairs in three matrix products (scores are centred by construction)."""
    present = ~np.isnan(scores)
    s = np.where(present, scores, 0.0)
    m = present.astype(np.float64)
    cross = s.T @ s
    sq = (s * s).T @ m  # sq[i, j]: Σ s_i² over rows where j is present too
    both = m.T @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cross / np.sqrt(sq * sq.T)
    r[(both < MIN_PAIR_ROWS) | ~np.isfinite(r)] = 0.0
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0)


def cross_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlations of each column of ``a`` with each of ``b`` (NaN: missing), each pair
    over the rows where both are present and centred on those rows — a parent's scores repeat
    over its children, so unlike a table's own scores they are not centred on the joined rows (a
    column constant there, e.g. one shared by every referenced parent, gets 0). Sums of
    products per column of ``a``, all of ``b``'s columns in one matrix product."""
    mb = (~np.isnan(b)).astype(np.float64)
    bz = np.where(mb > 0, b, 0.0)
    out = np.zeros((a.shape[1], b.shape[1]))
    for i in range(a.shape[1]):
        ok = ~np.isnan(a[:, i])
        x = np.where(ok, a[:, i], 0.0)
        m = mb[ok]
        n = m.sum(axis=0)
        sx, sxx = x[ok] @ m, (x[ok] * x[ok]) @ m
        yb = bz[ok]
        sy, syy, sxy = yb.sum(axis=0), (yb * yb).sum(axis=0), x[ok] @ yb
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = sxy - sx * sy / n
            den = np.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))
            r = np.where((n >= MIN_PAIR_ROWS) & (den > 1e-9 * np.maximum(n, 1)), cov / den, 0.0)
        out[i] = np.nan_to_num(r)
    return np.clip(out, -1.0, 1.0)


def best_eta(codes: np.ndarray, n_values: int, continuous: np.ndarray) -> tuple[float, np.ndarray | None]:
    """(η², the category means) of the continuous column (of ``continuous``, one score column
    each) that the category explains best — the largest correlation ratio."""
    ok_c = ~np.isnan(codes)
    best_eta, best_means = 0.0, None
    for j in range(continuous.shape[1]):
        y = continuous[:, j]
        ok = ok_c & ~np.isnan(y)
        if ok.sum() < MIN_PAIR_ROWS:
            continue
        g = codes[ok].astype(np.int64)
        yv = y[ok] - y[ok].mean()
        cnt = np.bincount(g, minlength=n_values)
        sums = np.bincount(g, weights=yv, minlength=n_values)
        means = np.divide(sums, cnt, out=np.zeros(n_values), where=cnt > 0)
        total = float((yv * yv).sum())
        eta = float((cnt * means * means).sum() / total) if total > 0 else 0.0
        if eta > best_eta:
            best_eta, best_means = eta, means
    return best_eta, best_means


def order_categories(codes: np.ndarray, n_values: int, continuous: np.ndarray) -> list[int] | None:
    """A better order for a category's values (positions into its written list), or None: the
    order of their mean normal score on the continuous column (of ``continuous``, one score
    column each) that the category explains best (largest correlation ratio η)."""
    if continuous.shape[1] == 0 or n_values < 3:
        return None
    eta, means = best_eta(codes, n_values, continuous)
    if means is None or eta < 1e-3:
        return None
    return [int(i) for i in np.argsort(means, kind="stable")]


def _valid(r: np.ndarray) -> np.ndarray:
    """``r`` made a correlation matrix that stays positive semi-definite once rounded."""
    from shared.schema_dsl import copula

    k = len(r)
    near = copula.nearest_correlation(r) if np.linalg.eigvalsh(r).min() < EIGEN_FLOOR else r
    for step in range(200):
        lam = step * 0.002
        cand = np.round((1.0 - lam) * near + lam * np.eye(k), DIGITS)
        np.fill_diagonal(cand, 1.0)
        if not copula.matrix_problems(cand.tolist(), k):
            return cand
    return np.eye(k)


def fit_copula(columns: dict[str, np.ndarray], continuous: set[str],
               groups: dict[str, np.ndarray] | None = None) -> CopulaFit | None:
    """The copula of ``columns`` ({name: codes to rank, NaN for missing}, all of the same rows);
    ``groups``: for a column drawn conditionally on another (a ``switch``), each row's case
    (−1: the default) — its scores are ranks within its case, as its inverse CDF is."""
    groups = groups or {}
    names = [c for c, x in columns.items() if np.unique(x[~np.isnan(x)]).shape[0] >= 2]
    if len(names) < 2:
        return None
    scored = [grouped_scores(columns[c], groups[c]) if c in groups else
              (normal_scores(columns[c]), attenuation(columns[c])) for c in names]
    scores = np.column_stack([sc for sc, _ in scored])
    att = np.array([a for _, a in scored])
    raw = np.clip(_pairwise(scores) / np.outer(att, att), -0.995, 0.995)
    np.fill_diagonal(raw, 1.0)
    rows = int(np.any(~np.isnan(scores), axis=1).sum())
    fitted = fit_from_matrix(names, raw, rows)
    fitted.scores, fitted.attenuations = scores, att
    return fitted


@dataclass
class ParentContext:
    """A child block extended with givens (``fk.col``): its columns (givens first) and matrix."""

    columns: list[str]
    matrix: list[list[float]]
    givens: list[str]
    strongest: list[tuple[str, str, float]]
    shrunk: float  # the factor the child–parent entries were multiplied by to stay valid (1: none)


def parent_context(child: CopulaFit, parents: list[tuple[str, CopulaFit, np.ndarray]],
                   max_per_parent: int = 2, threshold: float = 0.1, redundant: float = 0.7) -> ParentContext | None:
    """The child's block conditioned on its parents' columns.

    ``parents``: (foreign-key column, the parent's copula fit, for each child row the parent row
    it references among the parent's fitted rows, -1 when none). Per foreign key, the parent
    columns whose latent correlation with some child column reaches ``threshold`` (the strongest
    ``max_per_parent``, skipping one correlated beyond ``redundant`` with one taken) become
    givens; each entry is capped at ``MAX_SHIFT``·√(effective parents) — generated children are
    spread over parents independently of the parents' values, so with few effective parents the
    givens' mean over the children is noisy, and a child conditioned on it would move. Entries
    between givens are the parent's (same foreign key) or 0 (different ones) — what the engine
    draws; child–parent entries are the scores' correlations over the joined rows
    (attenuation-corrected like ``fit_copula``), shrunk towards 0 by the smallest step that keeps
    the rounded matrix valid (the child's own block and the parent's are valid, so the step
    exists)."""
    from shared.schema_dsl import copula

    assert child.scores is not None and child.attenuations is not None
    givens: list[tuple[str, str, CopulaFit, int, np.ndarray]] = []  # (entry, fk, parent fit, index, scores)
    cross: list[np.ndarray] = []
    for fk, pfit, idx in parents:
        assert pfit.scores is not None and pfit.attenuations is not None
        ok = idx >= 0
        if ok.sum() < MIN_PAIR_ROWS:
            continue
        joined = np.full((len(idx), len(pfit.columns)), np.nan)
        joined[ok] = pfit.scores[idx[ok]]
        r = cross_correlations(joined, child.scores)
        att = np.outer(pfit.attenuations, child.attenuations)
        # children are spread over their parents at random when generated, so the givens' mean
        # over the children is that of a few parents' draws when few parents hold most children:
        # a child column conditioned on them moves by about ρ / √(effective parents). Cap ρ so
        # that its expected move stays within MAX_SHIFT standard deviations.
        counts = np.bincount(idx[ok])
        effective = float(counts.sum()) ** 2 / float((counts.astype(np.float64) ** 2).sum())
        cap = min(0.995, MAX_SHIFT * math.sqrt(effective))
        if cap < threshold:
            continue
        r = np.clip(r / att, -cap, cap)
        strength = np.abs(r).max(axis=1)
        taken: list[int] = []
        for j in np.argsort(-strength, kind="stable"):
            if strength[j] < threshold or len(taken) == max_per_parent:
                break
            # a parent column nearly a copy of one taken (longitude and time zone) adds nothing
            # but a matrix that only a shrink of every entry keeps valid
            if any(abs(pfit.matrix[j][t]) > redundant for t in taken):
                continue
            taken.append(int(j))
            givens.append((f"{fk}.{pfit.columns[j]}", fk, pfit, int(j), joined[:, j]))
            cross.append(r[j])
    if not givens:
        return None
    g, k = len(givens), len(child.columns)
    gg = np.eye(g)
    for a in range(g):
        for b in range(a + 1, g):
            if givens[a][1] == givens[b][1]:
                gg[a, b] = gg[b, a] = givens[a][2].matrix[givens[a][3]][givens[b][3]]
    oo = np.asarray(child.matrix, dtype=np.float64)
    go = np.asarray(cross)
    names = [e for e, *_ in givens] + list(child.columns)
    for step in range(101):
        lam = 1.0 - step * 0.01
        cand = np.block([[gg, np.round(lam * go, DIGITS)], [np.round(lam * go, DIGITS).T, oo]])
        if not copula.matrix_problems(cand.tolist(), g + k):
            break
    written = [[float(v) if not float(v).is_integer() else int(v) for v in row] for row in cand]
    strongest = sorted(((names[i], names[g + j], float(cand[i, g + j])) for i in range(g) for j in range(k)),
                       key=lambda t: -abs(t[2]))
    return ParentContext(columns=names, matrix=written, givens=[e for e, *_ in givens], strongest=strongest,
                         shrunk=round(lam, 2))


def fit_from_matrix(names: list[str], raw: np.ndarray, rows: int) -> CopulaFit:
    """The copula of an estimated latent correlation ``raw`` over ``names``: made valid and
    rounded (``_valid``), with its strongest pairs."""
    matrix = _valid(raw)
    strongest = sorted(((names[i], names[j], float(matrix[i, j])) for i in range(len(names))
                        for j in range(i + 1, len(names))), key=lambda t: -abs(t[2]))
    written = [[float(v) if not float(v).is_integer() else int(v) for v in row] for row in matrix]
    return CopulaFit(columns=names, matrix=written, rows=rows,
                     adjusted=float(np.linalg.norm(matrix - raw)), strongest=strongest)
