"""Gaussian copulas (a table's ``correlations:`` blocks): correlated uniforms, one per cell.

For a block over columns c₁ … c_k with latent correlation matrix R = L·Lᵀ, row r gets

* k independent standard normals z_j = ``rng.normal(stream_key(seed, table, c_j, "copula"), r)``
  — each column's own ``copula`` stream, keyed by names, read at the row index: addressable,
  whatever the block boundaries or worker count;
* the correlated normals x = L·z (``x_i = Σ_{j≤i} L_ij z_j``, summed in a fixed order with
  numpy's elementwise ``*`` and ``+``: no BLAS, no fused multiply-add, the same bits on every
  machine);
* the uniforms u_i = Φ(x_i) = ½·erfc(−x_i/√2) (``pmath.erfc``, portable), clipped into [0, 1).

Column c_i then takes ``quantile(u_i)`` of its generator (its inverse CDF) instead of drawing
from its own ``value`` stream; its nulls still come from its own ``null`` stream. The Cholesky
factor is computed here in plain Python floats (k is small), so it too is the same everywhere;
a positive semi-definite R with zero pivots (perfectly correlated columns) gets zero columns.

Validation of the blocks (names, shape, symmetry, PSD) is the loader's (``check_matrix``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from shared.io import pmath, rng

__all__ = ["PURPOSE", "SYMMETRY_TOLERANCE", "PSD_TOLERANCE", "cholesky", "latent_normals", "latent_uniforms",
           "matrix_problems", "nearest_correlation", "to_uniform", "given_parts"]

#: the stream purpose of each column's latent normal
PURPOSE = "copula"
#: |R_ij − R_ji| and |R_ii − 1| allowed (rounding in a written matrix)
SYMMETRY_TOLERANCE = 1e-6
#: the smallest eigenvalue may be this far below 0 (rounding of a singular matrix)
PSD_TOLERANCE = 1e-8
_U_MAX = 1.0 - 1.1102230246251565e-16  # 1 - 2**-53
_NEG_INV_SQRT2 = -1.0 / math.sqrt(2.0)


def cholesky(matrix: Sequence[Sequence[float]]) -> tuple[tuple[float, ...], ...]:
    """The lower-triangular L with L·Lᵀ = matrix (positive semi-definite, as the loader checks):
    the Cholesky–Banachiewicz recurrence in Python floats; a pivot that rounds to ≤ 0 (a
    singular matrix) gives a zero column."""
    k = len(matrix)
    L = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1):
            s = float(matrix[i][j])
            for m in range(j):
                s -= L[i][m] * L[j][m]
            if i == j:
                L[i][i] = math.sqrt(s) if s > 1e-12 else 0.0
            else:
                L[i][j] = s / L[j][j] if L[j][j] > 0.0 else 0.0
    # rows are unit vectors up to rounding: renormalise so each latent normal stays N(0, 1)
    out = []
    for row in L:
        norm = math.sqrt(sum(v * v for v in row))
        out.append(tuple(v / norm for v in row) if norm > 0 else tuple(row))
    return tuple(out)


def latent_normals(seed: int, table: str, columns: Sequence[str], factor: Sequence[Sequence[float]],
                   rows: np.ndarray, given: Sequence[np.ndarray] = ()) -> list[np.ndarray]:
    """The block's correlated standard normals x = L·z for ``rows``, one array per column of
    ``columns`` (the order of ``factor``).

    ``given``: the latent normals of the first ``len(given)`` columns, already known (a parent's
    columns, ``fk.col`` in the block): their z are solved from them by forward substitution
    (z_i = (x_i − Σ_{j<i} L_ij z_j) / L_ii), so the block's own columns, drawn from their own
    streams after them, are the conditional normals given the parent's — the same Cholesky
    recurrence, no other arithmetic. Without ``given`` this is the plain block, bit for bit."""
    z: list[np.ndarray] = []
    out: list[np.ndarray] = []
    g = len(given)
    for i, name in enumerate(columns):
        if i < g:
            x = np.asarray(given[i], dtype=np.float64)
            r = x.copy()
            for j in range(i):
                lij = factor[i][j]
                if lij != 0.0:
                    r -= lij * z[j]
            lii = factor[i][i]
            z.append(r / lii if lii > 1e-9 else np.zeros(rows.shape, dtype=np.float64))
            out.append(x)
            continue
        z.append(rng.normal(rng.stream_key(seed, table, name, PURPOSE), rows))
        x = np.zeros(rows.shape, dtype=np.float64)
        for j in range(i + 1):
            lij = factor[i][j]
            if lij != 0.0:
                x += lij * z[j]
        out.append(x)
    return out


def to_uniform(x: np.ndarray) -> np.ndarray:
    """Φ(x) = ½·erfc(−x/√2) (portable ``erfc``), clipped into [0, 1)."""
    y = x * _NEG_INV_SQRT2
    u = pmath.erfc(y)
    u *= 0.5
    return np.clip(u, 0.0, _U_MAX)


def latent_uniforms(seed: int, table: str, columns: Sequence[str], factor: Sequence[Sequence[float]],
                    rows: np.ndarray) -> dict[str, np.ndarray]:
    """The block's correlated uniforms in [0, 1) for ``rows``: {column: u}."""
    xs = latent_normals(seed, table, columns, factor, rows)
    return {name: to_uniform(x) for name, x in zip(columns, xs, strict=True)}


