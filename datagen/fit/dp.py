"""Differential privacy for ``datagen fit`` (``epsilon``): every released statistic is the output
of an OpenDP measurement, and the budget is split and accounted here.

The privacy unit is **one row of one table** (add/remove neighbours, so row counts are private
too). Each statistic is an aggregate whose sensitivity to one row is bounded by construction
(counts: 1; children per parent: 2; the clipped normal-score cross products: ``corr_bound``);
the aggregate is computed with numpy on whole arrays and released through OpenDP:

==========================  ===============================================  ===================
statistic                   OpenDP measurement                               sensitivity (d_in)
==========================  ===============================================  ===================
row count, histograms       ``make_laplace`` on an i64 vector (discrete      L1 = 1 (2 for
(null / value bins, true /  Laplace), ``l1_distance``                        children per parent,
false, hours, weekdays)                                                      timestamps)
numeric and date quartiles  ``make_private_quantile`` over a public grid     symmetric distance 1
(the histogram's window)    (exponential mechanism), q = 0.25 and 0.75
text categories, hashed     ``make_laplace_threshold`` (stability            (l0, l1, l∞) =
tokens (needs ``delta``)    histogram: unknown keys, δ from the threshold)   (1, 1, 1)
copula                      ``make_laplace`` on a float vector: the upper    L1 = (p + 1)·C²/2
                            triangle of Σ zᵢzᵢᵀ, rows clipped to ‖z‖ ≤ C
==========================  ===============================================  ===================

Each measurement is built for the ε it is given (the scale found from OpenDP's own privacy map,
which is checked: ``map(d_in) ≤ ε``); its ``map`` is what is recorded as spent. The total is the
sum over all measurements — basic sequential composition, valid for adaptively chosen
measurements (the copula uses the released marginals) — and never exceeds the budget.

Everything the schema says is then **post-processing** of these releases: a distribution is
fitted to a deterministic pseudo-sample drawn from the noisy histogram (its quantiles at evenly
spaced probabilities), so the marginal fit, the KS scores, the per-parent model and the fk skew
use no raw value. Noise comes from OpenDP's CSPRNG, which cannot be seeded (a seed would let
anyone who knows it remove the noise): two fits with epsilon do not give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.errors import UsageError

__all__ = ["Accountant", "DPFit", "pseudo_sample", "numeric_grid", "day_grid", "COUNT_EDGES"]

#: the window a histogram spans: the private quartiles widened by this many IQRs each side
WINDOW_IQR = 5.0
#: equal-width bins of a numeric (or date) histogram over its window
NUMERIC_BINS = 64
#: the public grid of numeric bound candidates: 0 and ±10^e, e in [-6, 15], this many per decade
GRID_PER_DECADE = 20
GRID_DECADES = (-6, 15)
#: the public grid of date bounds: every day from/to (days since 1970-01-01)
DAY_RANGE = (-25_567, 47_481)  # 1900-01-01 .. 2099-12-31
#: the public bins of children per parent: [e_i, e_{i+1}) in counts
COUNT_EDGES = np.unique(np.concatenate([np.arange(0, 17), np.round(16 * 1.25 ** np.arange(1, 60))])).astype(np.int64)
#: at most this many values in a pseudo-sample (the marginal fit's own cap)
PSEUDO_SAMPLE = 20_000
#: share of a column's ε spent on its two quartiles (the rest: its histogram)
BOUNDS_SHARE = 0.3
NULLS_SHARE = 0.2  # text categories: the null count, the rest for the thresholded counts


def _opendp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def numeric_grid(integer: bool) -> np.ndarray:
    lo, hi = GRID_DECADES
    mags = 10.0 ** np.linspace(lo, hi, (hi - lo) * GRID_PER_DECADE + 1)
    grid = np.concatenate([-mags[::-1], [0.0], mags])
    if integer:
        grid = np.unique(np.round(grid))
    return np.unique(grid)


def day_grid() -> np.ndarray:
    return np.arange(DAY_RANGE[0], DAY_RANGE[1] + 1, dtype=np.float64)


def pseudo_sample(edges: np.ndarray, weights: np.ndarray, m: int, integer: bool) -> np.ndarray:
    """``m`` values spread like the histogram (uniform within each bin): its quantile function at
    (i + ½)/m — deterministic, no random draw."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    u = (np.arange(m) + 0.5) / m
    x = np.interp(u, cum, np.asarray(edges, dtype=np.float64))
    return np.round(x) if integer else x


