"""Marginals: the catalogue distribution that fits a numeric column best, or a histogram.

Each candidate is fitted by maximum likelihood with scipy on a fixed-seed sample (``FIT_SAMPLE``
values at most), its parameters mapped exactly onto the DSL's parameterisation, and scored by
the Kolmogorov–Smirnov statistic D (the largest gap between the data's and the model's CDF):

==============  ===========================================  ====================================
DSL generator   scipy fit                                    DSL params
==============  ===========================================  ====================================
``normal``      ``norm.fit(x)`` → (loc, scale)               mean = loc, std = scale
``lognormal``   ``lognorm.fit(x, floc=0)`` → (s, 0, scale)   mean = ln(scale), sigma = s
``exponential`` ``expon.fit(x, floc=min)`` → (min, scale)    scale (the column's min is the start)
``gamma``       ``gamma.fit(x, floc=0)`` → (a, 0, scale)     shape = a, scale
``beta``        ``beta.fit(x, floc=min, fscale=max-min)``    a, b (scaled into the column's range)
``uniform_*``   min, max of the data                         min, max
``poisson``     lam = mean − shift (the MLE)                 lam, shift
==============  ===========================================  ====================================

The model scored is the one the engine draws from: ``normal``, ``lognormal`` and ``exponential``
truncated to the column's min/max (written from the data), integer columns rounded (their CDF
taken at v + ½). The smallest D wins; within a tenth of the acceptance bound of it, the
simpler model (``SIMPLICITY`` order). It is kept when D ≤ max(``KS_FLOOR``, 1.36/√n) — the 5 %
critical value — else the column gets an empirical ``histogram``: equal-frequency bins, each
holding at least k rows (k-anonymity of the bins' contents), at most ``MAX_BINS``, plus finer
bins at the tails (``TAIL_QUANTILES`` that leave ≥ 2k rows outside) so a long tail keeps its mean.

Integer columns with at most ``MAX_CATEGORIES`` distinct values are categories instead (a
``choice``, decided by the caller).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["NumericFit", "fit_numeric", "fit_counts", "rng_for", "nice"]

FIT_SAMPLE = 20_000
KS_FLOOR = 0.02
MAX_BINS = 20
MAX_CATEGORIES = 20
TAIL_QUANTILES = (0.001, 0.005, 0.01, 0.025, 0.975, 0.99, 0.995, 0.999)
SIMPLICITY = ("uniform", "normal", "exponential", "poisson", "lognormal", "gamma", "beta")


def rng_for(*names: str) -> np.random.Generator:
    """A generator seeded from stable names (blake2b), never from ``hash()``."""
    digest = hashlib.blake2b("/".join(names).encode("utf-8"), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def nice(x: float, digits: int = 6) -> float | int:
    """A float rounded to ``digits`` significant digits (an int when whole) for the YAML."""
    if not math.isfinite(x):
        return x
    if x == 0:
        return 0
    r = float(f"{x:.{digits}g}")
    return int(r) if r.is_integer() and abs(r) < 2**53 else r


@dataclass
class NumericFit:
    generator: dict[str, Any]
    name: str  # the chosen model: a distribution name or "histogram"
    ks: float
    bound: float  # the acceptance bound D had to meet
    candidates: list[dict[str, Any]] = field(default_factory=list)  # every model tried, best first

    def summary(self) -> str:
        params = ", ".join(f"{k} {v}" for k, v in self.generator["params"].items()
                           if not isinstance(v, list))
        head = f"{self.name}({params})" if params else self.name
        others = ", ".join(f"{c['distribution']} {c['ks']:.3f}" for c in self.candidates[1:4])
        return f"{head}, KS {self.ks:.3f}" + (f" (runners-up: {others})" if others else "")


def _sample(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(x) <= FIT_SAMPLE:
        return x
    return x[np.sort(rng.choice(len(x), FIT_SAMPLE, replace=False))]


def _ks(x_sorted: np.ndarray, cdf, integer: bool) -> float:
    """KS statistic of the sorted sample against ``cdf``; integers: steps at distinct values."""
    n = len(x_sorted)
    if integer:
        vals, counts = np.unique(x_sorted, return_counts=True)
        ecdf = np.cumsum(counts) / n
        left = np.concatenate([[0.0], ecdf[:-1]])
        upper = cdf(vals + 0.5)
        lower = cdf(vals - 0.5)
        return float(max(np.max(np.abs(ecdf - upper)), np.max(np.abs(left - lower))))
    f = cdf(x_sorted)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


def _truncated(dist, lo: float, hi: float):
    a, b = dist.cdf(lo), dist.cdf(hi)
    span = b - a
    if not span > 0:
        return dist.cdf
    return lambda v: np.clip((dist.cdf(v) - a) / span, 0.0, 1.0)


def _candidates(x: np.ndarray, integer: bool, lo: float, hi: float) -> list[tuple[str, dict, Any]]:
    """(name, DSL params, the model's CDF) of every applicable catalogue distribution."""
    from scipy import stats

    out: list[tuple[str, dict, Any]] = []
    mean = float(np.mean(x))
    loc, scale = stats.norm.fit(x)
    if scale > 0:
        out.append(("normal", {"mean": nice(loc), "std": nice(scale)}, _truncated(stats.norm(loc, scale), lo, hi)))
    if integer:
        out.append(("uniform", {"min": int(lo), "max": int(hi)},
                    lambda v: np.clip((np.floor(v) - lo + 1) / (hi - lo + 1), 0, 1)))
    else:
        out.append(("uniform", {"min": nice(lo), "max": nice(hi)}, stats.uniform(lo, hi - lo).cdf))
    if lo > 0:
        s, _l, sc = stats.lognorm.fit(x, floc=0)
        if s > 0:
            out.append(("lognormal", {"mean": nice(math.log(sc)), "sigma": nice(s)},
                        _truncated(stats.lognorm(s, 0, sc), lo, hi)))
        try:
            a, _l, sc = stats.gamma.fit(x, floc=0)
            out.append(("gamma", {"shape": nice(a), "scale": nice(sc)}, stats.gamma(a, 0, sc).cdf))
        except (ValueError, RuntimeError, FloatingPointError):
            pass
    if lo >= 0 and mean > lo:
        _l, sc = stats.expon.fit(x, floc=lo)
        out.append(("exponential", {"scale": nice(sc)}, _truncated(stats.expon(lo, sc), lo, hi)))
    if hi > lo and not integer:
        inner = np.clip(x, lo + (hi - lo) * 1e-9, hi - (hi - lo) * 1e-9)
        try:
            a, b, _l, _s = stats.beta.fit(inner, floc=lo, fscale=hi - lo)
            out.append(("beta", {"a": nice(a), "b": nice(b)}, stats.beta(a, b, lo, hi - lo).cdf))
        except (ValueError, RuntimeError, FloatingPointError):
            pass
    if integer and lo >= 0:
        for shift in sorted({0, int(lo)}):
            lam = mean - shift
            if lam > 0:
                out.append(("poisson", {"lam": nice(lam), "shift": shift},
                            lambda v, lam=lam, shift=shift: stats.poisson(lam, loc=shift).cdf(np.floor(v))))
    return out


def _atoms(x: np.ndarray, k: int) -> np.ndarray:
    """Values of an integer column holding at least a ``MAX_BINS``-th of its rows (and k rows):
    point masses an equal-frequency bin would smear over its whole width."""
    vals, counts = np.unique(x, return_counts=True)
    return vals[(counts >= max(k, len(x) / MAX_BINS)) & (counts < len(x))].astype(np.float64)


def histogram(x: np.ndarray, k: int, integer: bool) -> tuple[dict[str, Any], Any]:
    """Equal-frequency bins (each ≥ k rows, ≤ MAX_BINS) and the piecewise-linear CDF they define."""
    n = len(x)
    lo, hi = float(np.min(x)), float(np.max(x))
    n_bins = max(1, min(MAX_BINS, n // max(k, 1)))
    probs = np.linspace(0, 1, n_bins + 1)
    # finer bins in the tails (where a wide uniform bin would move the mean), each still ≥ k rows
    tails = [p for p in TAIL_QUANTILES if min(p, 1 - p) * n >= 2 * k]
    edges = np.quantile(x, np.unique(np.concatenate([probs, tails])))
    atoms = _atoms(x, k) if integer else np.empty(0)
    if integer and atoms.size:
        # a value holding a large share of the rows (the zero of a count, a mode) gets a bin of its
        # own: edges at half-integers, so uniform in [a − ½, b − ½) rounds to a … b − 1 exactly
        inner = np.round(edges)
        inner = inner[~np.isin(inner, np.concatenate([atoms, atoms + 1]))]
        edges = np.unique(np.concatenate([inner, atoms, atoms + 1, [hi + 1]])) - 0.5
        edges = edges[(edges >= lo - 0.5) & (edges <= hi + 0.5)]
    elif integer:
        edges = np.round(edges)
        edges[-1] = hi + 1  # uniform in [e, e') then rounded: the last value keeps its weight
    edges = np.unique(edges)
    if len(edges) < 2:
        edges = np.array([lo, lo + 1.0])
    counts, _ = np.histogram(x, edges)
    # merge bins holding fewer than k rows into their left neighbour (few bins: a short loop) —
    # never into an atom's bin (its rows go to the right-hand neighbour instead)
    atom_lo = set((atoms - 0.5).tolist())
    e: list[float] = [float(edges[0])]
    c: list[int] = []
    is_atom: list[bool] = []
    carry = 0
    for i, cnt in enumerate(counts):
        atom = float(edges[i]) in atom_lo and float(edges[i + 1]) - float(edges[i]) == 1.0
        cnt = int(cnt) + carry
        carry = 0
        if atom:
            c.append(cnt)
            e.append(float(edges[i + 1]))
            is_atom.append(True)
        elif c and not is_atom[-1] and (c[-1] < k or cnt < k):
            c[-1] += cnt
            e[-1] = float(edges[i + 1])
        elif c and is_atom[-1] and cnt < k and i + 1 < len(counts):
            carry = cnt  # the next bin starts where the atom ends and takes these rows
        else:
            c.append(cnt)
            e.append(float(edges[i + 1]))
            is_atom.append(False)
    params = {"bins": [nice(v) for v in e], "weights": c}
    be, bw = np.array(params["bins"], float), np.array(c, float)
    cum = np.concatenate([[0.0], np.cumsum(bw) / bw.sum()])
    return params, lambda v: np.interp(v, be, cum)


def fit_numeric(x: np.ndarray, *, integer: bool, k: int, rng: np.random.Generator) -> NumericFit:
    """The best catalogue distribution for the values ``x`` (no nulls), or a histogram."""
    x = np.asarray(x, dtype=np.float64)
    s = np.sort(_sample(x, rng))
    lo, hi = float(np.min(x)), float(np.max(x))
    bound = max(KS_FLOOR, 1.36 / math.sqrt(len(s)))
    scored: list[dict[str, Any]] = []
    for name, params, cdf in _candidates(s, integer, lo, hi):
        with np.errstate(all="ignore"):
            d = _ks(s, cdf, integer)
        if math.isfinite(d):
            scored.append({"distribution": name, "params": params, "ks": round(d, 4)})
    scored.sort(key=lambda c: (c["ks"], SIMPLICITY.index(c["distribution"])))
    if scored and scored[0]["ks"] <= bound:
        near = [c for c in scored if c["ks"] <= scored[0]["ks"] + bound / 10]
        best = min(near, key=lambda c: SIMPLICITY.index(c["distribution"]))
        scored.remove(best)
        scored.insert(0, best)
        name = best["distribution"]
        gen_type = ("uniform_int" if integer else "uniform_float") if name == "uniform" else name
        return NumericFit({"type": gen_type, "params": dict(best["params"])}, name, best["ks"], round(bound, 4),
                          scored)
    params, cdf = histogram(x, k, integer)
    d = round(_ks(s, cdf, integer), 4)
    return NumericFit({"type": "histogram", "params": params}, "histogram", d, round(bound, 4),
                      [{"distribution": "histogram", "params": {"bins": len(params["weights"])}, "ks": d}, *scored])


def fit_counts(counts: np.ndarray, k: int) -> tuple[dict[str, Any], str, float, list[dict[str, Any]]]:
    """The distribution of children per parent (integers ≥ 0): ``poisson`` when it passes the KS
    bound, else the exact distribution of counts as a ``histogram`` (bins of one count each when
    there are few distinct counts, else equal-frequency bins)."""
    from scipy import stats

    c = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(c)
    bound = max(KS_FLOOR, 1.36 / math.sqrt(max(n, 1)))
    lam = float(np.mean(c))
    tried = []
    if lam > 0:
        d = _ks(c, lambda v: stats.poisson(lam).cdf(np.floor(v)), True)
        tried.append({"distribution": "poisson", "params": {"lam": nice(lam)}, "ks": round(d, 4)})
        if d <= bound:
            return {"type": "poisson", "params": {"lam": nice(lam)}}, "poisson", round(d, 4), tried
    vals, cnt = np.unique(c, return_counts=True)
    if len(vals) <= 2 * MAX_BINS:
        edges = np.arange(vals[0] - 0.5, vals[-1] + 1.0, 1.0)
        weights, _ = np.histogram(c, edges)
        params = {"bins": [nice(v) for v in edges], "weights": [int(w) for w in weights]}
        return {"type": "histogram", "params": params}, "histogram", 0.0, tried
    params, cdf = histogram(c, 1, True)
    d = round(_ks(c, cdf, True), 4)
    return {"type": "histogram", "params": params}, "histogram", d, tried
