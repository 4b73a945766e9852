"""Numeric distributions: every value an inverse CDF (or a fixed budget) of per-cell uniforms.

Each generator here is a pure function of the cell: its uniforms come from ``ctx`` streams keyed
by (seed, table, column, purpose) and the row index, so rows ``[a, b)`` are computed without
computing any other row. No rejection loop is open-ended: ``gamma``/``beta`` use Marsaglia–Tsang
with a *fixed* budget of candidate attempts (sub-purposes ``value/mt0`` … ``value/mt7``) and a
closed-form fallback.

Column bounds. When the column has ``min``/``max`` (engine units) the generators respect them
*by construction* where that is cheap and exact:

* ``uniform_int``, ``uniform_float``: sample inside the intersection of the params' range and the
  column's range;
* ``normal``, ``lognormal``, ``exponential``: truncated distributions — the uniform is mapped into
  ``[F(min), F(max)]`` before the inverse CDF (normal quantiles by Acklam's rational
  approximation, relative error < 1.2e-9);
* ``zipf``: ranks stop at the column's ``max``; ``histogram``: bins are cut at the bounds and their
  weights scaled by the part that remains; ``beta``: scaled into ``[min, max]``;
* ``gamma``, ``poisson``, ``bernoulli``: clipped by the engine (which clips every numeric value to
  the column's bounds and type range as a final guarantee).

Nested use (fk ``skew``, per-parent ``rows``, inline draws of ``expr``) runs with the owning
column's context but different params; bounds then apply only when the context is the column's
own generator (see ``own_bounds``). The skew-capable distributions also offer
``ranks(u, n, params)``: 0-based ranks over ``n`` items distributed by that distribution.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypeGuard

import numpy as np

from shared.distributions.base import (
    INTEGER,
    NONNEG,
    NUMBER,
    NUMERIC,
    POSITIVE,
    Generator,
    obj,
    register,
)
from shared.errors import GenerationError
from shared.io import pmath, rng

Problems = list[tuple[str, str, str | None]]

_SQRT2 = math.sqrt(2.0)
_P_MIN = 5e-324  # 2**-1074
_P_MAX = 1.0 - 1.1102230246251565e-16  # 1 - 2**-53
_HALF_ULP1 = 5.551115123125783e-17  # 2**-54
_LOG_MAX = 709.0  # exp() stays finite below this

# --- helpers shared by the numeric (and temporal/categorical) plugins ---------------------------


def own_bounds(ctx, name: str) -> tuple[Any, Any]:
    """The column's ``(min, max)`` when ``ctx`` runs the column's own generator, else ``(None, None)``.

    A nested distribution (fk ``skew``, per-parent ``rows``, an inline ``expr`` draw) carries the
    owning column in ``ctx.column`` but its own params and a purpose prefix; the column's bounds
    do not apply to it. Nested is recognised by a non-empty ``purpose_prefix`` or by params or a
    generator type that differ from the column's own spec.
    """
    if getattr(ctx, "purpose_prefix", ""):  # derived contexts (fk/skew/, count/, expr draws)
        return None, None
    col = ctx.column
    spec = getattr(col, "generator", None)
    if spec is None or spec.type != name:
        return None, None
    if ctx.params is not spec.params and dict(ctx.params) != dict(spec.params):
        return None, None
    return col.min, col.max


def column_bounds(column) -> tuple[Any, Any]:
    """``(min, max)`` of a model column (engine units), either may be None."""
    if column is None:
        return None, None
    return getattr(column, "min", None), getattr(column, "max", None)


def _kind(column) -> str | None:
    dtype = getattr(column, "dtype", None)
    return getattr(dtype, "kind", None)


def _num(v) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v) -> bool:
    return _num(v) and math.isfinite(v)


def _intersect(lo_p, hi_p, lo_c, hi_c):
    lo = lo_p if lo_c is None else (lo_c if lo_p is None else max(lo_p, lo_c))
    hi = hi_p if hi_c is None else (hi_c if hi_p is None else min(hi_p, hi_c))
    return lo, hi


def _range_problems(params: Mapping, column, *, what: str = "values") -> Problems:
    """min ≤ max for params, and a non-empty overlap with the column's bounds."""
    out: Problems = []
    lo, hi = params.get("min"), params.get("max")
    if _num(lo) and _num(hi) and lo > hi:
        out.append((f"min ({lo}) is greater than max ({hi})", "params.max", "swap them"))
        return out
    cmin, cmax = column_bounds(column)
    if _num(lo) and cmax is not None and lo > cmax:
        out.append((f"params min ({lo}) is above the column's max ({cmax}): no {what} fit",
                    "params.min", "make the generator's range overlap the column's min/max"))
    if _num(hi) and cmin is not None and hi < cmin:
        out.append((f"params max ({hi}) is below the column's min ({cmin}): no {what} fit",
                    "params.max", "make the generator's range overlap the column's min/max"))
    return out


# --- normal quantiles ----------------------------------------------------------------------------

_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425


