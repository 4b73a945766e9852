"""Entry point of the CSV frontend (thin: flags → shared library → exit code)."""

from generators.csv_generator.format import CsvFormat
from shared.cli.common import build_app, main

app = build_app(CsvFormat())

if __name__ == "__main__":
    main(app)
