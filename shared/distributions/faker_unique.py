"""Unique Faker values that still look real: the domain of a ``unique: true`` faker column.

A unique faker column draws from a *domain* built once per (provider, locale, pool size, seed,
args, max_length) from the provider's pool(s): its distinct values, and for some providers a
natural disambiguating number. Row ``r`` maps to domain element ``d(r)`` through a keyed
bijection, so every value is distinct by construction, any row is computed on its own (the same
bytes at any block size or worker count), and the domain's size is the column's ``capacity``,
which the planner checks against the table's rows (``InfeasibleSchema`` otherwise).

Per provider family (``family_of``):

============  ==========================================  ==================================  ==========
family        providers                                   values                              capacity
============  ==========================================  ==================================  ==========
``email``     any provider whose name contains ``email``  ``local@domain``, then              D · 9,999
                                                          ``local2@domain``, ``local3@…``
``username``  ``user_name``                               ``jsmith``, then ``jsmith2`` …      D · 9,999
``person``    ``name``, ``name_male``, ``name_female``,   ``First Last`` (``Last First`` where  F · L
              ``name_nonbinary`` (without ``args``)       the locale writes it so): every pair
                                                          of a first and a last-name pool
``numbered``  ``city``, ``company``, ``street_name``,     ``Lake Mitchell``, then             D · 9,999
              ``street_address``                          ``Lake Mitchell 2`` …
``exact``     every other provider (and any with          the pool's distinct values only     D
              ``args`` but the three suffix families)
============  ==========================================  ==================================  ==========

D is the number of distinct pool values (after the normalisation below), F and L the distinct
first and last names without spaces (so the pair splits back unambiguously at the space).
Nothing ever carries a visible code: a number appears only where real data has one (a second
``jsmith``, a second ``Lake Mitchell``), starts at 2 (the first occurrence is plain) and is at
most 9,999. The suffix families fill *layers*: rows ``[0, D)`` take every base value once in a
keyed order, rows ``[D, 2D)`` every base with the number 2 (in another keyed order), and so on —
so a table with no more rows than base values shows no number at all.

Injective by construction: base values of the suffix families are normalised so that a number
can always be read back — an email's local part and a user name lose their trailing digits
(``jsmith12`` → ``jsmith``, then deduplicated), and a numbered value never ends in
``" <digits>"`` (such pool values are left out). A person name's parts contain no space.

``max_length``: values are never cut where the cut could merge two of them. For the suffix and
person families a base value that does not fit with the widest number the table needs is left
out of the domain (an e-mail is never cut); for ``exact`` the values are cut, then deduplicated.
Either way the capacity shrinks accordingly and the planner refuses what no longer fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.io import rng

#: the largest disambiguating number (the first occurrence has none, the second "2" …)
MAX_NUMBER = 9_999
LAYERS = MAX_NUMBER  # layer 0 plain, layers 1..9998 numbered 2..9999
PERSON = {"name": "first_name", "name_male": "first_name_male", "name_female": "first_name_female",
          "name_nonbinary": "first_name_nonbinary"}
NUMBERED = frozenset({"city", "company", "street_name", "street_address"})
_TRAILING_DIGITS = re.compile(r"[0-9]+$")
_SPACE_NUMBER = re.compile(r" [0-9]+$")


def family_of(provider: str, has_args: bool = False) -> str:
    """The unique-value family of a provider (see the module docstring)."""
    if "email" in provider:
        return "email"
    if provider == "user_name":
        return "username"
    if provider in PERSON and not has_args:
        return "person"
    if provider in NUMBERED:
        return "numbered"
    return "exact"


def _distinct(values: list[str]) -> list[str]:
    """Distinct values in first-seen order (the pool's keyed order)."""
    return list(dict.fromkeys(values))


def _suffix_width(family: str, layers: int) -> int:
    """Characters the widest number of ``layers`` layers adds (0 for one layer)."""
    if layers <= 1:
        return 0
    return len(str(layers)) + (1 if family == "numbered" else 0)


@dataclass(frozen=True)
class Domain:
    """The finite domain of a unique faker column: ``capacity`` values, ``value(i)`` for i in it."""

    family: str
    bases: tuple[str, ...]  # base values (suffix and exact families), or first names (person)
    lasts: tuple[str, ...] = ()  # person: last names
    layers: int = 1  # suffix families: how many numbered copies of each base (1 = plain only)
    last_first: bool = False  # person: the locale writes the family name first (ja_JP, hu_HU …)

    @property
    def capacity(self) -> int:
        if self.family == "person":
            return len(self.bases) * len(self.lasts)
        return len(self.bases) * self.layers

    def values(self, rows: np.ndarray, key: int) -> pa.Array:
        """The values of rows ``rows`` (distinct rows in ``[0, capacity)`` give distinct values)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.family == "person":
            n_first = len(self.bases)
            p = rng.permute(key, rows, self.capacity)
            first = pa.array(self.bases, type=pa.string()).take(pa.array(p % n_first))
            last = pa.array(self.lasts, type=pa.string()).take(pa.array(p // n_first))
            return _join(last, " ", first) if self.last_first else _join(first, " ", last)
        d = len(self.bases)
        base_arr = pa.array(self.bases, type=pa.string())
        if self.family == "exact":
            return _plain(base_arr.take(pa.array(rng.permute(key, rows, d))))
        layer = rows // d
        # a keyed order of the bases inside each layer: the layer's permutation, shifted per layer
        shift = rng.integers(rng.stream_key(key, "layer"), layer, 0, d - 1)
        pick = (rng.permute(key, rows % d, d) + shift) % d
        base = base_arr.take(pa.array(pick))
        number = pc.cast(pa.array(layer + 1), pa.string())
        number = pc.if_else(pa.array(layer == 0), "", number)
        if self.family == "email":
            split = pc.split_pattern(base, "@", max_splits=1, reverse=True)
            local = pc.list_element(split, 0)
            domain = pc.list_element(split, 1)
            return _join(local, number, "@", domain)
        if self.family == "numbered":
            number = pc.if_else(pa.array(layer == 0), "", pc.binary_join_element_wise(" ", number, ""))
        return _join(base, number)


def _plain(arr) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks()
    return arr


def _join(*parts) -> pa.Array:
    return _plain(pc.binary_join_element_wise(*parts, ""))


def _bases(family: str, pool: list[str]) -> list[str]:
    if family == "email":
        out = []
        for v in pool:  # the pool's values, once (pool filling, not a per-row loop)
            local, at, domain = v.rpartition("@")
            if at and local.rstrip("0123456789"):
                out.append(local.rstrip("0123456789") + "@" + domain)
        return _distinct(out)
    if family == "username":
        return _distinct([s for s in (v.rstrip("0123456789") for v in pool) if s])
    if family == "numbered":
        return _distinct([v for v in pool if v and not _SPACE_NUMBER.search(v)])
    return _distinct(pool)


def build_domain(family: str, pool: list[str], lasts: list[str] | None = None, *,
                 max_length: int | None = None, rows: int = 0, last_first: bool = False) -> Domain:
    """The domain of a family from its pool(s) (see the module docstring); ``rows`` (the table's
    planned rows) only matters with ``max_length``: the widest number it needs decides which
    base values fit."""
    if family == "person":
        firsts = _distinct([v for v in pool if v and " " not in v])
        last_names = _distinct([v for v in lasts or () if v and " " not in v])
        if max_length is not None:
            firsts, last_names = _best_split(firsts, last_names, max_length)
        return Domain(family, tuple(firsts), tuple(last_names), last_first=last_first)
    if family == "exact":
        if max_length is not None:
            pool = [v[:max_length] for v in pool]
        return Domain(family, tuple(_distinct(pool)))
    bases = _bases(family, pool)
    if max_length is None:
        return Domain(family, tuple(bases), layers=LAYERS)
    fitting: list[str] = []
    for width_layers in (1, 9, 99, 999, LAYERS):  # numbers up to 1, 2, 3, 4 digits wide
        width = _suffix_width(family, width_layers)
        fitting = [b for b in bases if len(b) + width <= max_length]
        if len(fitting) * width_layers >= rows or width_layers == LAYERS:
            return Domain(family, tuple(fitting), layers=width_layers)
    return Domain(family, tuple(fitting), layers=LAYERS)  # pragma: no cover - loop always returns


def _best_split(firsts: list[str], lasts: list[str], max_length: int) -> tuple[list[str], list[str]]:
    """First and last names with len(first) + 1 + len(last) <= max_length for every pair, choosing
    the length split that keeps the most pairs."""
    best: tuple[int, int] = (-1, 0)
    for a in range(0, max_length):  # a loop over lengths, not rows
        count = sum(len(f) <= a for f in firsts) * sum(len(v) <= max_length - 1 - a for v in lasts)
        if count > best[0]:
            best = (count, a)
    a = best[1]
    return [f for f in firsts if len(f) <= a], [v for v in lasts if len(v) <= max_length - 1 - a]


@lru_cache(maxsize=64)
def _family_name_first(locale: str) -> bool:
    """Whether the locale's first ``name`` format puts ``last_name`` before the first name."""
    from faker import Faker

    for provider in Faker(locale).get_providers():
        formats = getattr(provider, "formats", None)
        if "person" in type(provider).__module__ and formats:
            first = str(next(iter(formats)))
            last_at, first_at = first.find("{{last_name"), first.find("{{first_name")
            return 0 <= last_at < first_at
    return False


@lru_cache(maxsize=64)
def domain_for(provider: str, locale: str, size: int, seed: int, args_json: str | None,
               max_length: int | None, rows: int) -> Domain:
    """The domain of a unique faker column (cached per process; the pools are cached on disk)."""
    from shared.distributions.pools import faker_pool

    family = family_of(provider, args_json is not None)
    if family == "person":
        firsts = faker_pool(PERSON[provider], locale, size, seed).to_pylist()
        lasts = faker_pool("last_name", locale, size, seed).to_pylist()
        return build_domain(family, firsts, lasts, max_length=max_length, rows=rows,
                            last_first=_family_name_first(locale))
    pool = faker_pool(provider, locale, size, seed, args_json).to_pylist()
    return build_domain(family, pool, max_length=max_length, rows=rows)
