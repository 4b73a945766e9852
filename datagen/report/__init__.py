"""``datagen report``: how faithful synthetic data is to real data (a fidelity report).

::

    >>> rep = datagen.report("real_data/", "out/synthetic", schema="schema.yaml")
    >>> rep.scores["overall"], rep.scores["properties"]["Column Shapes"]
    >>> rep.write("report.html"); rep.write("report.json")

Scores are SDMetrics' (the field's definitions, so numbers compare across tools; docs/report.md),
computed here on whole numpy arrays (``metrics``):

* **Column Shapes** — per column, KS complement (numerical, datetime) or TV complement
  (categorical, boolean); the mean over the columns of every table.
* **Column Pair Trends** — per pair of columns of a table, correlation similarity (two continuous
  columns, Pearson) or contingency similarity (otherwise; a continuous column binned); the mean
  over the pairs whose real association is strong enough (|ρ| > 0.5, Cramér's V > 0.3), as
  SDMetrics' QualityReport counts them.
* **Cardinality** (several tables) — per relationship, the KS complement of the children-per-parent
  counts.
* **Intertable Trends** (several tables) — pair trends between a parent's and a child's columns
  over the child-parent join.
* The **overall** quality score is the mean of the property scores (those that apply).

Besides: range and category coverage, missing-value similarity, referential integrity, and privacy
(distance to the closest record against a real holdout, the share of exact copies). The HTML is one
self-contained file (``html``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.report import metrics as m
from datagen.report.data import (
    CONTINUOUS,
    DISCRETE,
    Column,
    check_metadata,
    encode_column,
    infer_metadata,
    metadata_from_schema,
    read_synthetic,
    read_tables,
)
from shared.errors import UsageError

__all__ = ["report", "FidelityReport", "REPORT_VERSION", "DEFAULT_SAMPLE_ROWS", "DEFAULT_PRIVACY_ROWS",
           "PROPERTIES"]

REPORT_VERSION = 1
DEFAULT_SAMPLE_ROWS = 200_000
DEFAULT_PRIVACY_ROWS = 2_000
#: the share of the real rows held out for the privacy metrics when no holdout is given
HOLDOUT_SHARE = 0.2
#: SDMetrics QualityReport's defaults: a pair counts when the real data's association passes them
REAL_CORRELATION_THRESHOLD = 0.5
REAL_ASSOCIATION_THRESHOLD = 0.3
PROPERTIES = ("Column Shapes", "Column Pair Trends", "Cardinality", "Intertable Trends")
HIST_BINS = 20
TOP_CATEGORIES = 12
HEATMAP_COLUMNS = 16

# dataset positions in Column.values
REAL, SYN, HOLD = 0, 1, 2


def _num(x: float | None, digits: int = 6) -> float | None:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return None
    return round(float(x), digits)


def _mean(values: list[float]) -> float:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")


def _rng(seed: int, *names: str) -> np.random.Generator:
    digest = hashlib.blake2b("\x1f".join(["report", str(seed), *names]).encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def _label(source: Any) -> str:
    from datagen.fit.sources import source_label

    return source_label(source)


@dataclass
class FidelityReport:
    """The fidelity report: ``data`` is the JSON document (docs/report.md), ``scores`` its scores."""

    data: dict[str, Any]
    charts: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def scores(self) -> dict[str, Any]:
        return self.data["scores"]

    @property
    def metadata(self) -> dict[str, Any]:
        """The SDMetrics-shaped metadata the scores were computed with."""
        return self.data["metadata"]

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def to_html(self) -> str:
        from datagen.report.html import render

        return render(self)

    def write(self, path: str | Path, *, force: bool = False) -> Path:
        """Write ``path`` (``.html`` or ``.json``, by its suffix); an existing file needs ``force``."""
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in (".html", ".htm", ".json"):
            raise UsageError(f"--out {path}: the suffix says the format: .html or .json")
        if p.is_dir():
            raise UsageError(f"--out {path}: a folder (hint: give a file name, e.g. report.html)")
        if p.exists() and not force:
            raise UsageError(f"--out {path}: exists (hint: --force replaces it)")
        text = self.to_json() if suffix == ".json" else self.to_html()
        from shared.io.output import write_text_atomic

        write_text_atomic(p, text)
        return p


def report(real: Any, synthetic: Any, *, schema: Any = None, metadata: Mapping[str, Any] | None = None,
           holdout: Any = None, include: list[str] | None = None, sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
           privacy_rows: int = DEFAULT_PRIVACY_ROWS, seed: int = 0,
           real_correlation_threshold: float = REAL_CORRELATION_THRESHOLD,
           real_association_threshold: float = REAL_ASSOCIATION_THRESHOLD) -> FidelityReport:
    """Compare ``synthetic`` with ``real`` (each: a folder of CSV/Parquet/NDJSON files, an SQLite
    file, a PostgreSQL DSN or a mapping {table: DataFrame or Arrow table}; ``synthetic`` also a
    folder ``datagen generate`` wrote).

    ``schema``: the DSL schema (path, text, dict or loaded) that says types, keys, foreign keys
    and categories; else they are inferred from the real data (``datagen fit``'s inference).
    ``metadata``: SDMetrics-shaped metadata instead of either. ``holdout``: real rows the
    synthesizer never saw, for the privacy metrics (else a seeded 20 % of the real rows).
    ``sample_rows``: at most this many rows per table for the column and pair metrics (a seeded
    sample); ``privacy_rows``: at most this many rows per dataset in the distance computations."""
    if sample_rows is not None and (isinstance(sample_rows, bool) or sample_rows < 100):
        raise UsageError(f"--sample-rows {sample_rows}: must be at least 100")
    if isinstance(privacy_rows, bool) or privacy_rows < 10:
        raise UsageError(f"--privacy-rows {privacy_rows}: must be at least 10")
    model = None
    if schema is not None:
        from datagen.api import load_schema

        model = load_schema(schema)
    real_tables = read_tables(real, "--real", include)
    syn_tables = read_synthetic(synthetic, model, include)
    hold_tables = read_tables(holdout, "--holdout", include) if holdout is not None else None
    return _Builder(real_tables, syn_tables, hold_tables, model, metadata, sample_rows, privacy_rows, seed,
                    real_correlation_threshold, real_association_threshold,
                    {"real": _label(real), "synthetic": _label(synthetic),
                     "holdout": _label(holdout) if holdout is not None else None}).run()


def score_columns(real: pa.Table, synthetic: Mapping[str, pa.Table], sdtypes: Mapping[str, str]) -> dict[str, Any]:
    """Column Shapes and Column Pair Trends of each synthetic table against ``real`` over the
    columns of ``sdtypes`` ({column: numerical | datetime | categorical | boolean}), computed as
    ``report`` computes them (no sampling: give tables of the size to score). Used by ``fit``
    to compare two models of one table on the same real rows."""
    out: dict[str, Any] = {}
    names = [c for c in sdtypes if c in real.column_names]
    for label, syn in synthetic.items():
        cols = [encode_column(c, sdtypes[c], [real.column(c), syn.column(c)]) for c in names if c in syn.column_names]
        shapes = {c.name: m.ks_complement(c.values[REAL], c.values[SYN]) if c.continuous
                  else m.tv_complement(c.values[REAL], c.values[SYN]) for c in cols}
        pairs = _pair_trends([(c.name, c, c.values[REAL], c.values[SYN]) for c in cols], None,
                             REAL_CORRELATION_THRESHOLD, REAL_ASSOCIATION_THRESHOLD)
        counted = [p["_score"] for p in pairs if p["contributes"]]
        every = [p["_score"] for p in pairs if not math.isnan(p["_score"])]
        out[label] = {"rows": syn.num_rows, "column_shapes": _num(_mean(list(shapes.values()))),
                      "column_pair_trends": _num(_mean(counted)) if counted else None,
                      "all_pairs": _num(_mean(every)) if every else None,
                      "columns": {k: _num(v) for k, v in shapes.items()},
                      "pairs": [{"columns": p["columns"], "metric": p["metric"], "score": p["score"]} for p in pairs]}
    return out


class _Builder:
    def __init__(self, real: dict[str, pa.Table], syn: dict[str, pa.Table], hold: dict[str, pa.Table] | None,
                 model: Any, metadata: Mapping[str, Any] | None, sample_rows: int | None, privacy_rows: int,
                 seed: int, corr_t: float, assoc_t: float, labels: dict[str, Any]) -> None:
        self.real: dict[str, pa.Table] = real
        self.syn: dict[str, pa.Table] = syn
        self.hold: dict[str, pa.Table] | None = hold
        self.model = model
        self.given_metadata = metadata
        self.sample_rows = sample_rows
        self.privacy_rows = privacy_rows
        self.seed = seed
        self.corr_t = corr_t
        self.assoc_t = assoc_t
        self.labels = labels
        self.meta: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.charts: dict[str, Any] = {"columns": {}, "heatmaps": {}}
        self.columns: dict[str, dict[str, Column]] = {}
        self.holdout_mask: dict[str, np.ndarray] = {}

    # --- the whole report -----------------------------------------------------------------
    def run(self) -> FidelityReport:
        common = [t for t in self.real if t in self.syn]
        for t in self.real:
            if t not in self.syn:
                self.warnings.append(f"table {t}: in the real data only (left out)")
        for t in self.syn:
            if t not in self.real:
                self.warnings.append(f"table {t}: in the synthetic data only (left out)")
        if not common:
            raise UsageError(f"no table in both --real ({', '.join(self.real)}) and --synthetic "
                             f"({', '.join(self.syn)}) (hint: the same table names, e.g. the fitted schema's)")
        real = {t: self.real[t] for t in common}
        if self.given_metadata is not None:
            meta = check_metadata(self.given_metadata)
        elif self.model is not None:
            meta = metadata_from_schema(self.model, real)
        else:
            meta = infer_metadata(real)
        meta["tables"] = {t: v for t, v in meta["tables"].items() if t in real}
        unknown = [t for t in meta["tables"] if t not in real]
        if unknown:
            raise UsageError(f"metadata: no table {unknown[0]} in the data")
        meta["relationships"] = [r for r in meta["relationships"]
                                 if r["parent_table_name"] in meta["tables"] and r["child_table_name"] in meta["tables"]]
        self.meta = meta
        tables_out: dict[str, Any] = {}
        shape_scores: list[float] = []
        pair_scores: list[float] = []
        for tname in meta["tables"]:
            tables_out[tname] = self._table(tname, shape_scores, pair_scores)
        rels_out = []
        card_scores: list[float] = []
        inter_scores: list[float] = []
        for rel in meta["relationships"]:
            rels_out.append(self._relationship(rel, card_scores, inter_scores))
        props: dict[str, float | None] = {"Column Shapes": _num(_mean(shape_scores)),
                                          "Column Pair Trends": _num(_mean(pair_scores))}
        if len(meta["tables"]) > 1:
            props["Cardinality"] = _num(_mean(card_scores))
            props["Intertable Trends"] = _num(_mean(inter_scores))
        overall = _mean([v for v in props.values() if v is not None])
        data = {
            "version": REPORT_VERSION,
            "sources": dict(self.labels) | {"holdout": self.labels["holdout"] or
                                            f"a seeded {HOLDOUT_SHARE:.0%} of the real rows"},
            "seed": self.seed, "sample_rows": self.sample_rows, "privacy_rows": self.privacy_rows,
            "thresholds": {"real_correlation": self.corr_t, "real_association": self.assoc_t},
            "scores": {"overall": _num(overall), "properties": props},
            "tables": tables_out,
            "relationships": rels_out,
            "metadata": meta,
            "warnings": self.warnings,
        }
        return FidelityReport(data=data, charts=self.charts)

    # --- one table ------------------------------------------------------------------------
    def _encode(self, tname: str) -> dict[str, Column]:
        if tname in self.columns:
            return self.columns[tname]
        real, syn = self.real[tname], self.syn[tname]
        hold = self.hold.get(tname) if self.hold is not None else None
        if self.hold is not None and hold is None:
            self.warnings.append(f"table {tname}: not in --holdout (privacy compared on a split of the real rows)")
        spec = self.meta["tables"][tname]["columns"]
        cols: dict[str, Column] = {}
        for cname, cmeta in spec.items():
            sd = cmeta.get("sdtype")
            if cname not in real.column_names or cname not in syn.column_names:
                self.warnings.append(f"{tname}.{cname}: not in the "
                                     + ("synthetic" if cname in real.column_names else "real") + " data (left out)")
                continue
            arrays = [real.column(cname), syn.column(cname)]
            if hold is not None and cname in hold.column_names:
                arrays.append(hold.column(cname))
            try:
                if sd == "id":
                    cols[cname] = encode_column(cname, "id", arrays)
                elif sd in CONTINUOUS or sd in DISCRETE or sd == "text":
                    cols[cname] = encode_column(cname, sd, arrays)
            except (UsageError, pa.ArrowException) as exc:
                self.warnings.append(f"{tname}.{cname}: cannot compare it as {sd} ({exc}); left out")
        for cname in syn.column_names:
            if cname not in real.column_names:
                self.warnings.append(f"{tname}.{cname}: in the synthetic data only (left out)")
        self.columns[tname] = cols
        return cols

    def _sample(self, n: int, *names: str) -> np.ndarray | None:
        if self.sample_rows is None or n <= self.sample_rows:
            return None
        return np.sort(_rng(self.seed, *names).choice(n, self.sample_rows, replace=False))

    def _table(self, tname: str, shape_scores: list[float], pair_scores: list[float]) -> dict[str, Any]:
        cols = self._encode(tname)
        n_real, n_syn = self.real[tname].num_rows, self.syn[tname].num_rows
        pick_r = self._sample(n_real, tname, "real")
        pick_s = self._sample(n_syn, tname, "synthetic")

        def take(c: Column, d: int) -> np.ndarray:
            pick = pick_r if d == REAL else pick_s
            return c.values[d] if pick is None else c.values[d][pick]

        out_cols: dict[str, Any] = {}
        charts: dict[str, Any] = {}
        for cname, c in cols.items():
            r, s = take(c, REAL), take(c, SYN)
            entry: dict[str, Any] = {"sdtype": c.sdtype}
            if c.continuous:
                score = m.ks_complement(r, s)
                entry["shape"] = {"metric": "KSComplement", "score": _num(score)}
                entry["coverage"] = {"metric": "RangeCoverage", "score": _num(m.range_coverage(r, s))}
                shape_scores.append(score)
                charts[cname] = _hist_chart(c, r, s)
            elif c.discrete:
                score = m.tv_complement(r, s)
                entry["shape"] = {"metric": "TVComplement", "score": _num(score)}
                entry["coverage"] = {"metric": "CategoryCoverage", "score": _num(m.category_coverage(r, s))}
                shape_scores.append(score)
                charts[cname] = _bar_chart(c, r, s)
            if c.sdtype != "id":
                rm, sm = _missing(c, r), _missing(c, s)
                entry["missing"] = {"metric": "MissingValueSimilarity", "real": _num(float(rm.mean()) if len(rm) else None),
                                    "synthetic": _num(float(sm.mean()) if len(sm) else None),
                                    "score": _num(m.missing_value_similarity(rm, sm))}
            out_cols[cname] = entry
        self.charts["columns"][tname] = charts
        stat = [c for c in cols.values() if c.continuous or c.discrete]
        pairs = _pair_trends([(c.name, c, take(c, REAL), take(c, SYN)) for c in stat], None,
                             self.corr_t, self.assoc_t)
        pair_scores += [p["_score"] for p in pairs if p["contributes"]]
        for p in pairs:
            p.pop("_score")
        self.charts["heatmaps"][tname] = _heatmap([(c.name, take(c, REAL), take(c, SYN))
                                                   for c in stat if c.continuous][:HEATMAP_COLUMNS])
        return {"rows": {"real": n_real, "synthetic": n_syn},
                "sampled": {"real": pick_r is not None, "synthetic": pick_s is not None},
                "columns": out_cols, "pairs": pairs, "privacy": self._privacy(tname, cols)}

    # --- privacy --------------------------------------------------------------------------
    def _privacy(self, tname: str, cols: dict[str, Column]) -> dict[str, Any]:
        n_real = self.real[tname].num_rows
        stat = [c for c in cols.values() if c.continuous or c.discrete]
        hashed = [c for c in cols.values() if c.sdtype != "id"]
        given = self.hold is not None and tname in self.hold and all(len(c.values) > HOLD for c in cols.values())
        if self.hold is not None and tname in self.hold and not given:
            self.warnings.append(f"table {tname}: the holdout lacks some columns (privacy compared on a split "
                                 "of the real rows)")
        if given:
            train_idx = np.arange(n_real)
            hold_of = {c.name: c.values[HOLD] for c in cols.values()}
            source = "given"
        else:
            perm = _rng(self.seed, tname, "holdout").permutation(n_real)
            n_hold = int(round(n_real * HOLDOUT_SHARE))
            hold_idx, train_idx = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
            hold_of = {c.name: c.values[REAL][hold_idx] for c in cols.values()}
            source = "split"
        train_of = {c.name: c.values[REAL][train_idx] for c in cols.values()}
        out: dict[str, Any] = {"holdout": source, "columns": [c.name for c in stat]}
        n_train = len(train_idx)
        n_hold = len(next(iter(hold_of.values()))) if hold_of else 0
        n_syn = self.syn[tname].num_rows
        if hashed and n_train and n_syn:
            train_h = m.row_hashes([train_of[c.name] for c in hashed])
            syn_h = m.row_hashes([c.values[SYN] for c in hashed])
            out["exact_match"] = {"columns": [c.name for c in hashed],
                                  "synthetic": _num(float(np.isin(syn_h, train_h).mean())),
                                  "holdout": _num(float(np.isin(m.row_hashes([hold_of[c.name] for c in hashed]),
                                                                train_h).mean())) if n_hold else None}
        if not stat or not n_train or not n_hold or not n_syn:
            out["dcr"] = None
            return out
        k_ref = min(self.privacy_rows, n_train, n_hold)  # training and holdout alike: a fair race

        def sample(values: dict[str, np.ndarray] | None, n: int, name: str, d: int = SYN) -> list[np.ndarray]:
            k = self.privacy_rows if values is None else k_ref
            pick = None if n <= k else np.sort(_rng(self.seed, tname, "privacy", name).choice(n, k, replace=False))
            arrays = [values[c.name] if values is not None else c.values[d] for c in stat]
            return [a if pick is None else a[pick] for a in arrays]

        tr, ho, sy = sample(train_of, n_train, "train"), sample(hold_of, n_hold, "holdout"), sample(None, n_syn, "syn")
        kinds = ["continuous" if c.continuous else "discrete" for c in stat]

        def ranges(ref: list[np.ndarray]) -> list[float]:
            out_r = []
            for a, kind in zip(ref, kinds, strict=True):
                present = a[~np.isnan(a)] if kind == "continuous" else a
                out_r.append(float(present.max() - present.min()) if kind == "continuous" and len(present) else 0.0)
            return out_r

        tr_f = [a.astype(np.float64) if kd == "discrete" else a for a, kd in zip(tr, kinds, strict=True)]
        ho_f = [a.astype(np.float64) if kd == "discrete" else a for a, kd in zip(ho, kinds, strict=True)]
        sy_f = [a.astype(np.float64) if kd == "discrete" else a for a, kd in zip(sy, kinds, strict=True)]
        syn_train = m.dcr(sy_f, tr_f, kinds, ranges(tr_f))
        syn_hold = m.dcr(sy_f, ho_f, kinds, ranges(ho_f))
        hold_train = m.dcr(ho_f, tr_f, kinds, ranges(tr_f))
        closer = float((syn_train < syn_hold).mean())
        p5 = float(np.quantile(hold_train, 0.05))
        out["dcr"] = {
            "rows": {"synthetic": len(sy[0]), "train": len(tr[0]), "holdout": len(ho[0])},
            "overfitting_protection": _num(min((1.0 - closer) * 2.0, 1.0)),
            "closer_to_training": _num(closer),
            "synthetic_to_train": {"median": _num(float(np.median(syn_train))), "p5": _num(float(np.quantile(syn_train, 0.05))),
                                   "zero_share": _num(float((syn_train == 0).mean()))},
            "holdout_to_train": {"median": _num(float(np.median(hold_train))), "p5": _num(p5),
                                 "zero_share": _num(float((hold_train == 0).mean()))},
            "synthetic_below_holdout_p5": _num(float((syn_train < p5).mean())),
        }
        self.charts.setdefault("dcr", {})[tname] = {"synthetic": syn_train, "holdout": hold_train}
        return out

    # --- one relationship -----------------------------------------------------------------
    def _relationship(self, rel: dict[str, Any], card_scores: list[float], inter_scores: list[float]) -> dict[str, Any]:
        parent, child = rel["parent_table_name"], rel["child_table_name"]
        pk, fk = rel["parent_primary_key"], rel["child_foreign_key"]
        out: dict[str, Any] = {"parent": parent, "parent_key": pk, "child": child, "foreign_key": fk}
        if isinstance(pk, list) or isinstance(fk, list):
            self.warnings.append(f"{child}.{fk} → {parent}: composite keys are not compared")
            return out
        idx = []
        for d, tables in ((REAL, self.real), (SYN, self.syn)):
            p, c = tables[parent], tables[child]
            if pk not in p.column_names or fk not in c.column_names:
                which = "real" if d == REAL else "synthetic"
                self.warnings.append(f"{child}.{fk} → {parent}.{pk}: a key column is missing in the {which} data")
                return out
            idx.append(_lookup(c.column(fk), p.column(pk)))
        (r_idx, r_missing), (s_idx, s_missing) = idx
        counts_r = m.cardinality_counts(np.arange(self.real[parent].num_rows), r_idx)
        counts_s = m.cardinality_counts(np.arange(self.syn[parent].num_rows), s_idx)
        card = m.ks_complement(counts_r, counts_s)
        card_scores.append(card)
        out["cardinality"] = {"metric": "CardinalityShapeSimilarity", "score": _num(card),
                              "real": _counts_json(counts_r), "synthetic": _counts_json(counts_s)}
        out["referential_integrity"] = {"metric": "ReferentialIntegrity",
                                        "score": _num(m.referential_integrity(s_idx >= 0, s_missing,
                                                                              bool(r_missing.any()))),
                                        "real": _num(m.referential_integrity(r_idx >= 0, r_missing, False))}
        self.charts.setdefault("cardinality", {})[f"{child}.{fk}"] = (counts_r, counts_s)
        pcols, ccols = self._encode(parent), self._encode(child)
        rows = []
        for d, ix in ((REAL, r_idx), (SYN, s_idx)):
            child_rows = np.nonzero(ix >= 0)[0]
            pick = self._sample(len(child_rows), parent, child, fk, "join", str(d))
            if pick is not None:
                child_rows = child_rows[pick]
            rows.append((child_rows, ix[child_rows]))
        items = []
        for c in pcols.values():
            if c.continuous or c.discrete:
                items.append((f"{parent}.{c.name}", c, c.values[REAL][rows[0][1]], c.values[SYN][rows[1][1]]))
        n_parent_items = len(items)
        for c in ccols.values():
            if c.continuous or c.discrete:
                items.append((f"{child}.{c.name}", c, c.values[REAL][rows[0][0]], c.values[SYN][rows[1][0]]))
        cross = [(i, j) for i in range(n_parent_items) for j in range(n_parent_items, len(items))]
        pairs = _pair_trends(items, cross, self.corr_t, self.assoc_t)
        inter_scores += [p["_score"] for p in pairs if p["contributes"]]
        for p in pairs:
            p.pop("_score")
        out["intertable"] = pairs
        return out


def _lookup(child: pa.ChunkedArray, parent: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Each child key's parent row (−1: none), and which child keys are missing."""
    c = child.combine_chunks() if isinstance(child, pa.ChunkedArray) else child
    p = parent.combine_chunks() if isinstance(parent, pa.ChunkedArray) else parent
    if pa.types.is_dictionary(c.type):
        c = c.dictionary_decode()
    if pa.types.is_dictionary(p.type):
        p = p.dictionary_decode()
    if c.type != p.type:
        if pa.types.is_integer(c.type) and pa.types.is_integer(p.type):
            c, p = pc.cast(c, pa.int64()), pc.cast(p, pa.int64())
        else:
            c, p = pc.cast(c, pa.string()), pc.cast(p, pa.string())
    idx = pc.fill_null(pc.cast(pc.index_in(c, value_set=p), pa.int64()), -1).to_numpy(zero_copy_only=False)
    return np.asarray(idx, np.int64), pc.is_null(c).to_numpy(zero_copy_only=False)


def _counts_json(counts: np.ndarray) -> dict[str, Any]:
    if not len(counts):
        return {"parents": 0}
    return {"parents": int(len(counts)), "mean": _num(float(counts.mean()), 4), "max": int(counts.max()),
            "without_children": int((counts == 0).sum())}


def _missing(c: Column, values: np.ndarray) -> np.ndarray:
    return np.isnan(values) if c.continuous else values < 0


def _pair_trends(items: list[tuple[str, Column, np.ndarray, np.ndarray]], pairs: list[tuple[int, int]] | None,
                 corr_t: float, assoc_t: float) -> list[dict[str, Any]]:
    """Column pair trends as SDMetrics' property computes them: two continuous columns →
    correlation similarity (counted when |ρ_real| > ``corr_t``); otherwise contingency similarity
    with each continuous column binned over its own range (counted when the real Cramér's V >
    ``assoc_t``)."""
    binned: dict[tuple[int, int], np.ndarray] = {}

    def discrete(i: int, d: int) -> np.ndarray:
        name, c, r, s = items[i]
        if not c.continuous:
            return r if d == REAL else s
        if (i, d) not in binned:
            binned[(i, d)] = m.discretize(r if d == REAL else s)
        return binned[(i, d)]

    out = []
    for i, j in pairs if pairs is not None else itertools.combinations(range(len(items)), 2):
        (a, ca, ra, sa), (b, cb, rb, sb) = items[i], items[j]
        if ca.continuous and cb.continuous:
            score, rr, ss = m.correlation_similarity(ra, rb, sa, sb)
            contributes = not math.isnan(score) and (corr_t <= 0 or abs(rr) > corr_t)
            out.append({"columns": [a, b], "metric": "CorrelationSimilarity", "score": _num(score),
                        "real": _num(rr), "synthetic": _num(ss), "contributes": bool(contributes), "_score": score})
        else:
            xa, xb, ya, yb = discrete(i, REAL), discrete(j, REAL), discrete(i, SYN), discrete(j, SYN)
            score = m.contingency_similarity(xa, xb, ya, yb)
            v = m.cramers_v(xa, xb) if assoc_t > 0 else float("nan")
            contributes = not math.isnan(score) and (assoc_t <= 0 or (not math.isnan(v) and v > assoc_t))
            out.append({"columns": [a, b], "metric": "ContingencySimilarity", "score": _num(score),
                        "real_association": _num(v), "contributes": bool(contributes), "_score": score})
    return out


def _hist_chart(c: Column, r: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    rp, sp = r[~np.isnan(r)], s[~np.isnan(s)]
    both = np.concatenate([rp, sp])
    if not len(both):
        return {"kind": "empty"}
    lo, hi = float(np.quantile(both, 0.005)), float(np.quantile(both, 0.995))
    if lo == hi:
        lo, hi = float(both.min()), float(both.max()) + (1.0 if both.min() == both.max() else 0.0)
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    hr = np.histogram(np.clip(rp, lo, hi), edges)[0] / max(len(rp), 1)
    hs = np.histogram(np.clip(sp, lo, hi), edges)[0] / max(len(sp), 1)
    return {"kind": "hist", "datetime": c.sdtype == "datetime", "edges": edges.tolist(), "real": hr.tolist(),
            "synthetic": hs.tolist()}


def _bar_chart(c: Column, r: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    size = max(int(r.max(initial=-1)), int(s.max(initial=-1))) + 2
    fr = np.bincount(r + 1, minlength=size) / max(len(r), 1)
    fs = np.bincount(s + 1, minlength=size) / max(len(s), 1)
    order = [int(k) for k in np.argsort(-(fr[1:] + fs[1:] * 1e-9), kind="stable")[:TOP_CATEGORIES]]
    labels = c.labels or []
    names = [str(labels[k]) if k < len(labels) else "?" for k in order]
    real_v = [float(fr[k + 1]) for k in order]
    syn_v = [float(fs[k + 1]) for k in order]
    rest_r = float(fr[1:].sum()) - sum(real_v)
    rest_s = float(fs[1:].sum()) - sum(syn_v)
    if rest_r > 1e-12 or rest_s > 1e-12:
        names.append("(other)")
        real_v.append(rest_r)
        syn_v.append(rest_s)
    if fr[0] > 0 or fs[0] > 0:
        names.append("(missing)")
        real_v.append(float(fr[0]))
        syn_v.append(float(fs[0]))
    return {"kind": "bars", "labels": names, "real": real_v, "synthetic": syn_v}


def _heatmap(cols: list[tuple[str, np.ndarray, np.ndarray]]) -> dict[str, Any] | None:
    if len(cols) < 2:
        return None
    names = [n for n, _, _ in cols]
    k = len(cols)
    real = np.full((k, k), np.nan)
    syn = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(k):
            if i == j:
                real[i, j] = syn[i, j] = 1.0
            elif j > i:
                _, rr, ss = m.correlation_similarity(cols[i][1], cols[j][1], cols[i][2], cols[j][2])
                real[i, j] = real[j, i] = rr
                syn[i, j] = syn[j, i] = ss
    return {"columns": names, "real": real.tolist(), "synthetic": syn.tolist()}
