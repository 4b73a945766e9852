"""PostgreSQL target: ``python -m generators.postgres_target generate --target DSN --mode create …``.

Tables loaded by COPY from the engine's batches, in modes create, truncate and append; see
``format.py`` and docs/targets.md. Needs the ``postgres`` extra (psycopg 3), which the bootstrap
installs the first time ``--format postgres`` is used.
"""
