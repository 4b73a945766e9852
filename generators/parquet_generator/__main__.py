"""``python -m generators.parquet_generator …``: the datagen command line for parquet (an alias kept
for scripts; ``--format`` defaults to parquet; see datagen.cli)."""

from datagen.cli import build_app, main

FORMATS = ("parquet",)
app = build_app(default_format="parquet", only=FORMATS)

if __name__ == "__main__":
    main(default_format="parquet", only=FORMATS)
