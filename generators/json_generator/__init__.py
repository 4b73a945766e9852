"""JSON and NDJSON frontend: ``python -m generators.json_generator generate --format json|ndjson …``."""
