"""Writing machine-readable reports: ``validation_report.json`` and its JSON Schema.

Reports are written atomically (a temporary file renamed into place), so a CI gate never reads a
half-written report. ``check_report`` validates a report against
``schemas/validation_report.schema.json`` — the contract scripts outside the repository rely on.
"""

from __future__ import annotations

import json
from pathlib import Path

REPORT_SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "validation_report.schema.json"


def write_json_atomic(data: dict, path: Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def check_report(report: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when a report breaks its published schema."""
    import jsonschema

    schema = json.loads(REPORT_SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)