def norm_ppf(p: np.ndarray) -> np.ndarray:
    """Standard normal quantiles (Acklam's rational approximation, relative error < 1.2e-9).

    ``p`` is clipped into the open interval (0, 1), so the result is always finite.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), _P_MIN, _P_MAX)
    out = np.empty_like(p)
    lo = p < _P_LOW
    hi = p > 1.0 - _P_LOW
    mid = ~(lo | hi)
    if mid.any():
        q = p[mid] - 0.5
        r = q * q
        num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
        den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0
        out[mid] = num / den
    for mask, sign, tail in ((lo, 1.0, p[lo]), (hi, -1.0, 1.0 - p[hi])):
        if mask.any():
            q = np.sqrt(-2.0 * pmath.log(tail))
            num = ((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]
            den = (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
            out[mask] = sign * num / den
    return out


def _norm_cdf(z: float) -> float:
    return 0.5 * pmath.erfc(-z / _SQRT2)


def truncated_std_normal(u: np.ndarray, za: float = -math.inf, zb: float = math.inf) -> np.ndarray:
    """Map uniforms in [0, 1) to standard normals truncated to ``[za, zb]`` (monotone in ``u``).

    A window lying in the right tail is mirrored into the left tail, where the CDF keeps its
    precision. A window with no representable mass (beyond ~37σ) falls back to uniform in it.
    """
    if za > 0:
        return -truncated_std_normal(1.0 - u, -zb, -za)
    pa, pb = _norm_cdf(za), _norm_cdf(zb)
    if not pb > pa:
        a = max(za, -40.0)
        b = min(zb, 40.0)
        return a + u * (b - a)
    z = norm_ppf(pa + (u + _HALF_ULP1) * (pb - pa))
    return np.clip(z, za, zb)


def truncated_normal(u: np.ndarray, mean: float, std: float, lo=None, hi=None) -> np.ndarray:
    za = -math.inf if lo is None else (lo - mean) / std
    zb = math.inf if hi is None else (hi - mean) / std
    return mean + std * truncated_std_normal(u, za, zb)


def _ranks_from_values(x: np.ndarray, n: int) -> np.ndarray:
    x = np.nan_to_num(np.floor(x), nan=0.0, posinf=n - 1, neginf=0.0)
    return np.clip(x, 0, max(n - 1, 0)).astype(np.int64)


def int_quantile(u: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Integers in [lo, hi] for uniforms ``u`` in [0, 1): ``lo + floor(u · span)`` — the same
    numbers ``rng.integers`` gives for spans up to 2**53 (wider spans: through a double, so only
    about 2**53 distinct values are reached)."""
    span = int(hi) - int(lo) + 1
    u = np.asarray(u, dtype=np.float64)
    if span <= (1 << 53):
        return np.floor(u * span).astype(np.int64) + np.int64(lo)
    off = np.minimum(u * float(span), float(span - 1)).astype(np.uint64)
    with np.errstate(over="ignore"):
        return (off + np.uint64(int(lo) & ((1 << 64) - 1))).view(np.int64)


def _interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation of the table (xp increasing, fp) at x, with basic IEEE
    operations only (portable, unlike a compiled ``np.interp`` that a compiler may contract)."""
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.shape[0] - 2)
    x0, x1 = xp[i], xp[i + 1]
    w = x1 - x0
    frac = np.clip((x - x0) / np.where(w > 0, w, 1.0), 0.0, 1.0)
    return fp[i] + frac * (fp[i + 1] - fp[i])


#: points of the tabulated CDFs behind the gamma and beta inverse CDFs
QUANTILE_GRID = 8193


def _softplus(t: np.ndarray) -> np.ndarray:
    """log(1 + e^t), without overflow."""
    return np.maximum(t, 0.0) + pmath.log1p(pmath.exp(-np.abs(t)))


def _tabulated_cdf(t: np.ndarray, logf: np.ndarray) -> np.ndarray:
    """The normalised cumulative (trapezoid rule) of the density exp(logf) on the grid ``t``."""
    f = pmath.exp(logf - np.max(logf))
    cdf = np.empty_like(f)
    cdf[0] = 0.0
    cdf[1:] = np.cumsum((f[1:] + f[:-1]) * (t[1:] - t[:-1]) * 0.5)
    return cdf / cdf[-1]


@lru_cache(maxsize=64)
def _gamma_log_table(shape: float) -> tuple[np.ndarray, np.ndarray]:
    """(CDF, log x) of Gamma(shape, 1) tabulated over t = log x, where the density
    ∝ exp(shape·t − e^t) is smooth for every shape (no pole at 0, no library gamma function:
    portable operations only); the window holds all but ~e^-40 of the mass."""
    a = shape
    mode = pmath.log(a)
    left = min(45.0 / a + 15.0 / math.sqrt(a), 740.0 + mode)
    right = pmath.log1p((15.0 * math.sqrt(a) + 60.0) / a)
    t = mode + np.linspace(-left, right, QUANTILE_GRID)
    return _tabulated_cdf(t, a * t - pmath.exp(t)), t


@lru_cache(maxsize=64)
def _beta_logit_table(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """(CDF, logit x) of Beta(a, b) tabulated over t = logit x, where the density
    ∝ exp(−a·softplus(−t) − b·softplus(t)) has exponential tails (portable operations only)."""
    mode = pmath.log(a / b)
    sd = math.sqrt(1.0 / a + 1.0 / b)
    lo = max(mode - 45.0 / a - 15.0 * sd, -740.0)
    hi = min(mode + 45.0 / b + 15.0 * sd, 740.0)
    t = np.linspace(lo, hi, QUANTILE_GRID)
    return _tabulated_cdf(t, -a * _softplus(-t) - b * _softplus(t)), t


def gamma_quantile(u: np.ndarray, shape: float) -> np.ndarray:
    """Gamma(shape, 1) quantiles of ``u``: the tabulated CDF over log x, inverted by linear
    interpolation (monotone; a few 1e-5 of KS distance at most)."""
    cdf, t = _gamma_log_table(float(shape))
    return pmath.exp(_interp(np.asarray(u, dtype=np.float64), cdf, t))


def beta_quantile(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Beta(a, b) quantiles of ``u`` in [0, 1] (tabulated over the logit, see ``gamma_quantile``)."""
    cdf, t = _beta_logit_table(float(a), float(b))
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + pmath.exp(-_interp(np.asarray(u, dtype=np.float64), cdf, t)))


