"""Entry point of the Parquet frontend (thin: flags → shared library → exit code)."""

from generators.parquet_generator.format import ParquetFormat
from shared.cli.common import build_app, main

app = build_app(ParquetFormat())

if __name__ == "__main__":
    main(app)
