"""What every blueprint shares: the date window's timestamps and the finishing modifiers."""

from __future__ import annotations

from datagen.config import Schema


def window(start: str, end: str) -> tuple[str, str]:
    """ISO timestamps of the first and last instant of the dates ``start`` … ``end``."""
    return f"{start}T00:00:00Z", f"{end}T23:59:59Z"


def finish(schema: Schema, *, locale: str, dirty_rate: float) -> Schema:
    """The locale, and the dirty profile when ``dirty_rate`` > 0."""
    if locale != "en_US":
        schema = schema.with_locale(locale)
    return schema.with_dirty(dirty_rate) if dirty_rate else schema