# --- base ----------------------------------------------------------------------------------------


class _Numeric(Generator):
    kinds = NUMERIC
    numeric_distribution = True
    has_quantile = True

    def check(self, column, table, schema) -> Problems:
        return self.check_params(column.generator.params, column)

    def check_params(self, params: Mapping[str, Any], column=None) -> Problems:
        """Semantic problems of ``params`` (usable for nested specs, where ``column`` is None)."""
        return []


def _positive(params, name, out: Problems, default=None):
    v = params.get(name, default)
    if v is None:
        return
    if not _finite(v) or v <= 0:
        out.append((f"{name} must be a finite number > 0, got {v!r}", f"params.{name}", None))


def _finite_param(params, name, out: Problems):
    v = params.get(name)
    if v is not None and not _finite(v):
        out.append((f"{name} must be a finite number, got {v!r}", f"params.{name}", None))


# --- uniform -------------------------------------------------------------------------------------


@register("uniform_int")
class UniformInt(_Numeric):
    """Integers uniform in [min, max], both inclusive.

    Params: ``min``, ``max`` (integers, both inclusive). A missing bound falls back to the
    column's ``min``/``max`` and, for integer columns, to the type's range. When both are given
    the values stay inside the intersection of the two ranges (by construction).
    ``unique: true`` is made by construction: a keyed permutation of the row index into the
    ``max - min + 1`` values (capacity), so the table cannot have more rows than that.
    """

    range_params = True

    unique_strategy = "index"
    params_schema = obj(min=INTEGER, max=INTEGER)

    @staticmethod
    def _range(params, cmin, cmax, column) -> tuple[int | None, int | None]:
        lo_c = None if cmin is None else math.ceil(cmin)
        hi_c = None if cmax is None else math.floor(cmax)
        lo, hi = _intersect(params.get("min"), params.get("max"), lo_c, hi_c)
        if _kind(column) == "int":
            tlo, thi = column.dtype.int_bounds()
            lo = tlo if lo is None else max(int(lo), tlo)
            hi = thi if hi is None else min(int(hi), thi)
        return (None if lo is None else int(lo)), (None if hi is None else int(hi))

    def check_params(self, params, column=None) -> Problems:
        out = _range_problems(params, column)
        if out:
            return out
        lo, hi = self._range(params, *column_bounds(column), column)
        if lo is None or hi is None:
            out.append(("uniform_int needs min and max (in params or on the column)",
                        "params", "add params min and max"))
        elif lo > hi:
            out.append((f"no integer lies in [{lo}, {hi}]", "params", None))
        return out

    def capacity(self, column, params, plan) -> int | None:
        lo, hi = self._range(params, *column_bounds(column), column)
        if lo is None or hi is None:
            return None
        return max(0, hi - lo + 1)

    def _ctx_range(self, ctx) -> tuple[int, int]:
        lo, hi = self._range(ctx.params, *own_bounds(ctx, self.name), ctx.column)
        if lo is None or hi is None or lo > hi:
            raise GenerationError(f"uniform_int: empty or unbounded range [{lo}, {hi}]")
        return lo, hi

    def generate(self, ctx):
        lo, hi = self._ctx_range(ctx)
        if hi - lo + 1 >= 1 << 64:  # the whole int64 range
            return ctx.bits().view(np.int64)
        return ctx.integers(lo, hi)

    def quantile(self, u, ctx):
        return int_quantile(u, *self._ctx_range(ctx))

    def from_index(self, idx, ctx):
        lo, _ = self._ctx_range(ctx)
        with np.errstate(over="ignore"):
            return np.asarray(idx).astype(np.int64) + np.int64(lo)


