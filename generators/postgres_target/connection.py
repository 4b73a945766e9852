"""Connecting to a PostgreSQL target: the DSN (a ``postgresql://`` URL or a libpq keyword string),
its redacted form for every message, and the driver's failures as one clear ``OutputError``.

A password never leaves this module in clear: messages name the target by ``redact(dsn)``
(``postgresql://app:***@db:5432/shop``), and psycopg's own messages do not contain it.
"""

from __future__ import annotations

from typing import Any

from shared.errors import OutputError, UsageError

CONNECT_TIMEOUT_S = 10
APPLICATION_NAME = "datagen"

def redact(dsn: str) -> str:
    """The DSN (or a message) with any password replaced by ``***``: URL user information,
    ``?password=`` and libpq's ``password=…`` keyword (``shared.io.redact``)."""
    from shared.io.redact import redact_text

    return redact_text(str(dsn))


def looks_like_dsn(value: str) -> bool:
    return "://" in value or "=" in value


def check_dsn(dsn: str) -> dict[str, Any]:
    """The DSN's parts (libpq parses it); a malformed one is a ``UsageError`` before anything."""
    from psycopg import conninfo

    try:
        return conninfo.conninfo_to_dict(dsn)
    except Exception as exc:  # noqa: BLE001 - psycopg.ProgrammingError; its text may quote the DSN
        raise UsageError(f"--target {redact(dsn)}: not a valid connection string "
                         f"({redact(str(exc)).splitlines()[0]})") from None


def identity(dsn: str) -> dict[str, Any]:
    """Who and where, without secrets: host, port, database and user (for records and messages)."""
    parts = check_dsn(dsn)
    return {"host": parts.get("host") or "localhost", "port": int(parts.get("port") or 5432),
            "database": parts.get("dbname") or parts.get("user") or "", "user": parts.get("user") or ""}


def connect(dsn: str, *, autocommit: bool = False):
    """An open connection (UTC, ISO dates), or an ``OutputError`` (exit 3) naming the redacted
    target: unreachable host, wrong password, missing database."""
    import psycopg

    check_dsn(dsn)
    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S,
                               application_name=APPLICATION_NAME)
    except psycopg.Error as exc:
        raise OutputError(f"PostgreSQL target {redact(dsn)}: cannot connect: {describe(exc)}") from None
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET DateStyle = 'ISO, YMD'")
        conn.execute("SET extra_float_digits = 1")
        if not autocommit:
            conn.commit()
    except psycopg.Error as exc:
        conn.close()
        raise OutputError(f"PostgreSQL target {redact(dsn)}: {describe(exc)}") from None
    return conn


def describe(exc: BaseException) -> str:
    """A driver error as one line (the server's message and detail), passwords redacted."""
    diag = getattr(exc, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(exc) or type(exc).__name__).strip()
    detail = getattr(diag, "message_detail", None)
    if detail:
        text += f" ({detail.strip()})"
    return redact(" ".join(text.split()))
