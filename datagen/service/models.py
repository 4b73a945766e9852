"""The request and response bodies: pydantic models, so the OpenAPI document is the contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: the formats an inline target names (``kind``)
FILE_KINDS = ("parquet", "csv", "json", "ndjson", "event_stream", "sqlite")
TARGET_KINDS = (*FILE_KINDS, "postgres")
Mode = Literal["create", "truncate", "append"]
#: a run's rows and seed stay within what the engine plans (the plan's own size cap applies too)
MAX_ROWS = 10**12
MAX_SEED = 2**63 - 1
RowCount = Annotated[int, Field(ge=0, le=MAX_ROWS)]


class ProblemOut(BaseModel):
    """One located problem: what is wrong, where (the path into the schema, file, line) and a hint."""

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None


class ErrorDetail(BaseModel):
    type: str = Field(description="The error's class: UsageError, SchemaError, PlanError, NotFound, TooManyRuns …")
    message: str = Field(description="The message the command line prints (no traceback, secrets redacted).")
    problems: list[ProblemOut] = []


class ErrorOut(BaseModel):
    """Every error the service answers on purpose."""

    error: ErrorDetail


class InlineTarget(BaseModel):
    """Where a run writes, given inline: a file format with a ``path`` (relative to the service's
    output folder, and inside it), SQLite (a folder, as for files) or PostgreSQL (a ``dsn``)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["parquet", "csv", "json", "ndjson", "event_stream", "sqlite", "postgres"]
    path: str | None = Field(None, max_length=1024, description="The output folder, relative to --output-dir "
                             "(default <schema name>/<kind>); file kinds and sqlite.")
    dsn: str | None = Field(None, max_length=4096, description="postgres: a postgresql:// URL or libpq string.")
    db_schema: str | None = Field(None, max_length=63, description="postgres: the database schema (default public).")
    mode: Mode | None = Field(None, description="sqlite, postgres: create (default), truncate or append.")