@register("uniform_float")
class UniformFloat(_Numeric):
    """Floating-point numbers uniform in [min, max).

    Params: ``min`` (default: the column's min, else 0), ``max`` (default: the column's max,
    else 1). Values stay inside the intersection of [min, max] and the column's bounds, by
    construction. Not unique by construction (``unique: true`` is refused by the planner).
    As a skew over ``n`` parent rows (``ranks``) the range defaults to [0, n).
    """

    range_params = True

    params_schema = obj(min=NUMBER, max=NUMBER)

    @staticmethod
    def _range(params, cmin, cmax):
        lo, hi = _intersect(params.get("min"), params.get("max"), cmin, cmax)
        return (0.0 if lo is None else float(lo)), (1.0 if hi is None else float(hi))

    def check_params(self, params, column=None) -> Problems:
        out = _range_problems(params, column)
        for k in ("min", "max"):
            _finite_param(params, k, out)
        if not out:
            lo, hi = self._range(params, *column_bounds(column))
            if lo > hi:
                out.append((f"empty range [{lo}, {hi}]", "params",
                            "give min and max (the defaults are the column's bounds, else 0 and 1)"))
        return out

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        lo, hi = self._range(ctx.params, *own_bounds(ctx, self.name))
        return lo + u * (hi - lo)

    def ranks(self, u: np.ndarray, n: int, params) -> np.ndarray:
        lo, hi = _intersect(params.get("min"), params.get("max"), 0, n)
        return _ranks_from_values(lo + np.asarray(u) * (hi - lo), n)


# --- normal family -------------------------------------------------------------------------------


@register("normal")
class Normal(_Numeric):
    """Normally distributed numbers, truncated to the column's min/max.

    Params: ``mean`` (default 0), ``std`` (> 0, default 1). One uniform per cell through the
    normal quantile function; with column ``min``/``max`` the distribution is *truncated* (the
    uniform is mapped into [Φ(min), Φ(max)] first), so no value piles up at a bound. Not unique.
    As a skew (``ranks``): the normal truncated to [0, n), floored.
    """

    params_schema = obj(mean=NUMBER, std=POSITIVE)

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        _finite_param(params, "mean", out)
        _positive(params, "std", out)
        return out

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        mean, std = float(ctx.params.get("mean", 0.0)), float(ctx.params.get("std", 1.0))
        lo, hi = own_bounds(ctx, self.name)
        return truncated_normal(u, mean, std, lo, hi)

    def ranks(self, u, n, params):
        mean, std = float(params.get("mean", 0.0)), float(params.get("std", 1.0))
        return _ranks_from_values(truncated_normal(np.asarray(u), mean, std, 0.0, float(n)), n)


@register("lognormal")
class LogNormal(_Numeric):
    """Log-normally distributed positive numbers: exp of a normal(mean, sigma).

    Params: ``mean`` (default 0) and ``sigma`` (> 0, default 1) of the *underlying* normal; the
    median is exp(mean). With column ``min``/``max`` the distribution is truncated by
    construction (in log space). Values are capped at e^709 so they stay finite. Not unique.
    """

    params_schema = obj(mean=NUMBER, sigma=POSITIVE)

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        _finite_param(params, "mean", out)
        _positive(params, "sigma", out)
        _, cmax = column_bounds(column)
        if cmax is not None and cmax <= 0:
            out.append((f"lognormal values are > 0 but the column's max is {cmax}", "params",
                        "raise the column's max or use another distribution"))
        return out

    @staticmethod
    def _log(u, mean, sigma, lo, hi):
        llo = None if lo is None or lo <= 0 else pmath.log(float(lo))
        lhi = None if hi is None or hi <= 0 else pmath.log(float(hi))
        if lhi is not None and llo is not None and lhi < llo:
            lhi = llo
        return pmath.exp(np.minimum(truncated_normal(u, mean, sigma, llo, lhi), _LOG_MAX))

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        mean, sigma = float(ctx.params.get("mean", 0.0)), float(ctx.params.get("sigma", 1.0))
        lo, hi = own_bounds(ctx, self.name)
        return self._log(u, mean, sigma, lo, hi)

    def ranks(self, u, n, params):
        mean, sigma = float(params.get("mean", 0.0)), float(params.get("sigma", 1.0))
        return _ranks_from_values(self._log(np.asarray(u), mean, sigma, None, float(n)), n)


@register("exponential")
class Exponential(_Numeric):
    """Exponentially distributed non-negative numbers with mean ``scale``.

    Params: ``scale`` (> 0, default 1) — the mean, 1/rate. Inverse CDF of one uniform; with column
    ``min``/``max`` the distribution is truncated to [max(min, 0), max] by construction (closed
    form: min + the exponential truncated at max - min). Not unique.
    As a skew (``ranks``): the exponential truncated to [0, n), floored — rank 0 most likely.
    """

    params_schema = obj(scale=POSITIVE)

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        _positive(params, "scale", out)
        _, cmax = column_bounds(column)
        if cmax is not None and cmax < 0:
            out.append((f"exponential values are ≥ 0 but the column's max is {cmax}", "params", None))
        return out

    @staticmethod
    def _values(u, scale, lo, hi):
        lo = 0.0 if lo is None else max(float(lo), 0.0)
        width = math.inf if hi is None else max(float(hi) - lo, 0.0)
        with np.errstate(over="ignore"):  # scale near float's max: +inf, clipped by the engine
            return lo - scale * pmath.log1p(u * pmath.expm1(-width / scale))

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        lo, hi = own_bounds(ctx, self.name)
        return self._values(u, float(ctx.params.get("scale", 1.0)), lo, hi)

    def ranks(self, u, n, params):
        return _ranks_from_values(self._values(np.asarray(u), float(params.get("scale", 1.0)), 0.0, float(n)), n)


