"""The fidelity report as one self-contained HTML file: inline CSS, inline SVG charts drawn here.

No script, no font, no image, no link leaves the file. Every value that comes from the data (table
and column names, category labels, sources) is escaped with :func:`html.escape`. Charts: per
column, real vs synthetic distributions (histograms of a continuous column on one shared grid,
bars of the most frequent categories); per table, Pearson correlation heat maps (real, synthetic,
absolute difference); per relationship, the children-per-parent distribution; per table, the
distance-to-closest-record distributions of the synthetic and holdout rows.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from typing import Any

import numpy as np

__all__ = ["render"]

REAL_COLOR = "#1f77b4"
SYN_COLOR = "#ff7f0e"
W, H = 360, 170
PAD_L, PAD_B, PAD_T = 38, 34, 10

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;
font-size:.9em}th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #e3e3e3;border-radius:6px;padding:6px}
.card h4{margin:0 0 4px;font-size:.9em}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
.big{font-size:2em;font-weight:600}.muted{color:#777;font-size:.85em}.warn{color:#a55}
svg text{font-size:10px;font-family:inherit}
"""


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return escape(str(x))


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * float(x):.1f}%"


def _score_color(x: float | None) -> str:
    if x is None:
        return "#eee"
    x = max(0.0, min(1.0, x))
    r = int(230 - 150 * x)
    g = int(90 + 120 * x)
    return f"rgb({r},{g},110)"


def _tick(v: float, datetime: bool) -> str:
    if datetime:
        try:
            return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=v)).strftime("%Y-%m-%d")
        except (OverflowError, ValueError):
            return "?"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-2):
        return f"{v:.2e}"
    return f"{v:.4g}"


def _legend() -> str:
    return (f'<div class="legend muted"><span style="background:{REAL_COLOR}"></span>real'
            f'<span style="background:{SYN_COLOR}"></span>synthetic</div>')


