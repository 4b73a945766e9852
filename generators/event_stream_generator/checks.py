"""The event stream's own ``validate`` checks over ``events.ndjson`` (all vectorised).

* ``required_keys`` — every line has ``event_id``, ``event_type``, ``ts``, ``key``, ``table``,
  ``seq``, ``late`` and an object ``data`` (one result for the stream); every event's ``data``
  has every column of its table (one result per event table). Keys are found on the line's text
  with RE2 after every string value is blanked out, so text inside values cannot fake a key,
  whatever the key order.
* ``ordering`` — every on-time event (``late: false``) has a ``ts`` at least that of every
  event before it in the file; only events flagged late may arrive out of order.
* ``unique_event_id`` — no ``event_id`` occurs twice.
* ``event_count`` — each event table has as many events as the plan has rows; no event names a
  table that is not an event table of the schema.
* ``late_events`` — the events flagged late are exactly those of the keyed draw for the run's
  seed (so the late fraction is the documented one); skipped for data datagen did not write.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generators.event_stream_generator.envelope import ENVELOPE_KEYS, NULL_TIME, late_flags
from generators.event_stream_generator.reader import EVENTS_FILE, stream_lines
from shared.corruption import expected_rows
from shared.model.timeutil import format_timestamp
from shared.validation.checks import SAMPLE, failure, result

KINDS = ("required_keys", "ordering", "unique_event_id", "event_count", "late_events")
_STRING_VALUE = r':\s*"(?:[^"\\]|\\.)*"'
_DATA_OBJECT = r'"data"\s*:\s*\{[^{}]*\}'


def stream_checks(out_dir: Path, schema, plan) -> list[dict]:
    if not (out_dir / EVENTS_FILE).is_file():
        return [result(k, None, None, "skipped", f"no {EVENTS_FILE} to check") for k in KINDS]
    try:
        lines, fields = stream_lines(out_dir)
    except (OSError, ValueError, pa.ArrowException) as exc:
        text = f"{type(exc).__name__}: {exc}"
        return [result("required_keys", None, None, "fail", f"{EVENTS_FILE} cannot be parsed: {text[:300]}")] + \
               [result(k, None, None, "skipped", f"{EVENTS_FILE} cannot be parsed") for k in KINDS[1:]]
    tables = [t for t in schema.tables if t.events is not None]
    tcol = fields.column("table")
    masks = {t.name: np.asarray(pc.fill_null(pc.equal(tcol, t.name), False).to_numpy(), dtype=bool) for t in tables}
    out = _required_keys(lines, masks, tables)
    out.append(_ordering(fields))
    out.append(_unique_ids(fields))
    out += _event_counts(tcol, masks, tables, plan)
    out += _late(fields, masks, tables, plan)
    return out


def _line_samples(idx: np.ndarray, what) -> list[str]:
    return [f"line {int(i) + 1}: {what(int(i))}" for i in idx[:SAMPLE]]


def _has_key(text: pa.Array, key: str) -> np.ndarray:
    hit = pc.match_substring_regex(text, r'[{,]\s*"' + key + r'"\s*:')
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


#: nested values (struct and list columns) are collapsed innermost first, at most this deep
MAX_COLLAPSE = 64
_INNER_ARRAY = r"\[[^\[\]{}]*\]"
_INNER_OBJECT = r"([:\[,]\s*)\{[^{}\[\]]*\}"


def _collapse_nested(text: pa.Array) -> pa.Array:
    """Lines (string values already blanked) with every object and array *inside* ``data``
    replaced by ``0``, innermost first, so ``data`` is a flat object again; the envelope's and
    ``data``'s own braces stay (``data``'s is masked while collapsing)."""
    text = pc.replace_substring_regex(text, r'"data"\s*:\s*\{', '"data":<')
    for _ in range(MAX_COLLAPSE):
        nested = pc.or_(pc.match_substring_regex(text, _INNER_ARRAY), pc.match_substring_regex(text, _INNER_OBJECT))
        if not pc.any(pc.fill_null(nested, False)).as_py():
            break
        text = pc.replace_substring_regex(text, _INNER_ARRAY, "0")
        text = pc.replace_substring_regex(text, _INNER_OBJECT, r"\10")
    return pc.replace_substring_regex(text, r'"data":<', '"data":{')


def _required_keys(lines: pa.Array, masks: dict[str, np.ndarray], tables) -> list[dict]:
    text = pc.replace_substring_regex(lines.cast(pa.large_string()), _STRING_VALUE, ':""')
    # strings inside arrays (followed by "," or "]", never ":" as a key is) are blanked too
    text = _collapse_nested(pc.replace_substring_regex(text, r'"(?:[^"\\]|\\.)*"(\s*[,\]])', r'""\1'))
    data = pc.struct_field(pc.extract_regex(text, "(?P<d>" + _DATA_OBJECT + ")"), [0])
    top = pc.replace_substring_regex(text, _DATA_OBJECT, '"data":{}')
    n = len(lines)
    present = {k: _has_key(top, k) for k in ENVELOPE_KEYS}
    data_ok = np.asarray(data.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    bad = ~data_ok
    for k in ENVELOPE_KEYS:
        bad |= ~present[k]

    def missing(i: int) -> str:
        gone = [k for k in ENVELOPE_KEYS if not present[k][i]]
        if present["data"][i] and not data_ok[i]:
            gone.append("data (not a flat object)")
        return "missing " + ", ".join(gone)

    out = [failure("required_keys", None, None, int(bad.sum()), n, _line_samples(np.flatnonzero(bad), missing),
                   f"{int(bad.sum())} of {n} lines lack envelope keys ({', '.join(ENVELOPE_KEYS)})",
                   expected=list(ENVELOPE_KEYS))]
    if not bad.any():
        out[0]["message"] = f"all {n} lines have {', '.join(ENVELOPE_KEYS)}"
    for t in tables:
        mine = np.flatnonzero(masks[t.name])
        d = data.take(pa.array(mine))
        has = {c: _has_key(d, c) for c in t.column_names}
        lacks = np.zeros(mine.size, dtype=bool)
        for c in t.column_names:
            lacks |= ~has[c]
        idx = np.flatnonzero(lacks)
        res = failure("required_keys", t.name, None, int(idx.size), int(mine.size),
                      _line_samples(mine[idx], lambda i, _m=mine, _h=has, _c=t.column_names: "data lacks " + ", ".join(
                          c for c in _c if not _h[c][int(np.searchsorted(_m, i))])),
                      f"{idx.size} of {mine.size} {t.name} events lack columns in data",
                      expected=list(t.column_names))
        if not idx.size:
            res["message"] = f"all {mine.size} {t.name} events carry every column in data"
        out.append(res)
    return out


def _ts_and_late(fields: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    ts = fields.column("ts").cast(pa.int64()).fill_null(NULL_TIME).to_numpy()
    late = fields.column("late").fill_null(False).to_numpy()
    return np.asarray(ts, dtype=np.int64), np.asarray(late, dtype=bool)


def _ordering(fields: pa.Table) -> dict:
    ts, late = _ts_and_late(fields)
    n = int(ts.size)
    before = np.concatenate([[NULL_TIME], np.maximum.accumulate(ts)[:-1]]) if n else ts
    behind = ts < before
    bad = behind & ~late
    idx = np.flatnonzero(bad)
    ids = fields.column("event_id")

    def what(i: int) -> str:
        return (f"{ids[i].as_py()} (on time) has ts {_ts(ts[i])}, after an event at {_ts(before[i])}")

    res = failure("ordering", None, "ts", int(idx.size), n, _line_samples(idx, what),
                  f"{idx.size} on-time events arrive after an event with a later ts "
                  f"(only events flagged late may be out of order)",
                  late_events=int(late.sum()), late_out_of_order=int((behind & late).sum()))
    if not idx.size:
        res["message"] = (f"{n} events in time order, except {int((behind & late).sum())} of {int(late.sum())} "
                          f"events flagged late that arrive after later ones")
    return res


def _ts(us: int) -> str:
    return "null" if us == NULL_TIME else format_timestamp(int(us))


def _unique_ids(fields: pa.Table) -> dict:
    ids = fields.column("event_id").drop_null()
    vc = pc.value_counts(ids)
    counts = vc.field("counts").to_numpy()
    dup = counts > 1
    n_dup = int((counts[dup] - 1).sum())
    sample = vc.field("values").filter(pa.array(dup)).slice(0, SAMPLE).to_pylist()
    res = failure("unique_event_id", None, "event_id", n_dup, len(ids), sample,
                  f"{n_dup} events repeat an event_id of an earlier event")
    if not n_dup:
        res["message"] = f"{len(ids)} distinct event ids"
    return res


def _event_counts(tcol: pa.ChunkedArray, masks: dict[str, np.ndarray], tables, plan) -> list[dict]:
    out = []
    for t in tables:
        got = int(masks[t.name].sum())
        if plan is None:
            out.append(result("event_count", t.name, None, "skipped",
                              f"{got} events; no manifest, so the expected count is not known", observed=got))
            continue
        want = expected_rows(plan, t.name, got)  # one per row written (the dirty profile may add rows)
        out.append(result("event_count", t.name, None, "pass" if got == want else "fail",
                          f"{got} events, one per row" if got == want else f"expected {want} events, found {got}",
                          expected=want, observed=got))
    known = pa.array([t.name for t in tables], pa.string())
    stray = pc.invert(pc.fill_null(pc.is_in(tcol, value_set=known), False))
    n_stray = int(pc.sum(stray).as_py() or 0)
    names = pc.unique(pc.fill_null(tcol.filter(stray), "(no table)")).slice(0, SAMPLE).to_pylist() if n_stray else []
    out.append(result("event_count", None, None, "fail" if n_stray else "pass",
                      f"{n_stray} events name no event table of the schema" if n_stray else
                      "every event names an event table of the schema",
                      unexpected_count=n_stray, sample=names))
    return out


def _late(fields: pa.Table, masks: dict[str, np.ndarray], tables, plan) -> list[dict]:
    out = []
    ts, late = _ts_and_late(fields)
    seq = np.asarray(fields.column("seq").fill_null(-1).to_numpy(), dtype=np.int64)
    for t in tables:
        mine = masks[t.name]
        n = int(mine.sum())
        flagged = int(late[mine].sum())
        frac = flagged / n if n else 0.0
        rate = t.events.late_rate
        if plan is None:
            out.append(result("late_events", t.name, None, "skipped",
                              f"{flagged} of {n} events late ({frac:.2%}, late_rate {rate:.2%}); no manifest, "
                              f"so the keyed draw is not known", observed=flagged))
            continue
        s = seq[mine]
        want = late_flags(plan.seed, t.name, rate, np.maximum(s, 0), ts[mine] != NULL_TIME)
        differ = (want != late[mine]) | (s < 0)
        idx = np.flatnonzero(mine)[differ]
        res = failure("late_events", t.name, "late", int(differ.sum()), n,
                      [f"{t.name} seq {int(q)}" for q in s[differ][:SAMPLE]],
                      f"{int(differ.sum())} events flagged late or on time against the keyed draw (seed {plan.seed})",
                      expected=int(want.sum()), observed=flagged)
        if not idx.size:
            res["message"] = f"{flagged} of {n} events late ({frac:.2%}; late_rate {rate:.2%}), as drawn"
        out.append(res)
    return out