# --- gamma and beta ------------------------------------------------------------------------------

#: Marsaglia–Tsang candidate attempts per cell (acceptance ≥ 95 % each, so all fail < 1e-10)
GAMMA_BUDGET = 8
#: integer shapes up to this are drawn exactly as a sum of exponentials (Erlang)
ERLANG_MAX_SHAPE = 8


def _erlang_shape(shape: float) -> int | None:
    k = int(shape)
    return k if k == shape and 1 <= k <= ERLANG_MAX_SHAPE else None


def erlang(ctx, k: int, purpose: str = "value") -> np.ndarray:
    """Standard Gamma(k, 1) for a whole ``k``: ``−log(U₁⋯U_k)``, the sum of ``k`` exponentials —
    exact, ``k`` uniforms per cell (sub-purposes ``{purpose}/e0`` …), one logarithm, and about
    5× cheaper than a Marsaglia–Tsang attempt. The product of at most 8 uniforms in (0, 1]
    cannot underflow."""
    prod = rng.uniform_open(ctx.key(f"{purpose}/e0"), ctx.rows)
    for i in range(1, k):
        prod *= rng.uniform_open(ctx.key(f"{purpose}/e{i}"), ctx.rows)
    out = pmath.log(prod)
    np.negative(out, out=out)
    return out


def std_gamma_log(ctx, shape: float, purpose: str = "value") -> np.ndarray:
    """log of standard Gamma(shape, 1) variates for ``ctx.rows``, addressable per cell.

    Whole shapes up to ``ERLANG_MAX_SHAPE``: the log of ``erlang``. Otherwise Marsaglia–Tsang
    with a fixed budget: attempt ``i`` draws a normal and a uniform from
    sub-purposes ``{purpose}/mt{i}`` and ``{purpose}/mt{i}/u``; a cell takes its first accepted
    candidate. Only still-pending lanes are computed (the value of a cell does not depend on
    its block). If all attempts are rejected (probability < 1e-10) the Wilson–Hilferty
    approximation of a fresh normal (``{purpose}/mtfb``) is used. For shape < 1 the boost
    G(a) = G(a + 1) · U^(1/a) uses ``{purpose}/boost``. Working in logs keeps tiny shapes finite.
    """
    k = _erlang_shape(shape)
    if k is not None:
        return pmath.log(erlang(ctx, k, purpose))  # a value of exactly 0 (probability 2^-53k): -inf
    rows = np.asarray(ctx.rows)
    n = rows.shape[0]
    a = shape if shape >= 1.0 else shape + 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    log_d = pmath.log(d)
    out = np.empty(n, dtype=np.float64)
    pending = np.arange(n)
    for i in range(GAMMA_BUDGET):
        if pending.size == 0:
            break
        r = rows[pending]
        z = rng.normal(ctx.key(f"{purpose}/mt{i}"), r)
        u = rng.uniform_open(ctx.key(f"{purpose}/mt{i}/u"), r)
        t = 1.0 + c * z
        ok = t > 0
        t = np.where(ok, t, 1.0)
        log_v = 3.0 * pmath.log(t)
        v = t * t * t
        acc = ok & (pmath.log(u) < 0.5 * z * z + d - d * v + d * log_v)
        out[pending[acc]] = log_d + log_v[acc]
        pending = pending[~acc]
    if pending.size:
        z = rng.normal(ctx.key(f"{purpose}/mtfb"), rows[pending])
        wh = 1.0 - 1.0 / (9.0 * a) + z / (3.0 * math.sqrt(a))
        out[pending] = pmath.log(a) + 3.0 * pmath.log(np.maximum(wh, 1e-6))
    if shape < 1.0:
        ub = rng.uniform_open(ctx.key(f"{purpose}/boost"), rows)
        out += pmath.log(ub) / shape
    return out


def _gamma_quantile(u: np.ndarray, shape: float) -> np.ndarray:
    """Approximate Gamma(shape, 1) quantiles (Wilson–Hilferty; used for ``ranks`` only)."""
    z = norm_ppf(np.asarray(u) + _HALF_ULP1)
    wh = 1.0 - 1.0 / (9.0 * shape) + z / (3.0 * math.sqrt(shape))
    wh = np.maximum(wh, 0.0)
    return shape * (wh * wh * wh)


