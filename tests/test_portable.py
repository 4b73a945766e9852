"""Same bytes on every machine: generation must not depend on numpy's SIMD dispatch or the libm.

* The golden digests (``tests/test_golden.py``) and the bits of the portable functions are
  computed in two subprocesses — numpy's CPU dispatch unrestricted, and restricted to the
  baseline with ``NPY_DISABLE_CPU_FEATURES`` listing every dispatch target of this build — and
  must be equal (and equal to the recorded goldens).
* No module that computes values calls a transcendental numpy ufunc or ``math`` function: those
  go through ``shared.io.pmath`` (an AST scan, so a new call site fails here, not on another
  machine).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT
from tests.test_golden import GOLDEN, GOLDEN_DIRTY

_PROBE = r"""
import hashlib, json
import numpy as np
from shared.io import pmath
from tests.test_golden import GOLDEN, digest

out = {name: digest(name) for name in sorted(GOLDEN)}
out["shop/dirty"] = digest("shop", "dirty")
r = np.random.default_rng(5)
# the probe's inputs come from exact operations and pmath itself: numpy's own exp/log differ
# between dispatch levels (AVX-512 kernels), which would make the inputs, not pmath, differ
xs = np.concatenate([1.0 - r.random(50_000), pmath.exp(r.uniform(-700, 700, 50_000))])
h = hashlib.sha256()
for arr in (pmath.log(xs), pmath.exp(pmath.log(xs)), pmath.log1p(xs - 1.0), pmath.expm1(r.uniform(-40, 40, 1000)),
            pmath.cospi(2.0 * r.random(50_000)), pmath.sinpi(r.uniform(-9, 9, 1000)),
            pmath.pow(xs, r.uniform(-3, 3, xs.size)), pmath.erfc(r.uniform(-6, 27, 1000))):
    h.update(arr.tobytes())
out["pmath"] = h.hexdigest()
print(json.dumps(out))
"""


def dispatch_targets() -> list[str]:
    """The optional CPU targets this numpy build dispatches to (never the baseline: numpy refuses
    to disable those)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__

    return list(__cpu_dispatch__)


def _run(env_extra: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    env.update(env_extra)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-W", "error::ImportWarning", "-c", _PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_dispatch_restricted_and_unrestricted_give_the_same_bytes():
    targets = dispatch_targets()
    if not targets:
        pytest.skip("this numpy build dispatches to no optional CPU target")
    full = _run({})
    base = _run({"NPY_DISABLE_CPU_FEATURES": " ".join(targets)})
    assert full == base
    expected = dict(GOLDEN, **{"shop/dirty": GOLDEN_DIRTY})
    assert {k: v for k, v in full.items() if k != "pmath"} == expected


FORBIDDEN_NP = {"log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "power", "float_power", "sin", "cos",
                "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
                "arctanh", "hypot", "cbrt", "logaddexp", "logaddexp2", "deg2rad", "rad2deg", "sinc"}
FORBIDDEN_MATH = {"log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "pow", "sin", "cos", "tan", "asin",
                  "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "hypot", "cbrt",
                  "erf", "erfc", "gamma", "lgamma", "dist"}
FORBIDDEN_PC = {"ln", "log10", "log2", "log1p", "logb", "exp", "power", "sin", "cos", "tan", "asin", "acos", "atan",
                "atan2", "sinh", "cosh", "tanh"}
#: modules whose results never reach generated values (reports, benchmarks of the tool itself)
DIAGNOSTIC = {"shared/io/pmath.py"}


def _value_modules():
    for top in ("shared", "generators", "csv_generator"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in DIAGNOSTIC:
                yield rel, path


def test_no_libm_or_simd_transcendentals_in_value_code():
    found = []
    for rel, path in _value_modules():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                mod, name = node.value.id, node.attr
                if (mod in ("np", "numpy") and name in FORBIDDEN_NP) or (mod == "math" and name in FORBIDDEN_MATH) \
                        or (mod == "pc" and name in FORBIDDEN_PC):
                    found.append(f"{rel}:{node.lineno}: {mod}.{name}")
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
                # a float power goes through libm/SIMD; integer powers of integer literals are exact
                left, right = node.left, node.right
                ints = all(isinstance(x, ast.Constant) and type(x.value) is int for x in (left, right)) or (
                    isinstance(left, ast.Constant) and type(left.value) is int)
                if not ints and "int ** int: exact" not in lines[node.lineno - 1]:
                    found.append(f"{rel}:{node.lineno}: ** ({ast.unparse(node)})")
    assert not found, "use shared.io.pmath instead:\n" + "\n".join(found)

