"""Secrets out of anything datagen keeps or prints: run records, target identities, messages.

``redact(value)`` returns a copy of a JSON-like value (dicts, lists, strings, numbers) in which

* the value of every mapping key that names a secret — one containing ``password``, ``passwd``,
  ``secret``, ``token``, ``api_key`` / ``apikey`` or ``credential``, or exactly ``pwd`` (any
  case) — is ``***``;
* inside every string, the password of a URL's user information (``scheme://user:PASSWORD@host``,
  a DSN) is ``***``, and so is the value of a ``password=…`` / ``passwd=…`` / ``pwd=…`` /
  ``secret=…`` / ``token=…`` pair (libpq keyword strings, query strings, messages): a quoted
  value up to its closing quote, an unquoted one up to the next white space.

It knows no format or database: only these spellings. Over-redacting (an unquoted value that ran
on past a ``&``) is the safe side. ``None`` stays ``None`` (no secret was given).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

_SECRET_KEY = re.compile(r"password|passwd|secret|token|api_?key|credential", re.IGNORECASE)
#: ``scheme://user:PASSWORD@`` — up to the last ``@`` before the host (a password may hold an
#: unescaped ``@``), never past white space or the path
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)(?P<secret>[^\s/?#]*)@")
#: ``password=VALUE``, ``password = 'VALUE'`` (libpq keywords, query strings, messages)
_PAIR = re.compile(r"(?P<head>\b(?:password|passwd|pwd|secret|token|api_?key)\s*=\s*)"
                   r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s]+)", re.IGNORECASE)


def is_secret_key(key: object) -> bool:
    """A mapping key whose value is a secret (``password``, ``db_token``, ``PWD`` …)."""
    return isinstance(key, str) and (_SECRET_KEY.search(key) is not None or key.lower() == "pwd")


def redact_text(text: str) -> str:
    """``text`` with URL passwords and ``password=…`` values replaced by ``***``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)
    return _PAIR.sub(lambda m: f"{m['head']}{MASK}", text)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret replaced by ``***`` (see the module's docstring)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: (MASK if is_secret_key(k) and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