@register("gamma")
class Gamma(_Numeric):
    """Gamma-distributed non-negative numbers with mean shape·scale.

    Params: ``shape`` (> 0), ``scale`` (> 0, default 1). A whole shape up to 8 is drawn exactly as
    the sum of ``shape`` exponentials (``−log`` of a product of uniforms ``value/e0`` …). Other
    shapes: Marsaglia–Tsang with a fixed budget of
    8 candidate attempts per cell (sub-purposes ``value/mt0`` … ``value/mt7``), a Wilson–Hilferty
    fallback when all are rejected (probability < 1e-10) and the U^(1/shape) boost for shape < 1
    — a fixed number of uniforms per cell, so every cell stays addressable. Column ``min``/``max``
    are applied by clipping (the engine's final clip); no truncation by construction. Not unique.
    As a skew (``ranks``): Wilson–Hilferty quantiles, floored and clipped into [0, n).
    """

    params_schema = obj(("shape",), shape=POSITIVE, scale=POSITIVE)

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        _positive(params, "shape", out)
        _positive(params, "scale", out)
        return out

    def generate(self, ctx):
        shape, scale = float(ctx.params["shape"]), float(ctx.params.get("scale", 1.0))
        k = _erlang_shape(shape)
        if k is not None:
            g = erlang(ctx, k)
            g *= scale
            return g
        return scale * pmath.exp(np.minimum(std_gamma_log(ctx, shape), _LOG_MAX - pmath.log(max(scale, 1.0))))

    def quantile(self, u, ctx):
        shape, scale = float(ctx.params["shape"]), float(ctx.params.get("scale", 1.0))
        with np.errstate(over="ignore"):
            return scale * gamma_quantile(u, shape)

    def ranks(self, u, n, params):
        shape, scale = float(params["shape"]), float(params.get("scale", 1.0))
        return _ranks_from_values(scale * _gamma_quantile(u, shape), n)


@register("beta")
class Beta(_Numeric):
    """Beta(a, b)-distributed numbers in [0, 1], scaled into the column's [min, max] when both are set.

    Params: ``a`` (> 0), ``b`` (> 0); the mean is a/(a+b) of the range. Computed as
    X/(X+Y) of two gamma variates (sub-purposes ``value/x`` and ``value/y``, each a fixed-budget
    Marsaglia–Tsang, see ``gamma``), in log space so tiny shapes stay finite. With both column
    bounds the value is min + beta·(max − min), so the bounds hold by construction; otherwise the
    values lie in [0, 1] (and a single bound is applied by clipping). Not unique.
    """

    params_schema = obj(("a", "b"), a=POSITIVE, b=POSITIVE)

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        _positive(params, "a", out)
        _positive(params, "b", out)
        return out

    def generate(self, ctx):
        a, b = float(ctx.params["a"]), float(ctx.params["b"])
        lx = std_gamma_log(ctx, a, "value/x")
        ly = std_gamma_log(ctx, b, "value/y")
        with np.errstate(over="ignore"):
            x = 1.0 / (1.0 + pmath.exp(ly - lx))
        return self._scaled(ctx, x)

    def _scaled(self, ctx, x):
        lo, hi = own_bounds(ctx, self.name)
        if lo is not None and hi is not None:
            return np.clip(lo + x * (hi - lo), lo, hi)
        return x

    def quantile(self, u, ctx):
        return self._scaled(ctx, beta_quantile(u, float(ctx.params["a"]), float(ctx.params["b"])))


# --- discrete ------------------------------------------------------------------------------------

#: above this mean, poisson uses the normal approximation (with continuity correction)
POISSON_EXACT_MAX = 1e5


@lru_cache(maxsize=64)
def _poisson_table(lam: float) -> tuple[int, np.ndarray]:
    """(k_lo, cdf over k_lo..k_hi): the window holding all but ~1e-30 of the mass.

    The probabilities relative to the mode m = floor(lam) come from the ratios
    p(k+1)/p(k) = lam/(k+1) by running products outwards from m — basic arithmetic only, so the
    table is the same on every machine (no lgamma/exp from the C library), and relative error
    stays below ~1e-12 across the window."""
    sd = math.sqrt(lam)
    k_lo = max(0, int(lam - 12.0 * sd - 10.0))
    k_hi = int(lam + 12.0 * sd + 25.0)
    m = min(max(int(lam), k_lo), k_hi)
    p = np.empty(k_hi - k_lo + 1, dtype=np.float64)
    p[m - k_lo] = 1.0
    p[m - k_lo + 1:] = np.cumprod(lam / np.arange(m + 1, k_hi + 1, dtype=np.float64))
    p[:m - k_lo] = np.cumprod(np.arange(m, k_lo, -1, dtype=np.float64) / lam)[::-1]
    cdf = np.cumsum(p)
    return k_lo, cdf / cdf[-1]


def poisson_values(u: np.ndarray, lam: float) -> np.ndarray:
    """Poisson(lam) counts for uniforms ``u`` (inverse CDF; monotone in ``u``)."""
    u = np.asarray(u, dtype=np.float64)
    if lam <= 0:
        return np.zeros(u.shape, dtype=np.int64)
    if lam > POISSON_EXACT_MAX:
        x = np.floor(lam + math.sqrt(lam) * norm_ppf(u + _HALF_ULP1) + 0.5)
        return np.maximum(x, 0).astype(np.int64)
    k_lo, cdf = _poisson_table(float(lam))
    idx = np.searchsorted(cdf, u, side="right")
    return (np.minimum(idx, cdf.shape[0] - 1) + k_lo).astype(np.int64)


