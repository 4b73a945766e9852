"""SynthoHive's interface over datagen: a migration layer for code written against SynthoHive.

::

    >>> from datagen.synthohive import Metadata, PrivacyConfig, Synthesizer
    >>> meta = Metadata()
    >>> meta.add_table("users", pk="user_id")
    >>> meta.add_table("orders", pk="order_id", fk={"user_id": "users.user_id"})
    >>> synth = Synthesizer(meta, PrivacyConfig(pii_columns=["users.email"]), seed=7)
    >>> synth.fit(data={"users": users_df, "orders": orders_df})
    >>> frames = synth.sample(num_rows={"users": 1000})    # orders: by the learned children per user
    >>> synth.generate_validation_report({"users": users_df, "orders": orders_df}, frames, "report.html")
    >>> synth.save("synth/"); Synthesizer.load("synth/").sample({"users": 10})

Thin: ``fit`` is :func:`datagen.fit` (statistics, no neural network) and keeps its schema — the
DSL document, editable (``synth.schema``, ``synth.to_yaml()``); the metadata's declarations are
applied to that schema before it is used (declared keys, foreign keys and constraints win over
what ``fit`` found; a table with no declared foreign key is a root, sampled by count; a table
with one gets its rows per parent from the source's children per parent); ``sample`` is
:func:`datagen.to_pandas` (or :func:`datagen.generate` with ``output_path``);
``generate_validation_report`` is :func:`datagen.report`; ``save_to_hive`` is
:func:`datagen.spark.register_tables`; ``save``/``load`` write and read the schema YAML and a
small JSON of settings — never a row of real data. docs/fit.md#coming-from-synthohive.

Errors are ``datagen.UsageError`` (every problem of the metadata in one message) or what the
functions underneath raise (``SchemaError`` for an edited schema the loader refuses).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.errors import UsageError
from shared.registry import did_you_mean

__all__ = ["Constraint", "TableConfig", "Metadata", "PrivacyConfig", "Synthesizer", "PII_STRATEGIES",
           "LINKAGE_METHODS", "TRAINING_ONLY"]

#: SynthoHive's ``pii_strategy`` → datagen's privacy strategy (docs/privacy.md)
PII_STRATEGIES = {"mask": "mask", "faker": "fake", "context_aware_faker": "fake"}
LINKAGE_METHODS = ("empirical", "negbinom")
#: keywords of SynthoHive's neural training that have no meaning here (nothing is trained)
TRAINING_ONLY = ("epochs", "batch_size", "progress_bar", "checkpoint_interval", "checkpoint_dir", "embedding_dim",
                 "model", "embedding_threshold", "sampling_strategy")
SAVE_FORMAT = "datagen-synthohive"
SAVE_VERSION = 1
SCHEMA_FILE = "schema.yaml"
SETTINGS_FILE = "synthesizer.json"
#: at most this many problems are listed in one error
MAX_PROBLEMS = 10
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _raise(problems: list[str], what: str) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS]
    more = f"\n  … and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
    raise UsageError(f"{what}: {len(problems)} problem(s)\n  " + "\n  ".join(shown) + more)


def _hint(name: str, choices: Any) -> str:
    h = did_you_mean(name, choices)
    return f" ({h})" if h else ""


# --- the configuration objects ------------------------------------------------------------
@dataclass
class Constraint:
    """A column's constraint: ``dtype`` (``"int"`` or ``"float"``), ``min``, ``max`` — and, beyond
    SynthoHive, ``unique`` and ``allowed`` (the permitted values). Applied to the fitted schema's
    column (``type``, ``min``/``max``, ``unique``, ``allowed``): the engine keeps every value inside."""

    dtype: str | None = None
    min: float | None = None
    max: float | None = None
    unique: bool | None = None
    allowed: list[Any] | None = None

    def __post_init__(self) -> None:
        if self.dtype is not None and self.dtype not in ("int", "float"):
            raise UsageError(f"Constraint(dtype={self.dtype!r}): 'int' or 'float'")
        for name in ("min", "max"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise UsageError(f"Constraint({name}={v!r}): a number")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise UsageError(f"Constraint(min={self.min}, max={self.max}): min is above max")
        if self.allowed is not None:
            if isinstance(self.allowed, str | bytes) or not hasattr(self.allowed, "__iter__"):
                raise UsageError(f"Constraint(allowed={self.allowed!r}): a list of values")
            self.allowed = list(self.allowed)
            if not self.allowed:
                raise UsageError("Constraint(allowed=[]): at least one value")


@dataclass
class TableConfig:
    """One table: its primary key ``pk``, foreign keys ``fk`` (``{column: "parent.column"}``),
    ``constraints`` (``{column: Constraint}``) and ``pii_cols``. ``high_cardinality_cols``,
    ``parent_context_cols`` and ``linkage_method`` are checked and recorded; datagen's fit has its
    own answer to each (docs/fit.md#coming-from-synthohive)."""

    name: str
    pk: str | list[str] | None = None
    pii_cols: list[str] = field(default_factory=list)
    high_cardinality_cols: list[str] = field(default_factory=list)
    fk: dict[str, str] = field(default_factory=dict)
    parent_context_cols: list[str] = field(default_factory=list)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    linkage_method: str = "empirical"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _IDENT.fullmatch(self.name):
            raise UsageError(f"table name {self.name!r}: an identifier ([A-Za-z_][A-Za-z0-9_]*)")
        if self.pk is not None and not isinstance(self.pk, str):
            if isinstance(self.pk, list | tuple) and self.pk and all(isinstance(c, str) for c in self.pk):
                self.pk = list(self.pk)
            else:
                raise UsageError(f"{self.name}: pk={self.pk!r} (a column name or a list of them)")
        for attr in ("pii_cols", "high_cardinality_cols", "parent_context_cols"):
            v = getattr(self, attr)
            if isinstance(v, str) or not all(isinstance(c, str) for c in v):
                raise UsageError(f"{self.name}: {attr}={v!r} (a list of column names)")
            setattr(self, attr, list(v))
        if not isinstance(self.fk, Mapping):
            raise UsageError(f"{self.name}: fk={self.fk!r} (a mapping {{column: 'parent_table.parent_column'}})")
        self.fk = {str(k): str(v) for k, v in self.fk.items()}
        if not isinstance(self.constraints, Mapping):
            raise UsageError(f"{self.name}: constraints={self.constraints!r} (a mapping {{column: Constraint}})")
        self.constraints = {str(c): v if isinstance(v, Constraint) else _constraint(self.name, str(c), v)
                            for c, v in self.constraints.items()}
        if self.linkage_method not in LINKAGE_METHODS:
            raise UsageError(f"{self.name}: linkage_method={self.linkage_method!r} (one of {', '.join(LINKAGE_METHODS)})")

    @property
    def has_dependencies(self) -> bool:
        return bool(self.fk)

    @property
    def primary_key(self) -> list[str]:
        return [] if self.pk is None else [self.pk] if isinstance(self.pk, str) else list(self.pk)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["constraints"] = {c: {k: v for k, v in asdict(x).items() if v is not None}
                              for c, x in self.constraints.items()}
        return out


def _constraint(table: str, column: str, value: Any) -> Constraint:
    if not isinstance(value, Mapping):
        raise UsageError(f"{table}.{column}: a constraint is a Constraint or a mapping, not {type(value).__name__}")
    unknown = [k for k in value if k not in ("dtype", "min", "max", "unique", "allowed")]
    if unknown:
        raise UsageError(f"{table}.{column}: unknown constraint field {unknown[0]!r}"
                         + _hint(unknown[0], ("dtype", "min", "max", "unique", "allowed")))
    return Constraint(**value)


@dataclass
class Metadata:
    """The dataset's tables (``{name: TableConfig}``). ``add_table(name, pk=…, fk=…, …)`` adds one;
    ``validate_schema(real_data)`` checks the references (and, given the data, every column named)
    and raises one ``UsageError`` listing every problem."""

    tables: dict[str, TableConfig] = field(default_factory=dict)

    def add_table(self, name: str, pk: str | list[str] | None = None, **kwargs: Any) -> TableConfig:
        if name in self.tables:
            raise UsageError(f"add_table({name!r}): the table is already in the metadata")
        fields = set(TableConfig.__dataclass_fields__) - {"name", "pk"}
        unknown = [k for k in kwargs if k not in fields]
        if unknown:
            raise UsageError(f"add_table({name!r}, {unknown[0]}=…): no such field" + _hint(unknown[0], fields)
                             + f"; fields: {', '.join(sorted(fields))}")
        self.tables[name] = TableConfig(name=name, pk=pk, **kwargs)
        return self.tables[name]

    def get_table(self, name: str) -> TableConfig | None:
        return self.tables.get(name)

    def validate_schema(self, real_data: Mapping[str, Any] | None = None) -> None:
        """Every foreign key names ``parent.column`` of a table in the metadata; given
        ``real_data`` (``{table: DataFrame or Arrow table}``), every table of the metadata is there
        and every column the metadata names exists."""
        columns = None
        if real_data is not None:
            columns = {}
            for t, v in real_data.items():
                names = getattr(v, "column_names", None)
                columns[t] = list(names) if names is not None else [str(c) for c in getattr(v, "columns", [])]
        _raise(self._problems(columns), "the metadata")

    def _problems(self, columns: Mapping[str, list[str]] | None) -> list[str]:
        problems: list[str] = []

        def check_column(t: str, c: str, what: str) -> None:
            if columns is not None and t in columns and c not in columns[t]:
                problems.append(f"{t}.{c} ({what}): no such column in the data" + _hint(c, columns[t]))

        for t, cfg in self.tables.items():
            if t != cfg.name:
                problems.append(f"tables[{t!r}]: the TableConfig is named {cfg.name!r}")
            if columns is not None and t not in columns:
                problems.append(f"{t}: in the metadata, not in the data" + _hint(t, columns)
                                + f"; tables given: {', '.join(sorted(columns)) or 'none'}")
                continue
            for c in cfg.primary_key:
                check_column(t, c, "pk")
            for c, ref in cfg.fk.items():
                check_column(t, c, "fk")
                parent, dot, pcol = ref.partition(".")
                if not dot or not parent or not pcol:
                    problems.append(f"{t}.{c} (fk): {ref!r} is not 'parent_table.parent_column'")
                elif parent not in self.tables:
                    problems.append(f"{t}.{c} (fk): no table {parent!r} in the metadata" + _hint(parent, self.tables))
                else:
                    check_column(parent, pcol, f"referenced by {t}.{c}")
            for c in cfg.constraints:
                check_column(t, c, "constraints")
            for attr in ("pii_cols", "high_cardinality_cols"):
                for c in getattr(cfg, attr):
                    check_column(t, c, attr)
            parents = {ref.partition(".")[0] for ref in cfg.fk.values()}
            for ref in cfg.parent_context_cols:
                parent, dot, pcol = ref.partition(".")
                if not dot or parent not in parents:
                    problems.append(f"{t}: parent_context_cols {ref!r} is not 'parent.column' of a parent in its fk"
                                    + (f" ({', '.join(sorted(parents))})" if parents else " (it has no fk)"))
                else:
                    check_column(parent, pcol, f"parent_context_cols of {t}")
        return problems

    def to_dict(self) -> dict[str, Any]:
        return {"tables": {t: cfg.to_dict() for t, cfg in self.tables.items()}}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Metadata:
        meta = cls()
        for t, cfg in (doc.get("tables") or {}).items():
            meta.tables[t] = TableConfig(**cfg)
        return meta


@dataclass
class PrivacyConfig:
    """SynthoHive's privacy settings, mapped onto :class:`datagen.PrivacyConfig` (docs/privacy.md):

    * ``enable_differential_privacy`` and ``epsilon`` → ``epsilon`` (differential privacy through
      OpenDP; off: no noise), ``delta`` (datagen's, for text categories) as given;
    * ``pii_columns`` (``"table.column"``, or a bare column name: every table that has it) and
      each table's ``pii_cols`` → ``strategies`` with ``pii_strategy`` (``mask`` → mask, ``faker``
      and ``context_aware_faker`` → fake); columns detected as PII are faked anyway;
    * ``k_anonymity_threshold`` → ``k`` (a category seen in fewer rows is never written)."""

    enable_differential_privacy: bool = False
    epsilon: float = 1.0
    pii_strategy: str = "context_aware_faker"
    k_anonymity_threshold: int = 5
    pii_columns: list[str] = field(default_factory=list)
    delta: float | None = None

    def __post_init__(self) -> None:
        if self.pii_strategy not in PII_STRATEGIES:
            raise UsageError(f"PrivacyConfig(pii_strategy={self.pii_strategy!r}): one of {', '.join(PII_STRATEGIES)}"
                             + _hint(self.pii_strategy, PII_STRATEGIES))
        if isinstance(self.epsilon, bool) or not isinstance(self.epsilon, int | float) or not self.epsilon > 0:
            raise UsageError(f"PrivacyConfig(epsilon={self.epsilon!r}): must be a number > 0")
        k = self.k_anonymity_threshold
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise UsageError(f"PrivacyConfig(k_anonymity_threshold={k!r}): an integer ≥ 1")
        if isinstance(self.pii_columns, str):
            raise UsageError(f"PrivacyConfig(pii_columns={self.pii_columns!r}): a list of 'table.column' names")
        self.pii_columns = [str(c) for c in self.pii_columns]

    def strategies(self, metadata: Metadata, columns: Mapping[str, list[str]]) -> dict[str, str]:
        """``{"table.column": strategy}`` for the columns named here and in the metadata's ``pii_cols``."""
        strategy = PII_STRATEGIES[self.pii_strategy]
        out: dict[str, str] = {}
        problems: list[str] = []
        for name in self.pii_columns:
            t, dot, c = name.rpartition(".")
            if dot:
                if t not in columns:
                    problems.append(f"pii_columns {name!r}: no table {t!r}" + _hint(t, columns))
                elif c not in columns[t]:
                    problems.append(f"pii_columns {name!r}: no column {c!r} in {t}" + _hint(c, columns[t]))
                else:
                    out[name] = strategy
                continue
            found = [tn for tn, cols in columns.items() if name in cols]
            if not found:
                every = sorted({col for cols in columns.values() for col in cols})
                problems.append(f"pii_columns {name!r}: no table has this column" + _hint(name, every))
            out.update({f"{tn}.{name}": strategy for tn in found})
        for t, cfg in metadata.tables.items():
            out.update({f"{t}.{c}": strategy for c in cfg.pii_cols})
        _raise(problems, "PrivacyConfig")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the synthesizer ----------------------------------------------------------------------
class Synthesizer:
    """SynthoHive's ``Synthesizer`` over :func:`datagen.fit` and the engine.

    ``privacy_config``: this module's :class:`PrivacyConfig` (SynthoHive's fields), or
    :class:`datagen.PrivacyConfig` as it is; ``spark_session``: for ``save_to_hive`` and for data
    given as Hive table names; ``seed``: the schema's root seed (``sample(seed=…)`` overrides)."""

    def __init__(self, metadata: Metadata | None = None, privacy_config: Any = None, spark_session: Any = None,
                 *, seed: int | None = None):
        from datagen.fit import PrivacyConfig as DatagenPrivacy

        if metadata is not None and not isinstance(metadata, Metadata):
            raise UsageError(f"Synthesizer(metadata=…): a datagen.synthohive.Metadata, not {type(metadata).__name__}")
        if privacy_config is not None and not isinstance(privacy_config, PrivacyConfig | DatagenPrivacy):
            raise UsageError("Synthesizer(privacy_config=…): a datagen.synthohive.PrivacyConfig or a "
                             f"datagen.PrivacyConfig, not {type(privacy_config).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise UsageError(f"Synthesizer(seed={seed!r}): an integer ≥ 0")
        self.metadata = metadata or Metadata()
        self.privacy = privacy_config
        self.spark = spark_session
        self.seed = seed
        self.fit_result: Any = None  # datagen.FitResult once fitted or loaded
        self._saved_yaml: str | None = None  # the YAML read by load(), while the schema is unchanged
        self._saved_schema: str | None = None

    # --- fit ------------------------------------------------------------------------------
    def fit(self, data: Any, sample_size: int | None = None, validate: bool = True, seed: int | None = None,
            **training: Any) -> Synthesizer:
        """Learn the schema from ``data``: ``{table: DataFrame, Arrow table, file or folder path,
        or — with a Spark session — a Hive table name}``, a folder / SQLite file / PostgreSQL DSN,
        or (with a Spark session) a Hive database name. ``sample_size``: rows per table learned
        from (``datagen.fit``'s ``sample_rows``); ``seed``: as ``Synthesizer(seed=…)``. The
        metadata is always validated against the data first (``validate`` is accepted for
        SynthoHive's signature). Returns ``self``."""
        from datagen.fit import PrivacyConfig as DatagenPrivacy
        from datagen.fit import fit

        bad = [k for k in training if k in TRAINING_ONLY]
        if bad:
            raise UsageError(f"fit({bad[0]}=…): SynthoHive's neural training has no counterpart here — datagen fits "
                             "statistics into an editable schema; drop the argument (docs/fit.md#coming-from-synthohive)")
        if training:
            name = next(iter(training))
            raise UsageError(f"fit({name}=…): unknown argument" + _hint(name, ("data", "sample_size", "seed")))
        if seed is not None:
            self.seed = seed
        tables = self._read(data, "data")
        columns = {t: list(tab.column_names) for t, tab in tables.items()}
        _raise(self.metadata._problems(columns), "the metadata")
        include = [t for t in tables if t in self.metadata.tables] if self.metadata.tables else None
        k = 5
        privacy: Any = None
        if isinstance(self.privacy, PrivacyConfig):
            k = self.privacy.k_anonymity_threshold
            privacy = DatagenPrivacy(strategies=self.privacy.strategies(self.metadata, columns),
                                     epsilon=self.privacy.epsilon if self.privacy.enable_differential_privacy else None,
                                     delta=self.privacy.delta if self.privacy.enable_differential_privacy else None)
        elif self.privacy is not None:
            strategies = dict(_strategy_map(self.privacy.strategies))
            strategies.update({f"{t}.{c}": "fake" for t, cfg in self.metadata.tables.items() for c in cfg.pii_cols
                               if f"{t}.{c}" not in strategies})
            privacy = DatagenPrivacy(strategies=strategies, epsilon=self.privacy.epsilon, delta=self.privacy.delta,
                                     bounds=self.privacy.bounds)
        kwargs: dict[str, Any] = {} if sample_size is None else {"sample_rows": sample_size}
        result = fit(tables, privacy=privacy, k=k, include=include, name="synthohive", **kwargs)
        dp = "privacy" in result.report
        _Declarations(result, self.metadata, tables, dp, k).apply()
        if self.seed is not None:
            result.schema["seed"] = self.seed
        from datagen.api import load_schema, resolve_plan

        resolve_plan(load_schema(result.schema, name="fitted+metadata"))  # the loader's and the planner's checks
        self.fit_result = result
        self._saved_yaml = self._saved_schema = None
        return self

    def _read(self, data: Any, what: str) -> dict[str, pa.Table]:
        from datagen.fit.sources import read_source

        if isinstance(data, Mapping):
            return read_source({t: self._read_one(t, v, what) if isinstance(v, str | os.PathLike) else v
                                for t, v in data.items()})
        if isinstance(data, str) and self.spark is not None and _IDENT.fullmatch(data) and not Path(data).exists():
            if not self.metadata.tables:
                raise UsageError(f"{what}={data!r}: a Hive database needs the metadata's tables to read")
            return read_source({t: self._read_one(t, f"{data}.{t}", what) for t in self.metadata.tables})
        if data is None:
            raise UsageError(f"{what}: give {{table: DataFrame}}, a folder of files, an SQLite file or a DSN")
        return read_source(data)

    def _read_one(self, table: str, value: str | os.PathLike, what: str) -> pa.Table:
        from datagen.fit import sources

        path = Path(value)
        if path.is_file():
            suffix = sources._suffix(path)
            if suffix is None:
                raise UsageError(f"{what}[{table!r}] = {value}: not a CSV, Parquet or NDJSON file")
            return sources._read_file(path, sources.SUFFIXES[suffix])
        if path.is_dir():
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if self.spark is not None and isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)?", value):
            from datagen.spark import to_arrow

            return to_arrow(self.spark.table(value))
        raise UsageError(f"{what}[{table!r}] = {value}: no such file or folder"
                         + (" (a Hive table name needs Synthesizer(…, spark_session=…))" if self.spark is None else ""))

    # --- the fitted schema ----------------------------------------------------------------
    def _fitted(self, what: str) -> Any:
        if self.fit_result is None:
            raise UsageError(f"{what}: the synthesizer is not fitted (hint: fit(data=…) or Synthesizer.load(path) first)")
        return self.fit_result

    @property
    def schema(self) -> dict[str, Any]:
        """The fitted schema (the DSL document, a dict): edit it to change what is generated."""
        return self._fitted("schema").schema

    @property
    def fit_report(self) -> dict[str, Any]:
        return self._fitted("fit_report").report

    def to_yaml(self) -> str:
        """The schema as YAML (with what was learned as comments)."""
        result = self._fitted("to_yaml")
        if self._saved_yaml is not None and self._saved_schema == json.dumps(result.schema, sort_keys=True,
                                                                             default=str):
            return self._saved_yaml
        return result.to_yaml()

    # --- sample ---------------------------------------------------------------------------
    def sample(self, num_rows: Mapping[str, int] | None = None, output_format: str = "parquet",
               output_path: str | os.PathLike | None = None, seed: int | None = None, *, as_arrow: bool = False,
               force: bool = False) -> dict[str, Any]:
        """Synthetic tables: ``num_rows`` gives the root tables' counts (others keep the source's);
        a child table's rows follow from its parents' by the learned children per parent.
        Without ``output_path``: ``{table: DataFrame}`` (Arrow tables with ``as_arrow``). With it:
        the dataset written there in ``output_format`` (``datagen.generate``; an existing
        folder needs ``force``), returning ``{table: path}``."""
        import datagen

        self._fitted("sample")
        rows = self._rows(num_rows)
        seed = seed if seed is not None else self.seed
        if output_path is None:
            tables = datagen.to_arrow(self.schema, seed=seed, rows=rows)
            return tables if as_arrow else {t: tab.to_pandas() for t, tab in tables.items()}
        result = datagen.generate(self.schema, format=output_format, out=output_path, seed=seed, rows=rows, force=force)
        out = Path(result.output_dir or output_path)
        return {t: str(out / t) for t in result.tables}

    def _rows(self, num_rows: Mapping[str, int] | None) -> dict[str, int]:
        if num_rows is None:
            return {}
        if not isinstance(num_rows, Mapping):
            raise UsageError(f"num_rows={num_rows!r}: a mapping {{root_table: count}}, e.g. {{'users': 1000}}")
        nodes = {t["name"]: t for t in self.schema["tables"]}
        problems = []
        for t, n in num_rows.items():
            if t not in nodes:
                problems.append(f"num_rows[{t!r}]: no such table" + _hint(t, nodes) + f"; tables: {', '.join(nodes)}")
            elif isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                problems.append(f"num_rows[{t!r}] = {n!r}: an integer ≥ 1")
            elif isinstance(nodes[t]["rows"], Mapping) and "total" not in nodes[t]["rows"]:
                rows = nodes[t]["rows"]
                parent = rows.get("per") or rows.get("of")
                root = parent
                seen = {t}
                while root in nodes and isinstance(nodes[root]["rows"], Mapping) and root not in seen:
                    seen.add(root)
                    root = nodes[root]["rows"].get("per") or nodes[root]["rows"].get("of")
                problems.append(f"num_rows[{t!r}]: {t} is a child of {parent} — its rows follow from the learned "
                                f"children per {parent} row (hint: give {root}'s count instead)")
        _raise(problems, "sample")
        return {t: int(n) for t, n in num_rows.items()}

    # --- the report -----------------------------------------------------------------------
    def generate_validation_report(self, real_data: Any, synthetic_data: Any = None,
                                   output_path: str | os.PathLike = "validation_report.html", *,
                                   force: bool = False) -> Any:
        """The fidelity report (``datagen.report``, SDMetrics' scores) of ``synthetic_data`` against
        ``real_data`` written to ``output_path`` (``.html`` or ``.json``, by its suffix; an existing
        file needs ``force``); returns the ``datagen.FidelityReport``. ``synthetic_data``: what
        ``sample`` returned (frames or paths), a folder ``generate`` wrote, or None (a sample at the
        source's row counts)."""
        import datagen

        self._fitted("generate_validation_report")
        real = self._read(real_data, "real_data")
        if synthetic_data is None:
            synthetic: Any = self.sample(as_arrow=True)
        elif isinstance(synthetic_data, Mapping):
            synthetic = self._synthetic_paths(synthetic_data)
        else:
            synthetic = synthetic_data
        rep = datagen.report(real, synthetic, schema=self.schema)
        rep.write(Path(output_path), force=force)
        return rep

    def _synthetic_paths(self, data: Mapping[str, Any]) -> Any:
        """What ``sample(output_path=…)`` returned ({table: path}) → its folder when all the paths
        share one written by ``generate`` (read through the manifest), else the tables read."""
        if not all(isinstance(v, str | os.PathLike) for v in data.values()):
            return self._read(data, "synthetic_data")
        parents = {Path(v).parent for v in data.values()}
        if len(parents) == 1 and all(Path(v).name == t for t, v in data.items()):
            folder = parents.pop()
            if (folder / "manifest.json").is_file():
                return str(folder)
        return self._read(data, "synthetic_data")

    # --- save / load ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write ``path/schema.yaml`` (the fitted schema, with its comments) and
        ``path/synthesizer.json`` (the metadata, the privacy settings, the seed, the fit's notes
        and warnings) — statistics and settings, never a row of real data. Existing files need
        ``force``. Returns the folder."""
        from shared.io.output import write_text_atomic

        result = self._fitted("save")
        folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"save({path}): a file (hint: give a folder; it holds {SCHEMA_FILE} and {SETTINGS_FILE})")
        targets = [folder / SCHEMA_FILE, folder / SETTINGS_FILE]
        if not force:
            for p in targets:
                if p.exists():
                    raise UsageError(f"save({path}): {p} exists (hint: save(…, force=True) replaces it)")
        folder.mkdir(parents=True, exist_ok=True)
        privacy = None
        if isinstance(self.privacy, PrivacyConfig):
            privacy = {"kind": "synthohive", **self.privacy.to_dict()}
        elif self.privacy is not None:
            privacy = {"kind": "datagen", "strategies": _strategy_map(self.privacy.strategies),
                       "epsilon": self.privacy.epsilon, "delta": self.privacy.delta,
                       "bounds": {c: list(v) for c, v in dict(self.privacy.bounds or {}).items()}}
        settings = {"format": SAVE_FORMAT, "version": SAVE_VERSION, "seed": self.seed,
                    "metadata": self.metadata.to_dict(), "privacy": privacy,
                    "notes": list(result.notes), "warnings": list(result.warnings)}
        write_text_atomic(targets[0], self.to_yaml())
        write_text_atomic(targets[1], json.dumps(settings, indent=2, ensure_ascii=False, default=str) + "\n")
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike, spark_session: Any = None) -> Synthesizer:
        """A synthesizer from a folder ``save`` wrote: the same schema, metadata, privacy settings
        and seed — so ``sample`` gives the same tables."""
        from datagen.fit import FitResult
        from datagen.fit import PrivacyConfig as DatagenPrivacy
        from shared.schema_dsl.source import read_document

        folder = Path(path)
        settings_path, schema_path = folder / SETTINGS_FILE, folder / SCHEMA_FILE
        for p in (settings_path, schema_path):
            if not p.is_file():
                raise UsageError(f"load({path}): no {p.name} (hint: a folder Synthesizer.save wrote)")
        try:
            settings = json.loads(settings_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"load({path}): {SETTINGS_FILE} is not JSON ({exc})") from None
        if not isinstance(settings, dict) or settings.get("format") != SAVE_FORMAT:
            raise UsageError(f"load({path}): {SETTINGS_FILE} was not written by Synthesizer.save")
        if settings.get("version") != SAVE_VERSION:
            raise UsageError(f"load({path}): {SETTINGS_FILE} version {settings.get('version')!r} "
                             f"(this datagen reads version {SAVE_VERSION})")
        privacy: Any = None
        saved = settings.get("privacy")
        if saved is not None:
            saved = dict(saved)
            kind = saved.pop("kind", None)
            if kind == "synthohive":
                privacy = PrivacyConfig(**saved)
            else:
                privacy = DatagenPrivacy(strategies=saved.get("strategies"), epsilon=saved.get("epsilon"),
                                         delta=saved.get("delta"), bounds=saved.get("bounds") or None)
        synth = cls(Metadata.from_dict(settings.get("metadata") or {}), privacy, spark_session,
                    seed=settings.get("seed"))
        text = schema_path.read_text(encoding="utf-8")
        doc = read_document(str(schema_path))[0]  # the DSL's own YAML 1.2 reading (``no`` stays a string)
        from datagen.api import load_schema

        load_schema(schema_path)
        synth.fit_result = FitResult(schema=doc, report={}, notes=list(settings.get("notes") or []),
                                     warnings=list(settings.get("warnings") or []))
        synth._saved_yaml = text
        synth._saved_schema = json.dumps(doc, sort_keys=True, default=str)
        return synth

    # --- Hive -----------------------------------------------------------------------------
    def save_to_hive(self, synthetic_data: Any, target_db: str, overwrite: bool = True, table_format: str = "parquet",
                     *, spark: Any = None) -> list[str]:
        """Register generated tables in the Spark session's catalog as ``target_db.table``
        (``datagen.spark.register_tables``: external tables over the files, no copy).
        ``synthetic_data``: what ``sample(…, output_path=DIR)`` returned (``{table: DIR/table}``) or
        ``DIR`` itself; ``overwrite=False`` refuses a table that exists. Returns the names."""
        from datagen.spark import check_identifier, register_tables

        check_identifier(target_db, "target_db")
        if table_format not in ("parquet", "delta"):
            raise UsageError(f"save_to_hive(table_format={table_format!r}): 'parquet' or 'delta' "
                             "(the format sample(output_format=…) wrote)")
        located: list[tuple[Path, str]] = []
        if isinstance(synthetic_data, str | os.PathLike):
            out = Path(synthetic_data)
            names = [t["name"] for t in self.schema["tables"]] if self.fit_result is not None else \
                sorted(p.name for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
            located = [(out, t) for t in names if (out / t).is_dir()]
            if not located:
                raise UsageError(f"save_to_hive({synthetic_data}): no table folder there "
                                 "(hint: sample(num_rows, output_path=DIR) writes one per table)")
        elif isinstance(synthetic_data, Mapping):
            for t, p in synthetic_data.items():
                if not isinstance(p, str | os.PathLike):
                    raise UsageError(f"save_to_hive: synthetic_data[{t!r}] is a {type(p).__name__}, not a path (hint: "
                                     "sample(num_rows, output_path=DIR) writes the files; pass what it returns)")
                folder = Path(p)
                if folder.name != t or not folder.is_dir():
                    raise UsageError(f"save_to_hive: synthetic_data[{t!r}] = {p}: not a folder named {t} "
                                     "(the table's files, as sample(…, output_path=DIR) writes them)")
                located.append((folder.parent, str(t)))
        else:
            raise UsageError("save_to_hive(synthetic_data=…): {table: path} from sample(…, output_path=DIR), or DIR")
        for _, t in located:
            check_identifier(t, "table name")
        session = spark if spark is not None else self.spark
        if session is None:
            raise UsageError("save_to_hive: needs a SparkSession (Synthesizer(…, spark_session=…) or spark=…; "
                             "datagen.spark.session(master, hive_metastore=DIR) starts one with a Hive catalog)")
        if not overwrite:
            exists = [f"{target_db}.{t}" for _, t in located if session.catalog.tableExists(f"{target_db}.{t}")]
            if exists:
                raise UsageError(f"save_to_hive: {', '.join(exists)} exist(s) (hint: overwrite=True replaces them)")
        registered: list[str] = []
        for folder, t in located:
            registered += register_tables(session, target_db, folder, [t])
        return registered


def _strategy_map(strategies: Any) -> dict[str, str]:
    from datagen.fit import parse_privacy

    return parse_privacy(strategies)


def _keep_choices(params: dict[str, Any], keep: list[bool]) -> None:
    """Keep a ``choice``'s values (and their weights) where ``keep`` says so."""
    for key in ("values", "weights"):
        if key in params:
            params[key] = [v for v, k in zip(params[key], keep, strict=True) if k]


# --- the metadata's declarations on the fitted schema -------------------------------------
class _Declarations:
    """Apply the metadata to a ``FitResult``'s schema: primary keys, foreign keys (and with them
    which tables are roots and which get rows per parent), constraints; each change said in the
    column's or table's comment and in the notes."""

    def __init__(self, result: Any, metadata: Metadata, tables: Mapping[str, pa.Table], dp: bool, k: int):
        self.result = result
        self.metadata = metadata
        self.tables = tables
        self.dp = dp
        self.k = k
        self.nodes = {t["name"]: t for t in result.schema["tables"]}

    def apply(self) -> None:
        problems: list[str] = []
        for t, cfg in self.metadata.tables.items():
            node = self.nodes[t]
            cols = {c["name"]: c for c in node["columns"]}
            named = [*cfg.primary_key, *cfg.fk, *cfg.constraints]
            gone = sorted({c for c in named if c not in cols})
            problems += [f"{t}.{c}: not in the fitted schema (dropped by a privacy strategy or of a type the DSL "
                         "cannot hold — see the fit's notes)" for c in gone]
            if gone:
                continue
            if cfg.primary_key:
                self._primary_key(t, node, cols, cfg.primary_key)
            for c, ref in cfg.fk.items():
                parent, _, pcol = ref.partition(".")
                self._foreign_key(t, node, cols[c], parent, pcol)
            self._rows(t, node, cfg)
            for c, cons in cfg.constraints.items():
                self._constraint(t, node, cols[c], cons)
            ignored = [f"{a}" for a in ("high_cardinality_cols", "parent_context_cols") if getattr(cfg, a)]
            if ignored or cfg.linkage_method != "empirical":
                self._note(t, f"{t}: {', '.join(ignored + (['linkage_method'] if cfg.linkage_method != 'empirical' else []))}"
                              " recorded, not used (datagen fits categories of any size, conditions a child on its "
                              "parent through expr/fk.column, and picks the children-per-parent model by KS)")
        _raise(problems, "the metadata")

    def _note(self, key: str, text: str, comment: bool = False) -> None:
        self.result.notes.append(text)
        if comment:
            old = self.result.comments.get(key, "")
            self.result.comments[key] = (old + "; " if old else "") + text

    def _said(self, t: str, c: str, text: str, generator: str | None = None) -> None:
        """Add to the column's comment; ``generator``: the new generator replaces the fitted one's
        explanation (``learned: …`` stays)."""
        key = f"{t}.{c}"
        old = self.result.comments.get(key, "")
        if generator is not None:
            old = old.split(" generator: ")[0] + f" generator: {generator}."
        self.result.comments[key] = (old + " " if old else "") + f"Declared in the metadata: {text}."

    def _uncorrelate(self, t: str, node: dict[str, Any], column: str) -> None:
        """Take ``column`` out of the table's copula blocks (its generator is no longer a drawn
        marginal); a block left with fewer than two columns goes, with its comment."""
        blocks = node.get("correlations") or []
        if not any(column in b["columns"] for b in blocks):
            return
        comments = [self.result.comments.pop(f"{t}.correlations[{i}]", None) for i in range(len(blocks))]
        kept: list[tuple[dict[str, Any], str | None]] = []
        for block, comment in zip(blocks, comments, strict=True):
            names = list(block["columns"])
            if column in names:
                keep = [x for x, name in enumerate(names) if name != column]
                block["columns"] = [names[x] for x in keep]
                block["matrix"] = [[block["matrix"][a][b] for b in keep] for a in keep]
                comment = (comment + " " if comment else "") + f"({column} taken out: declared in the metadata.)"
            if len(block["columns"]) >= 2:
                kept.append((block, comment))
        for i, (_, comment) in enumerate(kept):
            if comment:
                self.result.comments[f"{t}.correlations[{i}]"] = comment
        if kept:
            node["correlations"] = [b for b, _ in kept]
        else:
            node.pop("correlations", None)

    def _primary_key(self, t: str, node: dict[str, Any], cols: dict[str, Any], pk: list[str]) -> None:
        fitted = node.get("primary_key")
        fitted_list = [] if fitted is None else [fitted] if isinstance(fitted, str) else list(fitted)
        if fitted_list == pk:
            return
        node["primary_key"] = pk[0] if len(pk) == 1 else list(pk)
        for c in pk:
            spec = cols[c]
            spec.pop("nullable", None)
            spec.pop("null_rate", None)
            gen = spec.get("generator") or {}
            why = None
            if len(pk) == 1 and not _unbounded_key(_generator(gen)):
                # a key's generator whose unique values could run out: a sequence from the
                # source's smallest integer key, else the DSL's default for a key of its type
                # (uuid4 …) — any row count stays feasible
                start = spec.get("min", (gen.get("params") or {}).get("min"))
                for key in ("generator", "min", "max", "allowed"):
                    spec.pop(key, None)
                if spec["type"].startswith("int") and isinstance(start, int):
                    spec["generator"] = {"type": "sequence", "params": {"start": start}}
                    why = f"the key: a sequence from {start}"
                else:
                    why = "the DSL's default for a key of its type"
                self._uncorrelate(t, node, c)
            spec.pop("unique", None)
            self._said(t, c, "the primary key" + (f" (fit found {', '.join(fitted_list)})" if fitted_list else ""),
                       generator=why)
        self.result.comments[t] = self.result.comments.get(t, "") + f"; primary key {', '.join(pk)} (declared)"
        self._note(t, f"{t}: primary key {', '.join(pk)} (declared)")

    def _foreign_key(self, t: str, node: dict[str, Any], spec: dict[str, Any], parent: str, pcol: str) -> None:
        gen = spec.get("generator") or {}
        params = gen.get("params") or {}
        if gen.get("type") == "fk" and params.get("table") == parent and params.get("column") == pcol:
            return
        pspec = next((c for c in self.nodes[parent]["columns"] if c["name"] == pcol), None)
        if pspec is None:
            raise UsageError(f"{t}.{spec['name']} (fk): {parent}.{pcol} is not in the fitted schema (dropped by a "
                             "privacy strategy?)")
        spec["generator"] = {"type": "fk", "params": {"table": parent, "column": pcol}}
        spec["type"] = pspec["type"]
        for key in ("unique", "min", "max", "allowed"):
            spec.pop(key, None)
        self._uncorrelate(t, node, spec["name"])
        self._said(t, spec["name"], f"references {parent}.{pcol}", generator=f"references {parent}.{pcol}")
        self._note(t, f"{t}.{spec['name']}: references {parent}.{pcol} (declared)")

    def _rows(self, t: str, node: dict[str, Any], cfg: TableConfig) -> None:
        """A table without a declared foreign key is a root (rows by count); one with a foreign key
        gets its rows per parent through its first declared foreign key to another table."""
        rows = node["rows"]
        source_rows = int(self.result.report["tables"][t]["rows"])
        owners = [(c, ref.partition(".")[0], ref.partition(".")[2]) for c in (s["name"] for s in node["columns"])
                  if (ref := cfg.fk.get(c)) is not None and ref.partition(".")[0] != t]
        if not owners:
            if isinstance(rows, Mapping):
                node["rows"] = max(source_rows, 1)
                self._note(t, f"{t}: a root (no fk in the metadata): {node['rows']:,} rows, sampled by count "
                              f"(fit had rows per {rows.get('per') or rows.get('of')})")
                self.result.comments[t] = self.result.comments.get(t, "") + \
                    f"; a root in the metadata: rows by count ({node['rows']:,} in the source)"
            return
        if isinstance(rows, Mapping) and rows.get("per") in {p for _, p, _ in owners}:
            return
        column, parent, pcol = owners[0]
        if self.dp:
            self._note(t, f"{t}: references {parent} (declared) but keeps a row count: with differential privacy "
                          "its children per parent are not learned outside the fit")
            return
        from datagen.fit.marginals import fit_counts

        child = self.tables[t].column(column)
        parents = self.tables[parent].column(pcol).combine_chunks()
        if child.type != parents.type:
            child = child.cast(parents.type, safe=False)
        idx = pc.index_in(child, value_set=parents, skip_nulls=True).drop_null()
        counts = np.bincount(idx.to_numpy(zero_copy_only=False).astype(np.int64), minlength=len(parents))
        if not len(counts):
            self._note(t, f"{t}: references {parent} (declared) but {parent} has no rows: keeps a row count")
            return
        dist, dname, ks, _ = fit_counts(counts, self.k)
        node["rows"] = {"per": parent, "distribution": dist, "min": int(counts.min()), "max": int(counts.max())}
        spec = next(s for s in node["columns"] if s["name"] == column)
        spec.pop("nullable", None)
        spec.pop("null_rate", None)
        unmatched = int(len(child) - child.null_count - len(idx))
        text = (f"rows: {dname} children per {parent} row through {column} (declared; mean {counts.mean():.2f}, "
                f"{int(counts.min())}..{int(counts.max())}" + (f", KS {ks:.3f}" if ks else "")
                + (f"; {unmatched:,} rows without a parent left out of the counts" if unmatched else "") + ")")
        self.result.comments[t] = self.result.comments.get(t, "") + "; " + text
        self.result.notes.append(f"{t}: {text}")

    def _constraint(self, t: str, node: dict[str, Any], spec: dict[str, Any], cons: Constraint) -> None:
        said = []
        gen = spec.get("generator") or {}
        params = gen.get("params")
        if cons.dtype is not None:
            spec["type"] = "int64" if cons.dtype == "int" else "float64"
            said.append(f"dtype {cons.dtype}")
        cast = int if spec["type"].startswith("int") else float
        if cons.min is not None or cons.max is not None:
            for key, v in (("min", cons.min), ("max", cons.max)):
                if v is not None:
                    spec[key] = cast(v)
            g = _generator(gen)
            if isinstance(params, dict) and g is not None and g.range_params and "min" in params and "max" in params:
                lo = max(params["min"], spec["min"]) if "min" in spec else params["min"]
                hi = min(params["max"], spec["max"]) if "max" in spec else params["max"]
                if lo > hi:  # the source's range lies outside the declared one
                    lo, hi = spec.get("min", hi), spec.get("max", lo)
                params["min"], params["max"] = cast(lo), cast(hi)
            if isinstance(params, dict) and gen.get("type") == "choice" and cons.allowed is None:
                inside = [v is None or not isinstance(v, int | float) or
                          ((cons.min is None or v >= cons.min) and (cons.max is None or v <= cons.max))
                          for v in params["values"]]
                if any(inside):
                    _keep_choices(params, inside)
                else:
                    spec.pop("generator", None)  # the DSL's default: uniform inside min/max
                    self._uncorrelate(t, node, spec["name"])
            said.append(" ".join(f"{k} {spec[k]}" for k in ("min", "max") if k in spec and getattr(cons, k) is not None))
        if cons.allowed is not None:
            spec["allowed"] = list(cons.allowed)
            if gen.get("type") == "choice" and isinstance(params, dict):
                inside = [v in cons.allowed for v in params["values"]]
                if any(inside):
                    _keep_choices(params, inside)
                else:
                    gen = {}
            if gen.get("type") != "choice":
                spec.pop("generator", None)  # the DSL's default: a choice over the allowed values
                self._uncorrelate(t, node, spec["name"])
                self._said(t, spec["name"], f"allowed {list(cons.allowed)}", generator="a choice over the allowed values")
            else:
                said.append(f"allowed {list(cons.allowed)}")
        if cons.unique is not None:
            if cons.unique:
                spec["unique"] = True
                spec.pop("nullable", None)
                spec.pop("null_rate", None)
                self._uncorrelate(t, node, spec["name"])
            else:
                spec.pop("unique", None)
            said.append("unique" if cons.unique else "not unique")
        if said:
            self._said(t, spec["name"], ", ".join(said))


def _generator(spec: Mapping[str, Any]) -> Any:
    """The registered generator a ``{type, params}`` spec names (its capabilities), or None."""
    from shared.distributions.base import GENERATORS, load_builtins

    load_builtins()
    return GENERATORS.get(str(spec.get("type")))


def _unbounded_key(gen: Any) -> bool:
    """A generator that keeps a key unique at any row count: unique by nature (a sequence, uuid4
    …), or a reference (an fk key: its parent's rows bound it, as the schema says)."""
    from shared.distributions.base import Generator

    return gen is not None and (gen.unique_strategy == "native" or type(gen).reference is not Generator.reference)
