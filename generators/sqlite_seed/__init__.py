"""SQLite frontend: ``python -m generators.sqlite_seed generate --format sqlite …``.

One database file ``<out>/<schema name>.sqlite`` (or an existing database with
``--option database=PATH``); see ``format.py`` and docs/formats/sqlite.md.
"""