@register("poisson")
class Poisson(_Numeric):
    """Poisson-distributed counts plus a shift: shift, shift+1, … with mean lam + shift.

    Params: ``lam`` (≥ 0, the mean before the shift), ``shift`` (integer, default 0). Inverse CDF
    of one uniform by ``searchsorted`` on a precomputed cumulative table (cached per lam, covering
    lam ± 12σ); above lam = 1e5 the normal approximation with continuity correction. Column
    ``min``/``max`` are applied by clipping (prefer ``shift`` to move the support). Not unique.
    """

    params_schema = obj(("lam",), lam={"type": "number", "minimum": 0, "maximum": 1e9},
                        shift={"type": "integer", "minimum": -(2**53), "maximum": 2**53})

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        lam = params.get("lam")
        if lam is not None and (not _finite(lam) or lam < 0):
            out.append((f"lam must be a finite number ≥ 0, got {lam!r}", "params.lam", None))
        return out

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        return poisson_values(u, float(ctx.params["lam"])) + np.int64(int(ctx.params.get("shift", 0)))


#: zipf: ranks up to this count use an exact cumulative table; beyond it the tail is continuous
ZIPF_HEAD = 1 << 16
ZIPF_DEFAULT_N = 1000


@lru_cache(maxsize=64)
def _zipf_table(a: float, n: int) -> tuple[np.ndarray, float]:
    m = min(n, ZIPF_HEAD)
    head = np.cumsum(pmath.pow(np.arange(1, m + 1, dtype=np.float64), -a))
    tail = 0.0
    if n > m:
        lo, hi = m + 0.5, n + 0.5
        tail = pmath.log(hi / lo) if a == 1.0 else (pmath.pow(hi, 1.0 - a) - pmath.pow(lo, 1.0 - a)) / (1.0 - a)
    return head, tail


def zipf_values(u: np.ndarray, a: float, n: int) -> np.ndarray:
    """Ranks in [1, n] with P(k) ∝ k^-a, for uniforms ``u`` (inverse CDF; monotone in ``u``).

    Exact for the first 65,536 ranks (cumulative table + ``searchsorted``); the tail beyond is
    the continuous power law over [65536.5, n + 0.5), rounded (midpoint approximation).
    """
    u = np.asarray(u, dtype=np.float64)
    n = max(int(n), 1)
    head, tail = _zipf_table(float(a), n)
    h = float(head[-1])
    t = u * (h + tail)
    out = np.searchsorted(head, t, side="right").astype(np.int64) + 1
    if tail > 0:
        in_tail = t >= h
        if in_tail.any():
            m = head.shape[0]
            lo, hi = m + 0.5, n + 0.5
            v = (t[in_tail] - h) / tail
            if a == 1.0:
                x = lo * pmath.pow(hi / lo, v)
            else:
                e = 1.0 - a
                x = pmath.pow(pmath.pow(lo, e) + v * (pmath.pow(hi, e) - pmath.pow(lo, e)), 1.0 / e)
            out[in_tail] = np.clip(np.rint(x), m + 1, n).astype(np.int64)
    return np.clip(out, 1, n)


@register("zipf")
class Zipf(_Numeric):
    """Power-law (Zipf) integer ranks 1, 2, …, n with P(k) ∝ k^-a.

    Params: ``a`` (> 0; any positive exponent works because the support is bounded — numpy's
    unbounded zipf needs a > 1), ``n`` (the number of ranks; default the column's max when set,
    else 1000). Inverse CDF of one uniform over an exact cumulative table of the first 65,536
    ranks and a continuous power-law tail beyond (documented approximation). Ranks never exceed
    the column's ``max`` (by construction); a column ``min`` above 1 is applied by clipping.
    As a skew (``ranks``): the same law over n parent rows, 0-based — row 0 is the most popular.
    Not unique.
    """

    params_schema = obj(("a",), a=POSITIVE, n={"type": "integer", "minimum": 1})

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        _positive(params, "a", out)
        n = params.get("n")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            out.append((f"n must be an integer ≥ 1, got {n!r}", "params.n", None))
        _, cmax = column_bounds(column)
        if cmax is not None and cmax < 1:
            out.append((f"zipf ranks are ≥ 1 but the column's max is {cmax}", "params", None))
        return out

    @staticmethod
    def _n(params, cmax) -> int:
        n = params.get("n")
        if cmax is not None and cmax >= 1:
            cap = math.floor(min(float(cmax), float(2**62)))
            n = cap if n is None else min(int(n), cap)
        return ZIPF_DEFAULT_N if n is None else max(int(n), 1)

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        _, cmax = own_bounds(ctx, self.name)
        return zipf_values(u, float(ctx.params["a"]), self._n(ctx.params, cmax))

    def ranks(self, u, n, params):
        return zipf_values(u, float(params["a"]), int(n)) - 1