def _hist_svg(chart: dict[str, Any], title: str) -> str:
    edges, real, syn = chart["edges"], chart["real"], chart["synthetic"]
    top = max(max(real, default=0), max(syn, default=0)) or 1.0
    n = len(real)
    pw, ph = W - PAD_L - 6, H - PAD_B - PAD_T
    bw = pw / n
    parts = [f'<svg width="{W}" height="{H}" role="img" '
             f'aria-label="{escape(title)}">']
    for i in range(n):
        for k, (vals, color) in enumerate(((real, REAL_COLOR), (syn, SYN_COLOR))):
            h = ph * vals[i] / top
            x = PAD_L + i * bw + k * bw / 2
            parts.append(f'<rect x="{x:.1f}" y="{PAD_T + ph - h:.1f}" width="{bw / 2 - 0.5:.1f}" '
                         f'height="{h:.1f}" fill="{color}" fill-opacity="0.85"/>')
    parts.append(f'<line x1="{PAD_L}" y1="{PAD_T + ph}" x2="{PAD_L + pw}" y2="{PAD_T + ph}" stroke="#999"/>')
    for pos, v in ((0, edges[0]), (n // 2, edges[n // 2]), (n, edges[-1])):
        anchor = "start" if pos == 0 else ("end" if pos == n else "middle")
        parts.append(f'<text x="{PAD_L + pos * bw:.1f}" y="{H - PAD_B + 14}" text-anchor="{anchor}">'
                     f'{escape(_tick(v, chart["datetime"]))}</text>')
    parts.append(f'<text x="{PAD_L - 4}" y="{PAD_T + 8}" text-anchor="end">{_pct(top)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _bars_svg(chart: dict[str, Any], title: str) -> str:
    labels, real, syn = chart["labels"], chart["real"], chart["synthetic"]
    n = max(len(labels), 1)
    row = 16
    height = PAD_T + n * row + 10
    label_w = 110
    pw = W - label_w - 84  # room for the "real%/synthetic%" label
    top = max(max(real, default=0), max(syn, default=0)) or 1.0
    parts = [f'<svg width="{W}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">']
    for i, label in enumerate(labels):
        y = PAD_T + i * row
        text = label if len(label) <= 18 else label[:17] + "…"
        parts.append(f'<text x="{label_w - 4}" y="{y + 11}" text-anchor="end"><title>{escape(label)}</title>'
                     f'{escape(text)}</text>')
        for k, (vals, color) in enumerate(((real, REAL_COLOR), (syn, SYN_COLOR))):
            w = pw * vals[i] / top
            parts.append(f'<rect x="{label_w}" y="{y + 1 + k * 7}" width="{w:.1f}" height="6" fill="{color}"/>')
        parts.append(f'<text x="{label_w + pw + 4}" y="{y + 11}">{_pct(real[i])}/{_pct(syn[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _heat_color(v: float | None, diverging: bool) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "#eee"
    if diverging:  # −1 blue … 0 white … 1 red
        v = max(-1.0, min(1.0, v))
        if v >= 0:
            return f"rgb(255,{int(255 - 180 * v)},{int(255 - 180 * v)})"
        return f"rgb({int(255 + 180 * v)},{int(255 + 180 * v)},255)"
    v = max(0.0, min(1.0, v))  # 0 white … 1 dark
    return f"rgb({int(255 - 200 * v)},{int(255 - 120 * v)},{int(255 - 60 * v)})"


def _heat_svg(names: list[str], matrix: list[list[float]], title: str, diverging: bool) -> str:
    k = len(names)
    cell = max(14, min(28, 320 // max(k, 1)))
    label_w = 100
    size = label_w + k * cell + 6
    parts = [f'<svg width="{size}" height="{size}" role="img" '
             f'aria-label="{escape(title)}">']
    for i, name in enumerate(names):
        short = escape(name if len(name) <= 14 else name[:13] + "…")
        parts.append(f'<text x="{label_w - 4}" y="{label_w + i * cell + cell * 0.7:.1f}" text-anchor="end">'
                     f'{short}</text>')
        x = label_w + i * cell + cell * 0.7
        parts.append(f'<text x="{x:.1f}" y="{label_w - 4}" transform="rotate(-60 {x:.1f} {label_w - 4})">'
                     f'{short}</text>')
        for j in range(k):
            v = matrix[i][j]
            val = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            parts.append(f'<rect x="{label_w + j * cell}" y="{label_w + i * cell}" width="{cell - 1}" '
                         f'height="{cell - 1}" fill="{_heat_color(val, diverging)}"><title>'
                         f'{escape(names[i])} × {escape(names[j])}: {_f(val)}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _card(title: str, body: str, note: str = "") -> str:
    return (f'<div class="card"><h4>{escape(title)}</h4>{body}'
            + (f'<div class="muted">{note}</div>' if note else "") + "</div>")


def _counts_chart(real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
    hi = int(max(np.quantile(real, 0.99) if len(real) else 0, np.quantile(syn, 0.99) if len(syn) else 0)) + 1
    edges = np.arange(0, hi + 1) if hi <= 30 else np.linspace(0, hi, 21)
    if len(edges) < 2:
        edges = np.array([0.0, 1.0])
    hr = np.histogram(np.clip(real, 0, edges[-1]), edges)[0] / max(len(real), 1)
    hs = np.histogram(np.clip(syn, 0, edges[-1]), edges)[0] / max(len(syn), 1)
    return {"edges": edges.tolist(), "real": hr.tolist(), "synthetic": hs.tolist(), "datetime": False}


def render(rep: Any) -> str:
    d = rep.data
    charts = rep.charts
    out: list[str] = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      "<title>datagen fidelity report</title>", f"<style>{CSS}</style></head><body>",
                      "<h1>Fidelity report</h1>"]
    src = d["sources"]
    out.append(f'<p class="muted">real: {escape(str(src["real"]))} · synthetic: {escape(str(src["synthetic"]))} · '
               f'holdout: {escape(str(src["holdout"]))} · seed {escape(str(d["seed"]))}. Scores are SDMetrics\' '
               "definitions (1 = identical); see docs/report.md.</p>")
    overall = d["scores"]["overall"]
    out.append(f'<p>Overall quality <span class="big">{_pct(overall)}</span></p>')
    out.append("<table><tr><th>property</th><th>score</th></tr>")
    for name, v in d["scores"]["properties"].items():
        out.append(f'<tr><td>{escape(name)}</td><td class="n" style="background:{_score_color(v)}">'
                   f"{_pct(v)}</td></tr>")
    out.append("</table>")
    if d["warnings"]:
        out.append("<h3>Warnings</h3><ul>" + "".join(f'<li class="warn">{escape(w)}</li>' for w in d["warnings"])
                   + "</ul>")
    # summary per table
    out.append("<h2>Tables</h2><table><tr><th>table</th><th>real rows</th><th>synthetic rows</th>"
               "<th>column shapes</th><th>pair trends</th><th>exact copies</th><th>DCR protection</th></tr>")
    for tname, t in d["tables"].items():
        shapes = [c["shape"]["score"] for c in t["columns"].values() if "shape" in c and c["shape"]["score"] is not None]
        pairs = [p["score"] for p in t["pairs"] if p["contributes"] and p["score"] is not None]
        priv = t["privacy"]
        exact = priv.get("exact_match", {}).get("synthetic") if priv.get("exact_match") else None
        prot = priv["dcr"]["overfitting_protection"] if priv.get("dcr") else None
        out.append(f'<tr><td><a href="#t-{escape(tname)}">{escape(tname)}</a></td>'
                   f'<td class="n">{t["rows"]["real"]:,}</td><td class="n">{t["rows"]["synthetic"]:,}</td>'
                   f'<td class="n">{_pct(float(np.mean(shapes)) if shapes else None)}</td>'
                   f'<td class="n">{_pct(float(np.mean(pairs)) if pairs else None)}</td>'
                   f'<td class="n">{_pct(exact)}</td><td class="n">{_pct(prot)}</td></tr>')
    out.append("</table>")
    for tname, t in d["tables"].items():
        out.append(f'<h2 id="t-{escape(tname)}">Table {escape(tname)}</h2>')
        out.append("<table><tr><th>column</th><th>sdtype</th><th>shape metric</th><th>score</th>"
                   "<th>coverage</th><th>missing real / synthetic</th><th>missing similarity</th></tr>")
        for cname, c in t["columns"].items():
            shape = c.get("shape") or {}
            cov = c.get("coverage") or {}
            miss = c.get("missing") or {}
            out.append(f"<tr><td>{escape(cname)}</td><td>{escape(c['sdtype'])}</td>"
                       f"<td>{escape(shape.get('metric', ''))}</td>"
                       f'<td class="n" style="background:{_score_color(shape.get("score"))}">{_f(shape.get("score"))}</td>'
                       f'<td class="n">{escape(cov.get("metric", ""))} {_f(cov.get("score"))}</td>'
                       f'<td class="n">{_pct(miss.get("real"))} / {_pct(miss.get("synthetic"))}</td>'
                       f'<td class="n">{_f(miss.get("score"))}</td></tr>')
        out.append("</table>")
        col_charts = charts.get("columns", {}).get(tname, {})
        if col_charts:
            out.append("<h3>Distributions</h3>" + _legend() + '<div class="grid">')
            for cname, ch in col_charts.items():
                title = f"{tname}.{cname}"
                if ch["kind"] == "hist":
                    out.append(_card(cname, _hist_svg(ch, title)))
                elif ch["kind"] == "bars":
                    out.append(_card(cname, _bars_svg(ch, title), "real / synthetic share"))
            out.append("</div>")
        heat = charts.get("heatmaps", {}).get(tname)
        if heat:
            names = heat["columns"]
            diff = [[abs(a - b) if not (math.isnan(a) or math.isnan(b)) else float("nan")
                     for a, b in zip(ra, sa, strict=True)] for ra, sa in zip(heat["real"], heat["synthetic"], strict=True)]
            out.append("<h3>Correlations (Pearson)</h3><div class=\"grid\">"
                       + _card("real", _heat_svg(names, heat["real"], f"{tname} real correlations", True))
                       + _card("synthetic", _heat_svg(names, heat["synthetic"], f"{tname} synthetic correlations", True))
                       + _card("|real − synthetic|", _heat_svg(names, diff, f"{tname} correlation difference", False))
                       + "</div>")
        if t["pairs"]:
            counted = [p for p in t["pairs"] if p["contributes"]]
            th = d["thresholds"]
            out.append(f'<h3>Column pairs</h3><p class="muted">{len(counted)} of {len(t["pairs"])} pairs count '
                       f"towards Column Pair Trends (real |ρ| &gt; {_f(th['real_correlation'], 2)} or Cramér's V "
                       f"&gt; {_f(th['real_association'], 2)}).</p>")
            out.append(_pairs_table(sorted(t["pairs"], key=lambda p: (not p["contributes"], p["score"] or 0))[:40]))
        out.append(_privacy_html(tname, t["privacy"], charts.get("dcr", {}).get(tname)))
    if d["relationships"]:
        out.append("<h2>Relationships</h2><table><tr><th>child → parent</th><th>cardinality shape</th>"
                   "<th>children per parent real / synthetic (mean, max)</th><th>referential integrity</th>"
                   "<th>intertable trends</th></tr>")
        for r in d["relationships"]:
            card = r.get("cardinality") or {}
            ri = r.get("referential_integrity") or {}
            inter = [p["score"] for p in r.get("intertable", []) if p["contributes"] and p["score"] is not None]
            cr, cs = card.get("real", {}), card.get("synthetic", {})
            out.append(f"<tr><td>{escape(r['child'])}.{escape(str(r['foreign_key']))} → "
                       f"{escape(r['parent'])}.{escape(str(r['parent_key']))}</td>"
                       f'<td class="n" style="background:{_score_color(card.get("score"))}">{_f(card.get("score"))}</td>'
                       f'<td class="n">{_f(cr.get("mean"), 2)}, {_f(cr.get("max"))} / {_f(cs.get("mean"), 2)}, '
                       f'{_f(cs.get("max"))}</td><td class="n">{_pct(ri.get("score"))}</td>'
                       f'<td class="n">{_pct(float(np.mean(inter)) if inter else None)}</td></tr>')
        out.append("</table>" + _legend() + '<div class="grid">')
        for key, (cr_, cs_) in charts.get("cardinality", {}).items():
            out.append(_card(f"children per parent: {key}", _hist_svg(_counts_chart(cr_, cs_), key)))
        out.append("</div>")
    out.append('<p class="muted">Written by datagen report. Self-contained: no script, no external resource.</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _pairs_table(pairs: list[dict[str, Any]]) -> str:
    rows = ["<table><tr><th>columns</th><th>metric</th><th>score</th><th>real</th><th>synthetic</th>"
            "<th>counted</th></tr>"]
    for p in pairs:
        real = p.get("real", p.get("real_association"))
        rows.append(f"<tr><td>{escape(p['columns'][0])} × {escape(p['columns'][1])}</td><td>{escape(p['metric'])}</td>"
                    f'<td class="n" style="background:{_score_color(p["score"])}">{_f(p["score"])}</td>'
                    f'<td class="n">{_f(real)}</td><td class="n">{_f(p.get("synthetic"))}</td>'
                    f"<td>{_f(p['contributes'])}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _privacy_html(tname: str, priv: dict[str, Any], dcr_data: dict[str, np.ndarray] | None) -> str:
    out = ["<h3>Privacy</h3>"]
    em = priv.get("exact_match")
    if em:
        out.append(f"<p>Exact copies of real rows: <b>{_pct(em['synthetic'])}</b> of the synthetic rows "
                   f"(holdout rows that equal a training row: {_pct(em['holdout'])}).</p>")
    dcr = priv.get("dcr")
    if not dcr:
        out.append('<p class="muted">No distance to closest record: no comparable column or rows.</p>')
        return "".join(out)
    out.append(f"<p>Distance to closest record (holdout: {escape(priv['holdout'])}): "
               f"{_pct(dcr['closer_to_training'])} of the synthetic rows are closer to the training rows than to the "
               f"holdout (50% is ideal); overfitting protection <b>{_pct(dcr['overfitting_protection'])}</b>. "
               f"Median DCR synthetic → train {_f(dcr['synthetic_to_train']['median'])}, holdout → train "
               f"{_f(dcr['holdout_to_train']['median'])}; {_pct(dcr['synthetic_below_holdout_p5'])} of synthetic rows "
               "are closer than the holdout's 5th percentile.</p>")
    if dcr_data is not None:
        s, h = dcr_data["synthetic"], dcr_data["holdout"]
        hi = float(max(s.max(initial=0), h.max(initial=0))) or 1.0
        edges = np.linspace(0, hi, 21)
        chart = {"edges": edges.tolist(), "real": (np.histogram(h, edges)[0] / max(len(h), 1)).tolist(),
                 "synthetic": (np.histogram(s, edges)[0] / max(len(s), 1)).tolist(), "datetime": False}
        out.append('<div class="grid">' + _card("DCR to the training rows: holdout (blue) vs synthetic (orange)",
                                                _hist_svg(chart, f"{tname} DCR")) + "</div>")
    return "".join(out)
