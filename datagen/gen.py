"""Typed generator constructors, one per registered generator (plugins' included)::

    >>> from datagen import gen
    >>> gen.normal(mean=40, std=12)
    gen.normal(mean=40, std=12)
    >>> gen.fk("customers", skew=gen.zipf(1.2))
    gen.fk(table='customers', skew=gen.zipf(a=1.2))

Each takes the generator's parameters, positionally in the order its ``params_schema`` lists
them or by name, and returns a ``datagen.config.Generator`` for a column's ``generator`` (or a
per-parent ``distribution``, an fk's ``skew``, a ``switch`` case). The parameters are checked
where every schema is checked: ``Schema.validate()``.
"""

from __future__ import annotations

from datagen.config import Generator, generator_names, make_constructor

__all__ = ["Generator", "names"]


def names() -> list[str]:
    """Every generator name ``gen`` has a constructor for."""
    return generator_names()


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    known = generator_names()
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise AttributeError(f"datagen.gen has no generator {name!r}{hint}; generators: {', '.join(known)}")
    return make_constructor(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(generator_names()))