class DatasetIn(BaseModel):
    """Which dataset: a schema inline (a JSON object, or YAML/JSON text), by id (a file of the
    schemas folder) or a blueprint with its parameters — exactly one of them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: dict[str, Any] | str | None = Field(None, alias="schema", description="The schema itself.")
    schema_id: str | None = Field(None, max_length=512, description="A schema of the schemas folder (GET /schemas).")
    blueprint: str | None = Field(None, max_length=128, description="A blueprint's name (GET /blueprints).")
    params: dict[str, str | int | float | bool] | None = Field(None, description="The blueprint's parameters.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    rows: dict[str, RowCount] | None = Field(None, description="TABLE → rows, as --rows TABLE=N.")
    scale: float | None = Field(None, gt=0, le=1e9, allow_inf_nan=False)
    profile: Literal["clean", "dirty"] | None = None


class RunIn(DatasetIn):
    """``POST /runs`` and ``POST /runs/plan``: the dataset, then the target (inline or by id)."""

    target: InlineTarget | None = Field(None, description="Where to write (default: parquet under --output-dir).")
    target_id: str | None = Field(None, max_length=63, description="A named target (GET /targets).")
    mode: Mode | None = Field(None, description="Into a database target: create, truncate or append.")


class RunAccepted(BaseModel):
    id: str
    status: str


class Progress(BaseModel):
    rows_done: int
    rows_total: int
    tables_done: int
    tables_total: int
    current_table: str | None = None


class TableStat(BaseModel):
    """One table of a run: its rows, the rows handed to the target so far and its seconds."""

    rows: int = Field(description="The table's rows: planned, then written.")
    rows_done: int | None = Field(None, description="The rows handed to the target so far (a run of this "
                                  "service; a finished run's rows once it succeeded); null when not known.")
    seconds: float | None = Field(None, description="The time the table took (the run's record, once it "
                                  "succeeded); null before.")


class RunOut(BaseModel):
    """A run as the run store holds it (``datagen runs show --json``, without the schema's bytes),
    with its progress while this service runs it."""

    id: str
    status: Literal["pending", "running", "success", "failed", "interrupted"]
    seed: int | None = None
    config_hash: str | None = None
    rows: dict[str, int] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    schema_name: str | None = None
    target: dict[str, Any] | None = None
    error: str | None = None
    warnings: list[str] = []
    progress: Progress | None = None
    cancelling: bool = False
    tables: dict[str, TableStat] | None = Field(None, description="Each table, in the plan's order: rows, rows "
                                                "done and seconds.")


class RunList(BaseModel):
    runs: list[RunOut]


class LogLine(BaseModel):
    at: str
    message: str


class RunLogs(BaseModel):
    id: str
    lines: list[LogLine]


class PlanOut(BaseModel):
    """What a run would do: the plan (``datagen describe --json``), its target and config hash."""

    schema_name: str
    seed: int
    rows: dict[str, int]
    total_rows: int
    target: dict[str, Any]
    config_hash: str
    plan: dict[str, Any]


class SchemaItem(BaseModel):
    id: str
    file: str
    bytes: int


class SchemaList(BaseModel):
    schemas: list[SchemaItem]


class SchemaDetail(BaseModel):
    id: str
    name: str
    text: str
    plan: dict[str, Any] = Field(description="The plan at the schema's own settings (datagen describe --json).")


class SchemaCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: dict[str, Any] | str = Field(alias="schema", description="A schema: a JSON object, or YAML/JSON text.")


class SchemaCheckOut(BaseModel):
    """A report, not an exception: ``valid`` and every problem with its path."""

    valid: bool
    name: str | None = None
    tables: list[str] = []
    error: str | None = None
    problems: list[ProblemOut] = []


class BlueprintList(BaseModel):
    blueprints: list[dict[str, Any]]


class TargetList(BaseModel):
    targets: list[dict[str, Any]]


class ImportSqlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ddl: str = Field(description="CREATE TABLE statements.")
    dialect: str = Field("postgres", max_length=32)
    rows: RowCount | dict[str, RowCount] | None = Field(None, description="Rows of every table, or TABLE → rows.")
    name: str = Field("imported", max_length=128, description="The schema's name.")


class ImportOut(BaseModel):
    schema_: dict[str, Any] = Field(alias="schema")
    yaml: str
    warnings: list[str] = []
    notes: list[str] = []
    skipped: list[str] = []


class GenerateIn(DatasetIn):
    """``POST /generate``: a small dataset in memory, answered as JSON (every table) or as an
    Arrow IPC stream (one table)."""

    tables: list[str] | None = Field(None, description="Only these tables (default: all).")
    output: Literal["json", "arrow"] = Field("json", description="json, or arrow: an Arrow IPC stream of one table.")


class GenerateOut(BaseModel):
    run_id: str | None
    seed: int
    rows: dict[str, int]
    tables: dict[str, list[dict[str, Any]]]


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    ready: bool
    problems: list[str] = []


class StreamIn(DatasetIn):
    """``POST /streams``: the dataset (a schema with an event table), its pace and its length,
    and how subscribers that fall behind are treated."""

    events_per_second: float | None = Field(None, gt=0, le=10_000_000, allow_inf_nan=False, description=(
        "Events per second on an absolute schedule; null: as fast as the subscribers take them. Left out: the "
        "schema's stream.events_per_second, else null."))
    max_events: int | None = Field(None, ge=0, le=MAX_ROWS, description="End after this many events (default: "
                                   "when the schema's events run out).")
    policy: Literal["block", "drop_oldest", "drop_newest"] = Field("block", description=(
        "A full subscriber queue: block (the stream waits for it), drop_oldest or drop_newest."))
    buffer: int | None = Field(None, ge=1, le=10_000_000, description="Each subscriber's queue in events "
                               "(default the service's; at most its maximum).")
    start: Literal["on_subscribe", "now"] = Field("on_subscribe", description=(
        "on_subscribe: the first event waits for the first subscriber; now: the schedule starts at once."))
    options: dict[str, str] | None = Field(None, description="The event_stream format's options "
                                           "(late_max_delay, max_sort_rows).")


class SubscriberOut(BaseModel):
    id: int
    policy: str
    buffer: int
    queued: int
    max_queued: int = Field(description="The most events its queue held at once (never more than buffer).")
    sent: int
    dropped: int
    connected_at: str


class StreamOut(BaseModel):
    """A live stream: its status, counts, measured rate and subscribers (with their drops)."""

    id: str
    status: Literal["waiting", "running", "paused", "ended", "stopped", "failed"]
    schema_name: str
    seed: int
    events_per_second: float | None
    max_events: int | None
    policy: str
    buffer: int
    start: str
    created_at: str
    events_produced: int
    rate_measured: float | None = Field(description="Events per second over the last 5 s while running.")
    reason: str | None = None
    dropped: int
    subscribers: list[SubscriberOut]


class StreamAccepted(BaseModel):
    id: str
    status: str
    websocket: str = Field(description="The path to subscribe at (WebSocket).")


class StreamList(BaseModel):
    streams: list[StreamOut]
