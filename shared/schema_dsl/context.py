"""The engine's implementation of ``GenContext``: keyed randomness for one column and one block.

Every stream key is ``stream_key(seed, table, column, purpose)``; nested distributions (fk skew,
per-parent counts, inline draws of ``expr``) extend the purpose (``skew/value``), so adding a
nested draw never moves another stream. Faker pools are built once per process per
(provider, locale, size) from a Faker instance seeded through ``seed_instance`` with a stable key;
a pool's default size follows the planned rows of the table drawing from it (``pool_size_for``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from shared.io import rng

#: the largest Faker pool per profile ("fast" keeps small pools, "realistic" large ones)
POOL_SIZES = {"fast": 1_000, "realistic": 20_000, "dirty": 20_000}
#: the smallest default pool: a tiny table still draws from a few hundred values
MIN_POOL_SIZE = 256


def pool_size_for(draws: int, profile: str) -> int:
    """The default size of a Faker pool from which a table draws ``draws`` values: ``draws``
    rounded up to a power of two, at least ``MIN_POOL_SIZE``, at most the profile's size
    (``POOL_SIZES``). ``draws`` is a planned row count (times words per row for ``words``),
    never a block's, so the pool — and every value — is the same for any block size or worker
    count; a different ``--rows`` may give a different pool. Rounding up lets nearby row counts
    share a pool (and its disk cache entry), and a table of ``n`` rows draws from between ``n``
    and ``2n`` values, as a 20,000-row table always did from 20,000."""
    cap = POOL_SIZES.get(profile, POOL_SIZES["realistic"])
    size = 1 << max(int(draws) - 1, 0).bit_length()
    return min(cap, max(MIN_POOL_SIZE, size))

_POOLS: dict[tuple, Any] = {}


def faker_pool(provider: str, locale: str, size: int, seed: int):
    """A pyarrow string array of ``size`` values of a Faker provider, cached per process.

    Built once with a Faker instance seeded by ``seed_instance`` (never the global
    ``Faker.seed``); the pool is a pure function of (provider, locale, size, seed, Faker version).
    Pools are also cached on disk (``DATAGEN_CACHE_DIR``, default ``~/.cache/datagen``; set it to
    an empty string to disable) as Arrow IPC files named by a digest of that key, written
    atomically, so a second run does not pay Faker's per-call cost again.
    """
    import pyarrow as pa

    cache_key = (provider, locale, size, seed)
    pool = _POOLS.get(cache_key)
    if pool is None:
        pool = _disk_load(cache_key)
    if pool is None:
        from faker import Faker

        fake = Faker(locale)
        fake.seed_instance(rng.stream_key(seed, "faker-pool", provider, locale, size) & 0x7FFFFFFF)
        method = getattr(fake, provider)
        pool = pa.array([str(method()) for _ in range(size)], type=pa.string())  # pool fill, once
        _disk_store(cache_key, pool)
    _POOLS[cache_key] = pool
    return pool


@lru_cache(maxsize=1)
def faker_version() -> str:
    """The installed Faker's version, read from its metadata (importing Faker costs 0.1 s)."""
    from importlib.metadata import version

    return version("Faker")


def _cache_path(folder: str, key: tuple, suffix: str):
    """``<cache>/<folder>/<digest of key and the Faker version><suffix>``, or None when the
    cache is disabled (``DATAGEN_CACHE_DIR`` set to an empty string)."""
    import hashlib
    import os
    from pathlib import Path

    root = os.environ.get("DATAGEN_CACHE_DIR")
    if root == "":
        return None
    base = Path(root) if root else Path.home() / ".cache" / "datagen"
    digest = hashlib.sha256(repr((key, faker_version(), "pool-v1")).encode()).hexdigest()[:32]
    return base / folder / f"{digest}{suffix}"


def _cache_file(cache_key: tuple):
    return _cache_path("faker-pools", cache_key, ".arrow")


def provider_known_good(provider: str, locale: str) -> bool:
    """Whether an earlier load already checked this (provider, locale) with this Faker version:
    then the check needs no Faker instance (0.15 s at every load otherwise)."""
    path = _cache_path("faker-checks", (provider, locale), ".ok")
    return path is not None and path.is_file()


def remember_provider(provider: str, locale: str) -> None:
    path = _cache_path("faker-checks", (provider, locale), ".ok")
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        pass  # an optimisation only


