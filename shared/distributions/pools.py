"""Faker pools: values drawn once per (provider, locale, size) from a Faker instance seeded with a
stable key (``seed_instance``, never ``Faker.seed``), kept in memory and cached on disk
(``DATAGEN_CACHE_DIR``, default ``~/.cache/datagen``; an empty value disables the cache; every
entry is verified before use, ``shared.io.cache``). A pool's default size follows the planned
rows of the table drawing from it (``pool_size_for``). The text generators index these pools
with the ``value`` uniform; the engine's ``ColumnContext`` hands them out."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from shared.io import cache, rng

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


def args_key(args) -> str | None:
    """Canonical JSON of a provider's keyword arguments (None without any): the pools' key."""
    if not args:
        return None
    from shared.model.schema import thaw

    return json.dumps(thaw(args), sort_keys=True, separators=(",", ":"))


def faker_pool(provider: str, locale: str, size: int, seed: int, args_json: str | None = None):
    """A pyarrow string array of ``size`` values of a Faker provider, cached per process.

    ``args_json`` (the provider's keyword arguments as canonical JSON, ``args_key``) is passed to
    every call and is part of the pool's key — in memory, on disk and in the instance seed; a
    pool without arguments keeps the key it always had. Values that are not strings (dates,
    numbers, Decimal) are rendered with ``str()`` — ISO dates, plain digits — deterministically.

    Built once with a Faker instance seeded by ``seed_instance`` (never the global
    ``Faker.seed``); the pool is a pure function of (provider, locale, size, seed, Faker version).
    Pools are also cached on disk (``DATAGEN_CACHE_DIR``, default ``~/.cache/datagen``; set it to
    an empty string to disable) as Arrow IPC entries of ``shared.io.cache``, so a second run does
    not pay Faker's per-call cost again. The cache is input too: an entry is used only when its
    keyed digest over its bytes and ``pool_inputs`` verifies; any other is rebuilt and replaced.
    ``validate`` replays through this same function, so it trusts exactly what ``generate`` does.
    """
    import pyarrow as pa

    cache_key: tuple = (provider, locale, size, seed)
    if args_json is not None:
        cache_key += (args_json,)
    pool = _POOLS.get(cache_key)
    if pool is None:
        pool = _disk_load(cache_key)
    if pool is None:
        from faker import Faker

        fake = Faker(locale)
        fake.seed_instance(rng.stream_key(seed, "faker-pool", provider, locale, size, *cache_key[4:]) & 0x7FFFFFFF)
        method = getattr(fake, provider)
        kwargs = json.loads(args_json) if args_json is not None else {}
        pool = pa.array([str(method(**kwargs)) for _ in range(size)], type=pa.string())  # pool fill, once
        _disk_store(cache_key, pool)
    _POOLS[cache_key] = pool
    return pool


@lru_cache(maxsize=1)
def faker_version() -> str:
    """The installed Faker's version, read from its metadata (importing Faker costs 0.1 s)."""
    from importlib.metadata import version

    return version("Faker")


#: the kind (folder) of the provider checks remembered in the verified disk cache
CHECK_KIND = "faker-checks"


def _check_inputs(provider: str, locale: str, args_json: str | None = None) -> tuple:
    extra = () if args_json is None else (args_json,)
    return ("faker-check", provider, locale, *extra, "faker", faker_version())


def provider_known_good(provider: str, locale: str, args_json: str | None = None) -> bool:
    """Whether an earlier load already checked this (provider, locale) with this Faker version:
    then the check needs no Faker instance (0.15 s at every load otherwise). The memory is an
    empty entry of the verified disk cache, so only a tag made with the cache's key counts: a
    marker planted for a bad provider cannot turn its schema error into a failure mid-run."""
    return cache.load(CHECK_KIND, _check_inputs(provider, locale, args_json)) is not None


def remember_provider(provider: str, locale: str, args_json: str | None = None) -> None:
    cache.store(CHECK_KIND, _check_inputs(provider, locale, args_json), b"")  # an optimisation only


#: the kind (folder) of the pool entries in the verified disk cache
POOL_KIND = "faker-pools"


def pool_inputs(cache_key: tuple) -> tuple:
    """What a cached pool is a function of: (provider, locale, size, seed[, args]) and the versions of
    Faker (the values), pyarrow (the entry's bytes) and Python (Faker draws from ``random``)."""
    import sys

    import pyarrow as pa

    return (*cache_key, "faker", faker_version(), "pyarrow", pa.__version__, "python", sys.version_info[:2])


def _disk_load(cache_key: tuple):
    """The pool from the disk cache, or None: an entry is used only when its keyed digest
    verifies (``shared.io.cache``) and it holds exactly one string column of ``size`` values
    without nulls; anything else is rebuilt by the caller and replaces the entry."""
    import pyarrow as pa

    payload = cache.load(POOL_KIND, pool_inputs(cache_key))
    if payload is None:
        return None
    try:
        table = pa.ipc.open_file(pa.py_buffer(payload)).read_all()
    except (pa.ArrowException, ValueError):
        return None
    if table.num_columns != 1 or table.num_rows != cache_key[2] or table.column(0).type != pa.string():
        return None
    arr = table.column(0).combine_chunks()
    return arr if arr.null_count == 0 else None


def _disk_store(cache_key: tuple, pool) -> None:
    """Write the pool as a one-column Arrow IPC file into the verified disk cache (atomically;
    a failure only means no cache)."""
    import pyarrow as pa

    table = pa.table({"v": pool})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    cache.store(POOL_KIND, pool_inputs(cache_key), memoryview(sink.getvalue()))
