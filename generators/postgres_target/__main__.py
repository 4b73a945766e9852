"""``python -m generators.postgres_target …``: the datagen command line for postgres (``--format``
defaults to postgres; see datagen.cli)."""

from datagen.cli import build_app, main

FORMATS = ("postgres", "postgresql")
app = build_app(default_format="postgres", only=FORMATS)

if __name__ == "__main__":
    main(default_format="postgres", only=FORMATS)