@dataclass
class Accountant:
    """The budget and every measurement spent from it (basic sequential composition)."""

    epsilon: float
    delta: float
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def spent_epsilon(self) -> float:
        return float(sum(r["epsilon"] for r in self.records))

    @property
    def spent_delta(self) -> float:
        return float(sum(r["delta"] for r in self.records))

    def _fit_scale(self, make: Callable[[float], Any], d_in: Any, eps: float,
                   eps_of: Callable[[Any], float] = float) -> tuple[Any, float, float]:
        """The measurement of ``make(scale)`` with the smallest scale found whose privacy map at
        ``d_in`` is at most ``eps`` (the map is ∝ 1/scale; OpenDP rounds it up, so check)."""
        if not eps > 0:
            raise AssertionError(f"a measurement with ε = {eps}")
        scale = eps_of(make(1.0).map(d_in)) / eps
        for i in range(60):
            meas = make(scale)
            got = eps_of(meas.map(d_in))
            if got <= eps:
                return meas, scale, got
            scale *= 1 + 1e-12 * 4 ** i
        raise AssertionError(f"no scale met ε = {eps}")

    def _record(self, stat: str, mechanism: str, eps: float, delta: float, scale: float, d_in: Any,
                **extra: Any) -> None:
        self.records.append({"statistic": stat, "mechanism": mechanism, "epsilon": eps, "delta": delta,
                             "scale": scale, "sensitivity": d_in, **extra})

    def counts(self, stat: str, counts: np.ndarray, eps: float, sensitivity: int = 1) -> np.ndarray:
        """Discrete-Laplace noise on a vector of counts (L1 sensitivity ``sensitivity``)."""
        dp = _opendp()
        space = (dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"))
        meas, scale, got = self._fit_scale(lambda s: dp.m.make_laplace(*space, scale=s), sensitivity, eps)
        out = np.asarray(meas(np.require(counts, np.int64, ["C", "W"])), dtype=np.int64)
        self._record(stat, "laplace (discrete, OpenDP make_laplace)", got, 0.0, scale, sensitivity,
                     size=int(len(counts)))
        return out

    def sums(self, stat: str, values: np.ndarray, eps: float, sensitivity: float) -> np.ndarray:
        """Laplace noise on a float vector (L1 sensitivity ``sensitivity``)."""
        dp = _opendp()
        space = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float))
        meas, scale, got = self._fit_scale(lambda s: dp.m.make_laplace(*space, scale=s), float(sensitivity), eps)
        out = np.asarray(meas(np.require(values, np.float64, ["C", "W"])), dtype=np.float64)
        self._record(stat, "laplace (OpenDP make_laplace)", got, 0.0, scale, float(sensitivity),
                     size=int(len(values)))
        return out

    def quantile(self, stat: str, x: np.ndarray, candidates: np.ndarray, alpha: float, eps: float) -> float:
        """A private quantile of ``x`` among public ``candidates`` (the exponential mechanism)."""
        dp = _opendp()
        cands = [float(c) for c in candidates]
        space = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance(), dp.max_divergence())
        meas, scale, got = self._fit_scale(
            lambda s: dp.m.make_private_quantile(*space, candidates=cands, alpha=alpha, scale=s), 1, eps)
        out = float(meas(np.require(x, np.float64, ["C", "W"])))
        self._record(stat, f"quantile {alpha} (exponential mechanism, OpenDP make_private_quantile)", got, 0.0,
                     scale, 1, candidates=len(cands))
        return out

    def threshold(self, stat: str, counts: dict[str, int], eps: float, delta: float, floor: int) -> dict[str, int]:
        """Noisy counts of keys not known in advance, those under a threshold left out (OpenDP's
        stability histogram): ε from the scale, δ from the threshold (never below ``floor``)."""
        dp = _opendp()
        space = (dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T="i64")),
                 dp.l01inf_distance(dp.absolute_distance(T="i64")))
        d_in = (1, 1, 1)
        probe = dp.m.make_laplace_threshold(*space, scale=1.0, threshold=10**6)
        scale = probe.map(d_in)[0] / eps
        threshold = max(int(floor), int(math.ceil(1 + scale * math.log(1 / max(delta, 1e-300)))))
        for i in range(200):
            meas = dp.m.make_laplace_threshold(*space, scale=scale, threshold=threshold)
            e, d = meas.map(d_in)
            if e > eps:
                scale *= 1 + 1e-12 * 4 ** min(i, 20)
            elif d > delta:
                threshold = int(math.ceil(threshold * 1.05)) + 1
            else:
                break
        else:
            raise AssertionError(f"no threshold met δ = {delta}")
        out = meas({str(k): int(v) for k, v in counts.items()})
        self._record(stat, "laplace with threshold (stability histogram, OpenDP make_laplace_threshold)",
                     float(e), float(d), scale, list(d_in), threshold=threshold)
        return {str(k): int(v) for k, v in out.items()}

    def report(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "delta": self.delta, "spent_epsilon": _r(self.spent_epsilon),
                "spent_delta": float(f"{self.spent_delta:.6g}"),
                "composition": "basic sequential composition: the sum of every measurement's ε and δ",
                "privacy_unit": "one row of one table (added or removed)",
                "noise": "OpenDP's CSPRNG (not seedable): fits with epsilon are not reproducible",
                "measurements": [r | {"epsilon": _r(r["epsilon"]), "delta": float(f"{r['delta']:.6g}"),
                                      "scale": _r(r["scale"])} for r in self.records]}


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def _floor(counts: np.ndarray, eps: float, sensitivity: float, k: int) -> np.ndarray:
    """Post-processing of a noisy histogram: negative counts are 0, and a bin under
    max(k, (2 + ln bins) × scale) is read as empty — k-anonymity after noise, and few bins that
    only noise filled (each has a chance of ½·e^(−2)/bins)."""
    w = np.clip(np.asarray(counts), 0, None)
    w[w < max(k, (2 + math.log(max(len(w), 1))) * sensitivity / eps)] = 0
    return w


