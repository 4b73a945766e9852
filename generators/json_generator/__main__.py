"""``python -m generators.json_generator …``: the datagen command line for json and ndjson (an alias kept
for scripts; ``--format`` defaults to json; see datagen.cli)."""

from datagen.cli import build_app, main

FORMATS = ("json", "ndjson")
app = build_app(default_format="json", only=FORMATS)

if __name__ == "__main__":
    main(default_format="json", only=FORMATS)
