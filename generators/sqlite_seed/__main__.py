"""Entry point of the SQLite frontend (thin: flags → shared library → exit code)."""

from generators.sqlite_seed.format import SqliteFormat
from shared.cli.common import build_app, main

app = build_app(SqliteFormat())

if __name__ == "__main__":
    main(app)
