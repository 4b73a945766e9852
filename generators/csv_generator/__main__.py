"""``python -m generators.csv_generator …``: the datagen command line for csv (an alias kept
for scripts; ``--format`` defaults to csv; see datagen.cli)."""

from datagen.cli import build_app, main

FORMATS = ("csv",)
app = build_app(default_format="csv", only=FORMATS)

if __name__ == "__main__":
    main(default_format="csv", only=FORMATS)
