"""Writing machine-readable reports: ``validation_report.json`` and its JSON Schema.

Reports are written atomically (a temporary file renamed into place), so a CI gate never reads a
half-written report. ``check_report`` validates a report against
``schemas/validation_report.schema.json`` — the contract scripts outside the repository rely on.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from shared.resources import data_file

REPORT_SCHEMA_FILE = data_file("validation_report.schema.json")


def write_json_atomic(data: dict, path: Path) -> None:
    """Write ``data`` to a fresh, uniquely named temporary file (``O_EXCL``: never through a link
    planted under that name) and rename it over ``path`` (a link at ``path`` is replaced, not
    followed)."""
    path = Path(path)
    text = json.dumps(data, indent=2, default=str) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_report(report: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when a report breaks its published schema."""
    import jsonschema

    schema = json.loads(REPORT_SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)
