"""``python -m generators.delta_table …``: the datagen command line for delta (an alias kept
for scripts; ``--format`` defaults to delta; see datagen.cli)."""

from datagen.cli import build_app, main

FORMATS = ("delta",)
app = build_app(default_format="delta", only=FORMATS)

if __name__ == "__main__":
    main(default_format="delta", only=FORMATS)
