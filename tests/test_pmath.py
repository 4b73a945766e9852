"""shared.io.pmath: accuracy in ulps against ``math`` (the C library), special values, monotonicity,
scalar/array agreement and independence from the slicing into chunks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.io import pmath

N = 100_000
RNG_SEED = 20240611


def ulps(got, want) -> np.ndarray:
    """Distance in units in the last place (0 when equal, both nan, or both the same infinity)."""
    a = np.asarray(got, dtype=np.float64)
    b = np.asarray(want, dtype=np.float64)
    ia = a.view(np.int64)
    ib = b.view(np.int64)
    # map the sign-magnitude bit patterns onto a monotone integer line
    ia = np.where(ia < 0, np.int64(-(2**63)) - ia, ia)
    ib = np.where(ib < 0, np.int64(-(2**63)) - ib, ib)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(over="ignore"):
        return np.where(same, 0, np.abs(ia - ib))


def reference(fn, xs) -> np.ndarray:
    return np.array([fn(float(x)) for x in xs])


def rng():
    return np.random.default_rng(RNG_SEED)


def _cospi_ref(x: float) -> float:
    """cos(πx) through an exact reduction of x by half-integers, then math.cos/sin of |πr| ≤ π/4."""
    n = round(2.0 * x)
    r = x - n / 2.0  # exact
    q = n % 4
    c, s = math.cos(math.pi * r), math.sin(math.pi * r)
    return (c, -s, -c, s)[q]


def _sinpi_ref(x: float) -> float:
    n = round(2.0 * x)
    r = x - n / 2.0
    q = n % 4
    c, s = math.cos(math.pi * r), math.sin(math.pi * r)
    return (s, c, -s, -c)[q]


R = rng()
CASES = {
    # name: (pmath function, reference, inputs, max ulp)
    "log/unit": (pmath.log, math.log, 1.0 - R.random(N), 1),
    "log/near-1": (pmath.log, math.log, 1.0 + R.uniform(-0.3, 0.45, N), 1),
    "log/wide": (pmath.log, math.log, np.exp(R.uniform(-708, 709, N)), 1),
    "log/subnormal": (pmath.log, math.log, R.random(5000) * 2.2e-308, 1),
    "exp/small": (pmath.exp, math.exp, R.uniform(-2, 2, N), 1),
    "exp/wide": (pmath.exp, math.exp, R.uniform(-745, 709.78, N), 1),
    "log1p/unit": (pmath.log1p, math.log1p, -R.random(N), 1),
    "log1p/tiny": (pmath.log1p, math.log1p, R.uniform(-1e-9, 1e-9, N), 1),
    "log1p/wide": (pmath.log1p, math.log1p, np.exp(R.uniform(-700, 700, N)), 1),
    "expm1/small": (pmath.expm1, math.expm1, R.uniform(-3, 3, N), 1),
    "expm1/wide": (pmath.expm1, math.expm1, R.uniform(-40, 709, N), 1),
    "expm1/tiny": (pmath.expm1, math.expm1, R.uniform(-1e-6, 1e-6, N), 1),
    "cospi/box-muller": (pmath.cospi, _cospi_ref, 2.0 * R.random(N), 1),
    "cospi/wide": (pmath.cospi, _cospi_ref, R.uniform(-1e6, 1e6, N), 1),
    "sinpi/wide": (pmath.sinpi, _sinpi_ref, R.uniform(-1e3, 1e3, N), 1),
    # fdlibm's erfc is a few ulp from the truth (so is glibc's); measured max 4 ulp apart
    "erfc/central": (pmath.erfc, math.erfc, R.uniform(-1.5, 1.5, N), 4),
    "erfc/tail": (pmath.erfc, math.erfc, R.uniform(-6, 27, N), 4),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_accuracy_against_math(case):
    fn, ref, xs, bound = CASES[case]
    err = ulps(fn(xs), reference(ref, xs))
    assert err.max() <= bound, (case, xs[np.argmax(err)], int(err.max()))


@pytest.mark.parametrize("xs,ys", [
    ("zipf", None),
    ("wide", None),
])
def test_pow_accuracy(xs, ys):
    r = rng()
    if xs == "zipf":  # the table k**-a and the continuous tail's powers
        x = np.floor(r.uniform(1, 70_000, N))
        y = r.uniform(-4, 2, N)
    else:
        x = np.exp(r.uniform(-700, 700, N))
        y = r.uniform(-1, 1, N)
    want = np.array([math.pow(a, b) for a, b in zip(x, y, strict=True)])
    assert ulps(pmath.pow(x, y), want).max() <= 1


def test_pow_exact_small_integers():
    x = np.arange(1, 200, dtype=np.float64)
    for e in (2.0, 3.0, -1.0, 0.5):
        want = np.array([math.pow(v, e) for v in x])
        assert ulps(pmath.pow(x, e), want).max() <= 1


SPECIAL = [0.0, -0.0, -1.0, 1.0, math.inf, -math.inf, math.nan, 5e-324, 2.2250738585072014e-308,
           1.7976931348623157e308, -5e-324, 0.5, 709.8, -745.2, 1e-300, -1e-300]


@pytest.mark.parametrize("name,np_fn", [
    ("log", np.log), ("exp", np.exp), ("log1p", np.log1p), ("expm1", np.expm1),
])
def test_special_values_match_numpy(name, np_fn):
    xs = np.array(SPECIAL)
    with np.errstate(all="ignore"):
        want = np_fn(xs)
    got = getattr(pmath, name)(xs)
    assert np.array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(want[~np.isnan(want)]))
    assert ulps(got, want).max() <= 1


def test_special_values_pow():
    xs = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, math.inf, -math.inf, math.nan, 5e-324]
    ys = [0.0, -0.0, 1.0, -1.0, 2.0, 3.0, -3.0, 0.5, -0.5, math.inf, -math.inf, math.nan, 1e300]
    x, y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    got = pmath.pow(x, y)
    assert got.shape == want.shape
    assert ulps(got, want).max() <= 1
    ok = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


def test_special_values_trig_and_erfc():
    assert pmath.cospi(0.5) == 0.0 and not math.copysign(1.0, pmath.cospi(0.5)) < 0
    assert pmath.cospi(np.array([0.0, 1.0, 2.0, 1e300])).tolist() == [1.0, -1.0, 1.0, 1.0]
    assert pmath.sinpi(np.array([0.5, 1.5, 3.0])).tolist() == [1.0, -1.0, 0.0]
    assert np.isnan(pmath.cospi(np.array([math.inf, -math.inf, math.nan]))).all()
    assert pmath.erfc(np.array([math.inf, -math.inf, 0.0, 30.0, -30.0])).tolist() == [0.0, 2.0, 1.0, 0.0, 2.0]
    assert math.isnan(pmath.erfc(math.nan))


def test_scalars_return_floats_and_agree_with_arrays():
    xs = np.array([0.3, 1.7, 12.5, 1e-5])
    for fn in (pmath.log, pmath.exp, pmath.log1p, pmath.expm1, pmath.cospi, pmath.sinpi, pmath.erfc):
        arr = fn(xs)
        for x, v in zip(xs, arr, strict=True):
            s = fn(float(x))
            assert type(s) is float and s == v
    assert type(pmath.pow(2.0, 0.5)) is float and pmath.pow(2.0, 0.5) == pmath.pow(np.array([2.0]), 0.5)[0]
    assert pmath.log(np.ones((3, 4))).shape == (3, 4)


def test_chunking_does_not_change_bits():
    x = 1.0 - rng().random(3 * pmath.CHUNK + 17)
    whole = pmath.log(x)
    parts = np.concatenate([pmath.log(x[i:i + 1000]) for i in range(0, x.size, 1000)])
    assert whole.tobytes() == parts.tobytes()
    y = rng().uniform(-3, 3, x.size)
    assert pmath.pow(x, y).tobytes() == np.concatenate([pmath.pow(x[:5], y[:5]), pmath.pow(x[5:], y[5:])]).tobytes()


def test_inputs_are_not_modified():
    x = 1.0 - rng().random(100)
    keep = x.copy()
    for fn in (pmath.log, pmath.exp, pmath.log1p, pmath.expm1, pmath.cospi, pmath.sinpi, pmath.erfc):
        fn(x)
    pmath.pow(x, x)
    assert np.array_equal(x, keep)


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=5e-324, max_value=1.7e308), min_size=2, max_size=50))
def test_log_monotone_and_accurate(xs):
    x = np.sort(np.array(xs))
    y = pmath.log(x)
    assert (np.diff(y) >= 0).all()
    assert ulps(y, reference(math.log, x)).max() <= 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=-745.0, max_value=709.0), min_size=2, max_size=50))
def test_exp_monotone_and_accurate(xs):
    x = np.sort(np.array(xs))
    y = pmath.exp(x)
    assert (np.diff(y) >= 0).all()
    assert ulps(y, reference(math.exp, x)).max() <= 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=-1.0, max_value=1e300, exclude_min=True), min_size=2, max_size=50))
def test_log1p_monotone_and_accurate(xs):
    x = np.sort(np.array(xs))
    y = pmath.log1p(x)
    assert (np.diff(y) >= 0).all()
    assert ulps(y, reference(math.log1p, x)).max() <= 1


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-300, max_value=1e300), st.floats(min_value=-50.0, max_value=50.0))
def test_pow_accurate(x, y):
    try:
        want = math.pow(x, y)
    except OverflowError:
        want = math.inf
    assert ulps(pmath.pow(x, y), want) <= 1
