"""The built-in formats, one frontend package each. ``register_builtins()`` names them in the
format registry lazily: a format's module (and pyarrow's writers, sqlite3 …) is imported only
when its name is first used. Adding a built-in format is one line here plus its package."""

BUILTIN_FORMATS = {
    "csv": "generators.csv_generator.format",
    "json": "generators.json_generator.format",
    "ndjson": "generators.json_generator.format",
    "parquet": "generators.parquet_generator.format",
    "sqlite": "generators.sqlite_seed.format",
    "event_stream": "generators.event_stream_generator.format",
    "postgres": "generators.postgres_target.format",
    "delta": "generators.delta_table.format",
}
BUILTIN_ALIASES = {"events": "event_stream", "postgresql": "postgres"}

#: ``generate`` options of one format beyond ``--option``: the keyword, its Python type, the
#: flag, its help, the formats it applies to, and the ``module:function`` that handles a request
#: carrying it (``handler(GenerateRequest) -> bool``: True when it did the whole job). Plain data,
#: so building the command line imports no format.
GENERATE_OPTIONS = (
    ("rate", float, "--rate", "Emit N events per second to stdout instead of writing files (event tables only).",
     ("event_stream", "events"), "generators.event_stream_generator.rate:handle_rate"),
)


def register_builtins() -> None:
    from shared.formats import ALIASES, FORMATS

    for name, module in BUILTIN_FORMATS.items():
        FORMATS.add_lazy(name, module)
    for alias, name in BUILTIN_ALIASES.items():
        ALIASES.setdefault(alias, name)
