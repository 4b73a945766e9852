"""Addressable, counter-based randomness: the one place seeds come from.

Every random number datagen produces is a pure function of a *stream key* and a *row index*:

* ``stream_key(seed, table, column, purpose)`` digests stable names with BLAKE2b into a 64-bit
  key (never Python's salted ``hash()``, never ``seed + i``, never a list position).
* ``bits(key, rows)`` is the SplitMix64 output sequence started at ``key``, read at positions
  ``rows`` — so any cell is computed in O(1), vectorised over any array of row indices, with no
  state carried between blocks. Chunk size and worker count cannot change a value.
* Uniforms take the top 53 bits; normals use Box-Muller over two sub-streams, with the portable
  ``log`` and ``cospi`` of ``shared.io.pmath`` (the same bits on every machine).
* ``permute(key, idx, n)`` is a keyed bijection of ``[0, n)`` (a Feistel network with
  cycle-walking) used for unique values without a seen-set.

Several independent draws per cell are several purposes (``value``, ``null``, ``fk``,
``corrupt:typo`` …) or sub-streams of one (``subkey``).
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from shared.io import pmath

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_MASK64 = (1 << 64) - 1
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53
_PERSON = b"datagen-rng-v1"


def stream_key(seed: int, *names: object) -> int:
    """A stable 64-bit key for ``(seed, *names)``: BLAKE2b over an unambiguous encoding."""
    h = hashlib.blake2b(digest_size=8, person=_PERSON)
    h.update(str(int(seed)).encode())
    for name in names:
        data = str(name).encode("utf-8")
        h.update(struct.pack("<I", len(data)))
        h.update(data)
    return int.from_bytes(h.digest(), "little")


def subkey(key: int, *names: object) -> int:
    """A key derived from another key (a sub-stream), e.g. ``subkey(k, "bm", 1)``."""
    return stream_key(key, *names)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array, in place (``z`` is overwritten and returned):
    one scratch array instead of six temporaries, which halves the memory traffic."""
    t = z >> _S30
    with np.errstate(over="ignore"):
        z ^= t
        z *= _M1
        np.right_shift(z, _S27, out=t)
        z ^= t
        z *= _M2
    np.right_shift(z, _S31, out=t)
    z ^= t
    return z


def _as_rows(rows) -> np.ndarray:
    r = np.asarray(rows)
    if r.dtype != np.uint64:
        r = r.astype(np.int64, copy=False).view(np.uint64) if r.dtype == np.int64 else r.astype(np.uint64)
    return r


def bits(key: int, rows) -> np.ndarray:
    """64 random bits per row: the SplitMix64 sequence from state ``key`` at positions ``rows``."""
    r = _as_rows(rows)
    with np.errstate(over="ignore"):
        z = r + np.uint64(1)
        z *= _GAMMA
        z += np.uint64(key & _MASK64)
    return _mix(z)


def uniform(key: int, rows) -> np.ndarray:
    """Doubles in [0, 1), one per row."""
    b = bits(key, rows)
    b >>= _S11
    u = b.astype(np.float64)
    u *= _TWO_M53
    return u


def uniform_open(key: int, rows) -> np.ndarray:
    """Doubles in (0, 1], one per row (safe under ``log``)."""
    u = uniform(key, rows)
    np.subtract(1.0, u, out=u)
    return u


def normal(key: int, rows) -> np.ndarray:
    """Standard normals, one per row (Box-Muller over two sub-streams; addressable):
    ``sqrt(-2 log u1) · cos(2π u2)``, the cosine as ``cospi(2 u2)`` (exact reduction)."""
    r = pmath.log(uniform_open(subkey(key, "bm", 1), rows))
    r *= -2.0
    np.sqrt(r, out=r)
    theta = uniform(subkey(key, "bm", 2), rows)
    theta *= 2.0
    r *= pmath.cospi(theta)
    return r


def integers(key: int, rows, low: int, high: int) -> np.ndarray:
    """Integers uniform in [low, high] (both inclusive), one per row.

    Uses the multiply-shift on 53-bit uniforms for ranges below 2**53 (bias < 2**-40 for the
    ranges a schema can name), and the 64 raw bits modulo the span otherwise.
    """
    span = int(high) - int(low) + 1
    if span <= 0:
        raise ValueError("empty integer range")
    if span <= (1 << 53):
        return (np.floor(uniform(key, rows) * span).astype(np.int64) + np.int64(low)).astype(np.int64)
    b = bits(key, rows)
    return (b % np.uint64(span)).astype(np.int64) + np.int64(low)


def _feistel(x: np.ndarray, keys: tuple[int, ...], half: int) -> np.ndarray:
    mask = np.uint64((1 << half) - 1)
    sh = np.uint64(half)
    left = x >> sh
    right = x & mask
    with np.errstate(over="ignore"):
        for k in keys:
            f = _mix(right + np.uint64(k)) & mask
            left, right = right, left ^ f
    return (left << sh) | right


def permute(key: int, idx, n: int) -> np.ndarray:
    """A keyed bijection of [0, n): distinct ``idx`` give distinct results, all in [0, n).

    A 4-round balanced Feistel network on the smallest even bit width covering ``n``, with
    cycle-walking for lanes that land outside ``[0, n)`` (only those lanes are re-encrypted;
    the domain is at most 4n so the expected number of extra rounds is below 3).
    """
    n = int(n)
    x = _as_rows(idx).copy()
    if n <= 1:
        return np.zeros(x.shape, dtype=np.int64)
    width = max(2, (n - 1).bit_length())
    width += width & 1
    half = width // 2
    keys = tuple(stream_key(key, "feistel", i) for i in range(4))
    out = _feistel(x, keys, half)
    bad = out >= np.uint64(n)
    # Cycle-walking terminates: every cycle of the permutation contains in-range points.
    while bad.any():
        out[bad] = _feistel(out[bad], keys, half)
        bad = out >= np.uint64(n)
    return out.astype(np.int64)
