"""``python -m generators.sqlite_seed …``: the datagen command line for sqlite (an alias kept
for scripts; ``--format`` defaults to sqlite; see datagen.cli)."""

from datagen.cli import build_app, main

FORMATS = ("sqlite",)
app = build_app(default_format="sqlite", only=FORMATS)

if __name__ == "__main__":
    main(default_format="sqlite", only=FORMATS)
