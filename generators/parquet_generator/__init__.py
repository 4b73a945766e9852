"""Parquet frontend: ``python -m generators.parquet_generator generate --format parquet …``."""