def given_parts(name: str) -> tuple[str, str] | None:
    """(foreign-key column, parent column) when a block's entry is a parent's column
    (``fk.col``, a *given*), else None. The loader has checked that such a name is no column of
    the table itself."""
    if "." not in name:
        return None
    fk, _, col = name.partition(".")
    return fk, col


def nearest_correlation(matrix: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """A valid correlation matrix near ``matrix``: symmetrised, eigenvalues clipped at a small
    positive floor, rescaled to a unit diagonal (one step of Higham's alternating projections;
    what ``fit`` writes and the loader suggests)."""
    a = np.asarray(matrix, dtype=np.float64)
    a = (a + a.T) / 2.0
    w, v = np.linalg.eigh(a)
    a = (v * np.maximum(w, 1e-6)) @ v.T
    d = np.sqrt(np.diag(a))
    a = a / np.outer(d, d)
    np.fill_diagonal(a, 1.0)
    return np.clip(a, -1.0, 1.0)


def matrix_problems(matrix: Sequence[Sequence[float]], k: int) -> list[tuple[tuple, str, str | None]]:
    """Problems of a correlation block's matrix for k columns, as (sub-path below ``matrix``,
    message, hint): its shape, symmetry, unit diagonal, then positive semi-definiteness."""
    fit_hint = "`datagen fit` writes a valid matrix"
    if len(matrix) != k:
        return [((), f"the matrix has {len(matrix)} rows for {k} columns: it must be {k} × {k}",
                 "one row and one column per name in columns")]
    out: list[tuple[tuple, str, str | None]] = []
    for i, row in enumerate(matrix):
        if len(row) != k:
            out.append(((i,), f"row {i} of the matrix has {len(row)} entries for {k} columns: it must be {k} × {k}",
                        "one row and one column per name in columns"))
    if out:
        return out
    for i in range(k):
        if abs(float(matrix[i][i]) - 1.0) > SYMMETRY_TOLERANCE:
            out.append(((i, i), f"the diagonal of a correlation matrix is 1, got {matrix[i][i]} at [{i}][{i}]",
                        "a latent normal is perfectly correlated with itself: write 1"))
        for j in range(i + 1, k):
            if abs(float(matrix[i][j]) - float(matrix[j][i])) > SYMMETRY_TOLERANCE:
                out.append(((j, i), f"the matrix is not symmetric: [{i}][{j}] is {matrix[i][j]} but "
                            f"[{j}][{i}] is {matrix[j][i]}", "write the same correlation on both sides"))
    if out:
        return out
    w = np.linalg.eigvalsh(np.asarray(matrix, dtype=np.float64))
    if float(w[0]) < -PSD_TOLERANCE:
        near = nearest_correlation(matrix)
        shown = ""
        if k <= 4:
            shown = " e.g. " + str([[round(float(v), 3) for v in row] for row in near])
        out.append(((), f"the matrix is not positive semi-definite (smallest eigenvalue {float(w[0]):.4g}): "
                    "no set of columns can have these correlations together",
                    f"use the nearest valid correlation matrix (eigenvalues clipped at 0, unit diagonal){shown}; "
                    f"{fit_hint}"))
    return out
