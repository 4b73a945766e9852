"""Delta frontend: ``python -m generators.delta_table generate --format delta …``."""
