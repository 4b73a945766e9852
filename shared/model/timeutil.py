"""Dates, timestamps and durations as the DSL writes them, in engine units.

* dates: ``"YYYY-MM-DD"`` → days since 1970-01-01
* timestamps: ISO 8601 (``"2024-06-01"``, ``"2024-06-01T08:30:00"``, optional fraction and
  ``Z``/``±HH:MM`` offset; naive means UTC) → microseconds since the epoch
* durations: ``"5s"``, ``"1m"``, ``"2h"``, ``"1d"``, ``"1w"``, ``"250ms"``, ``"1h30m"`` → µs
* relative times: a duration with a sign (``"-7d"``, ``"+1h"``), resolved against the schema's
  fixed ``anchor`` (recorded in the manifest) — never against the wall clock.
"""

from __future__ import annotations

import datetime as dt
import re

EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
US_PER = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000,
          "d": 86_400_000_000, "w": 604_800_000_000}
US_PER_DAY = US_PER["d"]
DEFAULT_ANCHOR = "2025-01-01T00:00:00Z"
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d|w)\s*)+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d|w)")
_RELATIVE = re.compile(r"^\s*([+-])\s*(.+)$")
#: the instants a timestamp can hold: 0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999999Z
#: (every format writes and reads them back); a duration is never longer than that span
TIMESTAMP_MIN_US = -62_135_596_800_000_000
TIMESTAMP_MAX_US = 253_402_300_799_999_999
MAX_DURATION_US = TIMESTAMP_MAX_US - TIMESTAMP_MIN_US


def _short(text: object) -> str:
    r = repr(text)
    return r if len(r) <= 40 else r[:36] + "…" + r[-3:]


def parse_date(text: object) -> int:
    """Days since the epoch for ``YYYY-MM-DD`` (a datetime.date from YAML is accepted too)."""
    if isinstance(text, dt.datetime):
        return (text.date() - EPOCH_DATE).days
    if isinstance(text, dt.date):
        return (text - EPOCH_DATE).days
    try:
        d = dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(f"not a date (expected YYYY-MM-DD): {text!r}") from None
    return (d - EPOCH_DATE).days


def parse_duration(text: object) -> int:
    """Microseconds in a duration like ``5s``, ``1h30m``; a bare number means seconds."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, (int, float)):
        us = float(text) * 1_000_000
    else:
        s = str(text).strip().lower()
        if not _DURATION.match(s):
            raise ValueError(f"not a duration (expected e.g. 5s, 1m, 2h, 1d, 1w, 250ms): {text!r}")
        us = sum(float(n) * US_PER[u] for n, u in _PART.findall(s))
    if not abs(us) <= MAX_DURATION_US:  # also NaN and inf
        raise ValueError(f"duration {_short(text)} is longer than the whole timestamp range "
                         f"(years 1 to 9999, about 10,000 years)")
    return int(round(us))


def parse_timestamp(text: object, anchor_us: int | None = None) -> int:
    """Microseconds since the epoch (UTC) for an ISO timestamp or a relative duration."""
    if isinstance(text, dt.datetime):
        t = text if text.tzinfo else text.replace(tzinfo=dt.UTC)
        return _to_us(t)
    if isinstance(text, dt.date):
        return parse_date(text) * US_PER_DAY
    s = str(text).strip()
    m = _RELATIVE.match(s)
    if m and _DURATION.match(m.group(2).lower()):
        if anchor_us is None:
            raise ValueError(f"relative time {text!r} needs an anchor")
        d = parse_duration(m.group(2))
        us = anchor_us + (d if m.group(1) == "+" else -d)
        if not TIMESTAMP_MIN_US <= us <= TIMESTAMP_MAX_US:
            raise ValueError(f"relative time {_short(text)} from the anchor {format_timestamp(anchor_us)} lands "
                             f"{'before year 1' if us < TIMESTAMP_MIN_US else 'after year 9999'}, outside the "
                             f"timestamps a column can hold")
        return us
    try:
        t = dt.datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"not a timestamp (expected ISO 8601 like 2024-06-01T08:30:00, or relative like -7d): {text!r}"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return _to_us(t)


def _to_us(t: dt.datetime) -> int:
    delta = t - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_timestamp(us: int) -> str:
    """ISO 8601 UTC text for microseconds since the epoch (for messages and manifests)."""
    return (EPOCH + dt.timedelta(microseconds=int(us))).isoformat().replace("+00:00", "Z")


def format_date(days: int) -> str:
    return (EPOCH_DATE + dt.timedelta(days=int(days))).isoformat()