@register("bernoulli")
class Bernoulli(_Numeric):
    """True with probability p (bool columns), or 1/0 for numeric columns.

    Params: ``p`` in [0, 1] (default 0.5). One uniform per cell: ``u < p``. Column bounds do not
    apply (the values are 0 and 1). Capacity 2 (1 when p is 0 or 1); not unique by construction.
    """

    categorical = True

    kinds = NUMERIC | {"bool"}
    listed_values = True
    params_schema = obj(p={"type": "number", "minimum": 0, "maximum": 1})

    def check_params(self, params, column=None) -> Problems:
        p = params.get("p", 0.5)
        if not _finite(p) or not 0 <= p <= 1:
            return [(f"p must be a probability in [0, 1], got {p!r}", "params.p", None)]
        return []

    def capacity(self, column, params, plan):
        p = params.get("p", 0.5)
        return 1 if p in (0, 1) else 2

    def generate(self, ctx):
        return self._out(ctx, ctx.uniform() < float(ctx.params.get("p", 0.5)))

    def _out(self, ctx, hit):
        own = not getattr(ctx, "purpose_prefix", "") and getattr(ctx.column.generator, "type", None) == self.name
        return hit if own and _kind(ctx.column) == "bool" else hit.astype(np.int64)

    def quantile(self, u, ctx):
        # increasing in u (false, then true), unlike generate's u < p: same law, other coupling
        return self._out(ctx, np.asarray(u) >= 1.0 - float(ctx.params.get("p", 0.5)))


@register("histogram")
class Histogram(_Numeric):
    """Piecewise-uniform numbers: a bin chosen by weight, then uniform inside it.

    Params: ``bins`` — k+1 increasing edges; ``weights`` — k non-negative numbers (one per bin,
    sum > 0). One uniform per cell through the piecewise-linear inverse CDF (cumulative weights +
    ``searchsorted``), so values are monotone in the uniform. Column ``min``/``max`` hold by
    construction: bins are cut at the bounds and their weights scaled by the part that remains.
    Not unique.
    """

    params_schema = obj(
        ("bins", "weights"),
        bins={"type": "array", "items": NUMBER, "minItems": 2},
        weights={"type": "array", "items": NONNEG, "minItems": 1},
    )

    def check_params(self, params, column=None) -> Problems:
        out: Problems = []
        bins, weights = params.get("bins"), params.get("weights")
        if not isinstance(bins, (list, tuple)) or not isinstance(weights, (list, tuple)):
            return out
        if not all(_finite(b) for b in bins) or not all(_finite(w) for w in weights):
            return [("bins and weights must be finite numbers", "params", None)]
        if any(b2 <= b1 for b1, b2 in itertools.pairwise(bins)):
            out.append(("bins must be strictly increasing edges", "params.bins", None))
        if len(weights) != len(bins) - 1:
            out.append((f"{len(bins)} bin edges make {len(bins) - 1} bins but {len(weights)} weights are given",
                        "params.weights", "give one weight per bin (len(weights) = len(bins) - 1)"))
        if any(w < 0 for w in weights):
            out.append(("weights must be non-negative", "params.weights", None))
        elif sum(weights) <= 0:
            out.append(("weights must not all be zero", "params.weights", None))
        if out:
            return out
        cmin, cmax = column_bounds(column)
        _, w = _histogram_table(tuple(map(float, bins)), tuple(map(float, weights)), cmin, cmax)
        if w.sum() <= 0:
            out.append(("no weight is left inside the column's min/max", "params.bins",
                        "make the weighted bins overlap the column's range"))
        return out

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        cmin, cmax = own_bounds(ctx, self.name)
        edges, w = _histogram_table(tuple(map(float, ctx.params["bins"])), tuple(map(float, ctx.params["weights"])),
                                    cmin, cmax)
        return histogram_values(u, edges, w)


@lru_cache(maxsize=64)
def _histogram_table(bins: tuple, weights: tuple, cmin, cmax) -> tuple[np.ndarray, np.ndarray]:
    edges = np.asarray(bins, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    lo = edges[:-1]
    hi = edges[1:]
    nlo = lo if cmin is None else np.clip(lo, cmin, None)
    nhi = hi if cmax is None else np.clip(hi, None, cmax)
    keep = np.clip(nhi - nlo, 0, None) / (hi - lo)
    nlo = np.minimum(nlo, nhi)
    return np.stack([nlo, np.maximum(nhi, nlo)]), w * keep


def histogram_values(u: np.ndarray, edges: np.ndarray, w: np.ndarray) -> np.ndarray:
    lo, hi = edges
    cw = np.cumsum(w)
    total = cw[-1]
    t = np.asarray(u) * total
    b = np.searchsorted(cw, t, side="right")
    last = int(np.flatnonzero(w > 0)[-1])
    b = np.minimum(b, last)
    prev = np.where(b > 0, cw[np.maximum(b - 1, 0)], 0.0)
    frac = np.clip((t - prev) / np.where(w[b] > 0, w[b], 1.0), 0.0, 1.0)
    return lo[b] + frac * (hi[b] - lo[b])
