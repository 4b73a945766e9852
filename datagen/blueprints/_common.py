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


def ANOMALIES(rate: float, key: str, time: str, amount: str = "amount") -> dict:  # noqa: N802 - a block's name
    """The transaction anomalies fraud tests look for, at ``rate`` of the rows (``with_anomalies``
    sets it too): spikes in ``amount``, off-hours ``time``, duplicated transactions and bursts from
    one ``key``."""
    return {"rate": rate, "label": "anomaly", "kinds": {
        "spike": {"column": amount, "factor": [5, 30], "weight": 2},
        "off_hours": {"column": time, "hours": [1, 5]},
        "duplicate": {"within": 16},
        "burst": {"key": key, "time": time, "size": 6, "within": "10m"},
    }}