def _disk_load(cache_key: tuple):
    import pyarrow as pa

    try:
        path = _cache_file(cache_key)
        if path is None or not path.is_file():
            return None
        with pa.memory_map(str(path)) as src:
            arr = pa.ipc.open_file(src).read_all().column(0).combine_chunks()
        return arr if len(arr) == cache_key[2] and arr.type == pa.string() else None
    except (OSError, pa.ArrowInvalid):
        return None  # a damaged cache entry is rebuilt


def _disk_store(cache_key: tuple, pool) -> None:
    import os

    import pyarrow as pa

    try:
        path = _cache_file(cache_key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        table = pa.table({"v": pool})
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        os.replace(tmp, path)
    except OSError:
        pass  # caching is an optimisation: a read-only home just means no cache


@dataclass
class ColumnContext:
    """Randomness and references for one column over one block of rows."""

    seed: int
    table: Any
    column: Any
    params: Mapping[str, Any]
    rows: np.ndarray
    n_total: int
    profile: str = "realistic"
    locale: str = "en_US"
    anchor_us: int = 0
    unique: bool = False
    purpose_prefix: str = ""
    schema: Any = None  # model.Schema, for reference kinds (expr) — None in bare unit tests
    resolver: Callable[[str, np.ndarray], Any] | None = None
    #: values of any table's column at given row indices (parent lookups): lookup(table, column, rows)
    lookup: Callable[[str, str, np.ndarray], Any] | None = None
    #: planned row count of any table
    row_count: Callable[[str], int] | None = None
    sampler: Callable[[Any, ColumnContext, str], np.ndarray] | None = None
    _keys: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])

    @property
    def pool_size(self) -> int:
        """The default Faker pool size for this column: sized from its table's planned rows
        (``n_total``), so a parent lookup (``fk.col``) builds the parent's pool, not the child's."""
        return pool_size_for(self.n_total, self.profile)

    def key(self, purpose: str = "value") -> int:
        full = self.purpose_prefix + purpose
        k = self._keys.get(full)
        if k is None:
            k = rng.stream_key(self.seed, self.table.name, self.column.name, full)
            self._keys[full] = k
        return k

    def uniform(self, purpose: str = "value") -> np.ndarray:
        return rng.uniform(self.key(purpose), self.rows)

    def normal(self, purpose: str = "value") -> np.ndarray:
        return rng.normal(self.key(purpose), self.rows)

    def integers(self, low: int, high: int, purpose: str = "value") -> np.ndarray:
        return rng.integers(self.key(purpose), self.rows, low, high)

    def bits(self, purpose: str = "value") -> np.ndarray:
        return rng.bits(self.key(purpose), self.rows)

    def permute(self, n: int, purpose: str = "unique") -> np.ndarray:
        """A keyed bijection of the row index into [0, n) (needs n >= the table's rows)."""
        return rng.permute(self.key(purpose), self.rows, n)

    def ref(self, name: str):
        if self.resolver is None:
            raise LookupError(f"no column {name!r} available here")
        return self.resolver(name, self.rows)

    def faker_pool(self, provider: str, locale: str | None = None, size: int | None = None,
                   draws: int | None = None):
        """The pool of ``provider``: ``size`` values when given (``pool_size``), else sized by
        ``pool_size_for`` from ``draws`` (default: the table's planned rows)."""
        if not size:
            size = self.pool_size if draws is None else pool_size_for(draws, self.profile)
        return faker_pool(provider, locale or self.locale, size, self.seed)

    def derive(self, *, params: Mapping[str, Any] | None = None, prefix: str = "", rows: np.ndarray | None = None,
               unique: bool = False) -> ColumnContext:
        """A context for a nested distribution (own params, own purpose prefix)."""
        return ColumnContext(
            seed=self.seed, table=self.table, column=self.column,
            params=self.params if params is None else params,
            rows=self.rows if rows is None else rows, n_total=self.n_total, profile=self.profile,
            locale=self.locale, anchor_us=self.anchor_us, unique=unique,
            purpose_prefix=self.purpose_prefix + prefix, schema=self.schema, resolver=self.resolver,
            lookup=self.lookup, row_count=self.row_count, sampler=self.sampler,
        )

    def sample(self, spec, purpose: str) -> np.ndarray:
        """Values of a nested generator spec (e.g. fk ``skew``) under its own purpose prefix."""
        from shared.distributions.base import GENERATORS

        sub = self.derive(params=spec.params if hasattr(spec, "params") else spec.get("params", {}),
                          prefix=purpose + "/")
        gen_type = spec.type if hasattr(spec, "type") else spec["type"]
        return np.asarray(GENERATORS[gen_type].generate(sub), dtype=np.float64)
