"""Writing machine-readable reports: ``validation_report.json`` and its JSON Schema.

Reports are written atomically (a temporary file renamed into place), so a CI gate never reads a
half-written report. ``check_report`` validates a report against
``schemas/validation_report.schema.json`` — the contract scripts outside the repository rely on.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
import sys
from pathlib import Path

from shared.resources import data_file

REPORT_SCHEMA_FILE = data_file("validation_report.schema.json")


def is_stream_path(path: str | os.PathLike) -> bool:
    """``-`` or a name of this process's own streams: ``/dev/stdout``, ``/dev/stderr``,
    ``/dev/fd/N``, ``/proc/self/fd/N``."""
    text = os.fspath(path)
    if text in ("-", "/dev/stdout", "/dev/stderr"):
        return True
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        if text.startswith(prefix) and text[len(prefix):].isdigit():
            return True
    return False


def write_json_atomic(data: dict, path: Path) -> None:
    """Write ``data`` to a fresh, uniquely named temporary file (``O_EXCL``: never through a link
    planted under that name) and rename it over ``path`` (a link at ``path`` is replaced, not
    followed).

    A name of this process's own streams (``-``, ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``)
    is written to as a stream: renaming over ``/dev/stdout``, as root, would replace the machine's
    link with a file. Any other path that is not a regular file (a pipe, a device) is refused."""
    text = json.dumps(data, indent=2, default=str) + "\n"
    if is_stream_path(path):
        if os.fspath(path) == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        return
    path = Path(path)
    try:
        st = os.lstat(path)
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise OSError(errno.EINVAL, "not a regular file (a pipe, device or socket); give a file name, or "
                      "/dev/stdout for the standard output", str(path))
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