@dataclass
class Numeric:
    """A numeric column's DP release: bounds, null rate, the noisy histogram and its CDF."""

    lo: float
    hi: float
    null_rate: float
    total: int  # noisy count of non-null values
    edges: np.ndarray
    weights: np.ndarray  # noisy counts, ≥ 0, bins under k zeroed
    categorical: bool  # integer bins of one value each (a choice)
    bounds_from: str  # "quantiles" or "given"

    def cdf(self, x: np.ndarray) -> np.ndarray:
        w = self.weights.astype(np.float64)
        cum = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
        return np.interp(x, self.edges, cum)

    def pseudo(self, integer: bool) -> np.ndarray:
        return pseudo_sample(self.edges, self.weights, int(min(PSEUDO_SAMPLE, max(self.total, 100))), integer)


class DPFit:
    """The budget plan (ε split evenly over tables, then evenly over each table's released units:
    its row count, each column, each relation it is the child of, its copula) and the releases."""

    def __init__(self, epsilon: float, delta: float, k: int, bounds: dict[str, tuple[Any, Any]] | None = None):
        self.acc = Accountant(epsilon, delta)
        self.k = k
        self.bounds = dict(bounds or {})
        self.units: dict[str, dict[str, float]] = {}
        self.threshold_units: list[str] = []

    def plan(self, units: dict[str, dict[str, float]], threshold_units: list[str]) -> None:
        """``units``: per table, unit → weight (its share of the table's ε is weight / Σ weights)."""
        self.units = {t: dict(u) for t, u in units.items() if u}
        self.threshold_units = list(threshold_units)

    def eps(self, table: str, unit: str) -> float:
        units = self.units.get(table) or {}
        if unit not in units:
            raise AssertionError(f"{table}.{unit}: not in the budget plan")
        return self.acc.epsilon / len(self.units) * units[unit] / sum(units.values())

    def delta_for(self, unit: str) -> float:
        return self.acc.delta / len(self.threshold_units) if unit in self.threshold_units and self.acc.delta else 0.0

    def plan_json(self) -> dict[str, Any]:
        return {"split": "ε evenly over the tables, then over each table's units by weight (row count 0.5, a "
                         "column whose only statistic is its null rate 0.25, other columns, relations it is the child "
                         "of and its copula 1); within a unit as in docs/privacy.md; δ evenly over the thresholded "
                         "category releases",
                "tables": {t: {"epsilon": _r(self.acc.epsilon / len(self.units)),
                               "units": {n: _r(self.eps(t, n)) for n in u}} for t, u in self.units.items()},
                "thresholded": list(self.threshold_units)}

    # --- releases ------------------------------------------------------------------------
    def rows(self, table: str, n: int) -> int:
        got = self.acc.counts(f"{table}.rows", np.array([n]), self.eps(table, "rows"))
        return max(int(got[0]), 1)

    def null_rate(self, stat: str, nulls: int, nonnull: int, eps: float) -> tuple[float, int]:
        """(null rate, noisy non-null count) from a [nulls, non-nulls] histogram."""
        got = self.acc.counts(f"{stat} nulls", np.array([nulls, nonnull]), eps)
        return self._rate(got[0], got[1], eps), max(int(got[1]), 0)

    def _rate(self, nulls: float, nonnull: float, eps: float) -> float:
        # post-processing: a noisy null count under max(k, 3 × scale) is read as none
        if nulls < max(self.k, 3.0 / eps) or nonnull <= 0:
            return 0.0 if nonnull > 0 else 1.0
        return float(nulls / (nulls + nonnull))

    def _window(self, stat: str, key: str, x: np.ndarray, grid: np.ndarray, eps: float,
                integer: bool) -> tuple[float, float, str]:
        """Given bounds, or a window around the data: the quartiles by private quantiles over the
        wide public ``grid`` (robust: a quarter of the rows separates them from the far candidates),
        widened by ``WINDOW_IQR`` × IQR each side. The histogram over it then says where the data
        are (``_trim``): no extreme of a single row is released, and a small budget degrades to a
        window around the data, never to the grid's ends."""
        if key in self.bounds:
            lo, hi = self.bounds[key]
            return float(lo), float(hi), "given"
        q1 = self.acc.quantile(f"{stat} lower quartile", x, grid, 0.25, eps / 2)
        q3 = self.acc.quantile(f"{stat} upper quartile", x, grid, 0.75, eps / 2)
        q1, q3 = min(q1, q3), max(q1, q3)
        width = max(WINDOW_IQR * (q3 - q1), 1e-6 * (abs(q1) + abs(q3)), 3.0 if integer else 1e-9)
        lo, hi = q1 - width, q3 + width
        if integer:
            lo, hi = math.floor(lo), math.ceil(hi)
        return lo, hi, "quantiles"

    @staticmethod
    def _edges(lo: float, hi: float, integer: bool) -> tuple[np.ndarray, bool]:
        """Histogram edges over [lo, hi]: one bin per integer when at most ``NUMERIC_BINS`` fit
        (``True``), else ``NUMERIC_BINS`` equal-width bins (integer edges for integers)."""
        if integer and hi - lo + 1 <= NUMERIC_BINS:
            return np.arange(lo, hi + 2, dtype=np.float64) - 0.5, True
        if hi <= lo:
            hi = lo + max(abs(lo) * 1e-3, 1e-6)
        edges = np.linspace(lo, hi, NUMERIC_BINS + 1)
        if integer:
            edges = np.unique(np.round(edges))
            edges[-1] = hi + 1  # the last integer value keeps its own weight (as fit's histograms do)
        return edges, False

    @staticmethod
    def _trim(edges: np.ndarray, w: np.ndarray, unit: bool, integer: bool) -> tuple[np.ndarray, np.ndarray, float, float]:
        """The histogram cut to its outermost non-empty bins, and the bounds that leaves."""
        nz = np.flatnonzero(w)
        if not len(nz):
            return edges, np.ones_like(w), float(edges[0]), float(edges[-1])
        a, b = int(nz[0]), int(nz[-1])
        e, w = edges[a: b + 2], w[a: b + 1]
        if unit:
            return e, w, float(e[0] + 0.5), float(e[-1] - 0.5)
        return e, w, float(e[0]), float(e[-1] - 1 if integer else e[-1])

    def numeric(self, table: str, column: str, x: np.ndarray, nulls: int, *, integer: bool,
                max_categories: int) -> Numeric:
        """A window (given bounds, or the private quartiles widened), then one histogram of
        [nulls, bins…] over it (values clipped in), cut to its non-empty bins — the bounds written.
        Integer windows of at most ``NUMERIC_BINS`` values get one bin per value; at most
        ``max_categories`` of them left: a category."""
        eps = self.eps(table, column)
        key = stat = f"{table}.{column}"
        b_eps = 0.0 if key in self.bounds else eps * BOUNDS_SHARE
        lo, hi, src = self._window(stat, key, x, numeric_grid(integer), b_eps, integer)
        edges, unit = self._edges(lo, hi, integer)
        inner = np.clip(x, edges[0], np.nextafter(edges[-1], -np.inf))
        hist = np.histogram(inner, edges)[0]
        got = self.acc.counts(f"{stat} histogram ({len(edges) - 1} bins + nulls)", np.concatenate([[nulls], hist]),
                              eps - b_eps)
        w = _floor(got[1:], eps - b_eps, 1, self.k)
        total = int(w.sum())
        if src == "given":
            lo2, hi2 = lo, hi
        else:
            edges, w, lo2, hi2 = self._trim(edges, w, unit, integer)
        return Numeric(lo=lo2, hi=hi2, null_rate=self._rate(got[0], max(total, 1), eps - b_eps),
                       total=total, edges=edges, weights=w if total else np.ones_like(w),
                       categorical=unit and hi2 - lo2 + 1 <= max_categories, bounds_from=src)

    def boolean(self, table: str, column: str, n_false: int, n_true: int, nulls: int) -> tuple[float, float]:
        """(p, null rate) from one [nulls, false, true] histogram."""
        eps = self.eps(table, column)
        got = np.clip(self.acc.counts(f"{table}.{column} histogram (null, false, true)",
                                      np.array([nulls, n_false, n_true]), eps), 0, None)
        seen = got[1] + got[2]
        p = float(got[2] / seen) if seen > 0 else 0.5
        return min(max(p, 0.0), 1.0), self._rate(got[0], seen, eps)

    def temporal(self, table: str, column: str, days: np.ndarray, nulls: int, hours: np.ndarray | None,
                 weekdays: np.ndarray | None) -> dict[str, Any]:
        """Bounds in days (given or private quantiles over every day of 1900..2099), then one
        vector [nulls, non-nulls] or, for timestamps, [nulls, hour-of-day ×24, weekday ×7] (L1 2)."""
        eps = self.eps(table, column)
        key = f"{table}.{column}"
        given = key in self.bounds
        b_eps = 0.0 if given else eps * BOUNDS_SHARE
        lo, hi, src = self._window(key, key, days, day_grid(), b_eps, True)
        rest = eps - b_eps
        edges, unit = self._edges(lo, hi, True)
        hist = np.histogram(np.clip(days, edges[0], np.nextafter(edges[-1], -np.inf)), edges)[0]
        parts: list[np.ndarray] = [np.array([nulls]), hist]
        label = f"{key} histogram (nulls, {len(hist)} day bins"
        if hours is not None and weekdays is not None:
            parts += [np.bincount(hours, minlength=24), np.bincount(weekdays, minlength=7)]
            label += ", 24 hours, 7 weekdays"
        sens = 1 if len(parts) == 2 else 3  # a row: the null bin, or a day bin (+ an hour + a weekday)
        got = self.acc.counts(label + ")", np.concatenate(parts), rest, sensitivity=sens)
        nb = len(hist)
        w = _floor(got[1: 1 + nb], rest, sens, self.k)
        out: dict[str, Any] = {"bounds_from": src, "lo": lo, "hi": hi}
        if src != "given":
            _e, _w, out["lo"], out["hi"] = self._trim(edges, w, unit, True)
        out["null_rate"] = self._rate(got[0], max(w.sum(), 1), rest)
        if len(parts) == 4:
            out["hours"] = np.clip(got[1 + nb: 25 + nb], 0, None)
            out["weekdays"] = np.clip(got[25 + nb:], 0, None)
        return out

    def categories(self, table: str, column: str, values: list[Any], counts: list[int], nulls: int,
                   unit: str | None = None) -> tuple[list[Any], list[int], float] | None:
        """Thresholded noisy counts of the values (None without δ), and the null rate."""
        unit = unit or column
        eps = self.eps(table, unit)
        delta = self.delta_for(f"{table}.{unit}")
        stat = f"{table}.{column}"
        if delta <= 0:
            return None
        rate, _n = self.null_rate(stat, nulls, int(sum(counts)), eps * NULLS_SHARE)
        by_text = {str(v): v for v in values}
        got = self.acc.threshold(f"{stat} categories", dict(zip(by_text, counts, strict=True)), eps * (1 - NULLS_SHARE),
                                 delta, self.k)
        kept = [(by_text[t], n) for t, n in got.items() if n >= self.k]
        if not kept:
            return [], [], rate
        kept.sort(key=lambda vn: (-vn[1], str(vn[0])))
        return [v for v, _n in kept], [n for _v, n in kept], rate

    def children(self, table: str, column: str, counts: np.ndarray) -> tuple[np.ndarray, int]:
        """Children per parent: a noisy histogram over the public ``COUNT_EDGES`` (L1 2: a child
        row moves one parent between bins; a parent row adds or removes one), then a pseudo-sample
        of as many parents as the noisy histogram holds (at most ``PSEUDO_SAMPLE``), and that
        noisy number of parents."""
        edges = COUNT_EDGES.astype(np.float64)
        c = np.clip(counts, 0, edges[-1] - 1)
        hist = np.histogram(c, edges)[0]
        eps = self.eps(table, f"per:{column}")
        got = _floor(self.acc.counts(f"{table}.{column} children per parent ({len(hist)} bins)", hist, eps,
                                     sensitivity=2), eps, 2, self.k)
        if got.sum() == 0:
            got[1] = 1  # nothing survived the noise: one child per parent
        m = int(min(PSEUDO_SAMPLE, max(got.sum(), 1)))
        # integer bins [e, e'): uniform on e − ½ .. e' − ½, rounded
        return pseudo_sample(edges - 0.5, got, m, integer=True).astype(np.int64), int(got.sum())

    def correlation(self, table: str, scores: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """The normal scores' correlation from noisy sufficient statistics: rows (missing → 0)
        clipped to ‖z‖ ≤ C = 2√p, the upper triangle of Σ zᵢzᵢᵀ released with Laplace noise
        (L1 sensitivity (p + 1)·C²/2), then normalised by the noisy diagonal."""
        z = np.where(np.isnan(scores), 0.0, scores)
        p = z.shape[1]
        cap = 2.0 * math.sqrt(p)
        norm = np.sqrt((z * z).sum(axis=1))
        z = z * np.minimum(1.0, cap / np.maximum(norm, 1e-12))[:, None]
        s = z.T @ z
        iu = np.triu_indices(p)
        sens = (p + 1) * cap * cap / 2
        got = self.acc.sums(f"{table} copula (upper triangle of Σ zzᵀ, {p} columns)", s[iu],
                            self.eps(table, "correlations"), sens)
        noisy = np.zeros((p, p))
        noisy[iu] = got
        noisy = noisy + np.triu(noisy, 1).T
        d = np.sqrt(np.maximum(np.diag(noisy), 1.0))
        r = noisy / np.outer(d, d)
        # post-processing: a correlation within two noise standard deviations of 0 is read as 0
        noise_sd = math.sqrt(2) * self.acc.records[-1]["scale"] / np.outer(d, d)
        r[np.abs(r) < 2 * noise_sd] = 0.0
        np.fill_diagonal(r, 1.0)
        return np.clip(r, -1.0, 1.0), {"clip_norm": _r(cap), "sensitivity": _r(sens)}


def parse_bounds(items: list[str] | dict[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    """``TABLE.COLUMN=LO..HI`` items (or a mapping of pairs) → {"table.column": (lo, hi)}: numbers,
    or ISO dates for date and timestamp columns (as days since 1970-01-01)."""
    pairs: list[tuple[str, Any, Any]] = []
    if isinstance(items, dict):
        pairs = [(str(k), *tuple(v)) for k, v in items.items()]
    else:
        for item in items or []:
            col, sep, rng = item.partition("=")
            lo, sep2, hi = rng.partition("..")
            if not sep or not sep2 or not col.strip() or not lo.strip() or not hi.strip():
                raise UsageError(f"--bounds {item}: expected TABLE.COLUMN=LO..HI (e.g. orders.amount=0..500)")
            pairs.append((col.strip(), lo.strip(), hi.strip()))
    out: dict[str, tuple[Any, Any]] = {}
    for col, lo, hi in pairs:
        a, b = _bound_value(col, lo), _bound_value(col, hi)
        if not a < b:
            raise UsageError(f"--bounds {col}={lo}..{hi}: the lower bound must be below the upper")
        out[col] = (a, b)
    return out


def _bound_value(col: str, v: Any) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        x = float(v)
    else:
        try:
            x = float(v)
        except (TypeError, ValueError):
            try:
                x = float(np.datetime64(str(v).rstrip("Z"), "s").astype(np.int64)) / 86_400
            except ValueError:
                raise UsageError(f"--bounds {col}: {v!r} is neither a number nor an ISO date") from None
    if not math.isfinite(x):
        raise UsageError(f"--bounds {col}: {v!r} is not finite")
    return x
