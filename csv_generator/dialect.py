"""How a CSV file is spelled: the ``Dialect``, the compression, and the settings sidecar.

``parse_options({"delimiter": ";", "compression": "gzip"})`` turns user-facing ``KEY=VALUE``
strings into a validated ``CsvOptions`` (a ``Dialect`` plus a compression), collecting every
problem into one ``DialectError`` whose message lists the valid values. ``CsvOptions.to_dict()``
is plain JSON (it goes into the manifest and the sidecar ``csv_dialect.json``);
``save_options``/``load_options`` write and read that sidecar.
"""

from __future__ import annotations

import difflib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from csv_generator.errors import DialectError

#: quoting styles: name -> what is quoted
QUOTING = {
    "strings": "every text (string, uuid) value; numbers, bools, dates and timestamps bare (default)",
    "needed": "only values that need it: containing the delimiter, a quote or a line break, "
              "empty strings, and strings equal to the null marker",
    "all": "every non-null value",
    "none": "nothing; a value that would need quotes fails the run, and an empty string reads back as null "
            "unless the null marker is not empty",
}
QUOTING_ALIASES = {"nonnumeric": "strings", "text": "strings", "minimal": "needed", "all_valid": "all"}

ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "utf-16")
ENCODING_ALIASES = {"utf8": "utf-8", "utf_8": "utf-8", "utf-8-bom": "utf-8-sig", "utf8-sig": "utf-8-sig",
                    "utf_8_sig": "utf-8-sig", "latin1": "latin-1", "iso-8859-1": "latin-1",
                    "iso8859-1": "latin-1", "utf16": "utf-16", "utf_16": "utf-16"}

COMPRESSIONS = ("none", "gzip", "zstd")
COMPRESSION_ALIASES = {"gz": "gzip", "zst": "zstd", "zstandard": "zstd", "": "none", "off": "none"}
#: file name suffix per compression
SUFFIXES = {"none": ".csv", "gzip": ".csv.gz", "zstd": ".csv.zst"}

LINE_TERMINATORS = {"lf": "\n", "crlf": "\r\n"}
_LT_ALIASES = {"\n": "lf", "\\n": "lf", "unix": "lf", "\r\n": "crlf", "\\r\\n": "crlf", "windows": "crlf", "dos": "crlf"}

DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
#: characters that appear in unquoted numbers, bools, dates and timestamps, or break the syntax
_FORBIDDEN_DELIMITERS = set(string.ascii_letters + string.digits + ' ."-+:\r\n')
_ALLOWED_DELIMITERS = (set(string.punctuation) | {"\t"}) - _FORBIDDEN_DELIMITERS
_NUMBER_LIKE = re.compile(r"^[-+]?(\d|\.\d|inf|nan|infinity)", re.IGNORECASE)

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")

OPTION_KEYS = ("delimiter", "quoting", "header", "null", "line_terminator", "encoding", "compression")

SIDECAR = "csv_dialect.json"
SIDECAR_VERSION = 1


@dataclass(frozen=True)
class Dialect:
    """The spelling of one CSV file. Always valid: construction checks every field."""

    delimiter: str = ","
    quoting: str = "strings"
    header: bool = True
    null: str = ""
    line_terminator: str = "\n"
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise DialectError(problems)

    def problems(self) -> list[str]:
        out = []
        d = self.delimiter
        if not isinstance(d, str) or len(d) != 1 or d not in _ALLOWED_DELIMITERS:
            out.append(f"delimiter={d!r}: one character such as , ; | or tab (named: {', '.join(DELIMITER_NAMES)}); "
                       "not a letter, digit, space, quote, line break or one of . - + :")
        if self.quoting not in QUOTING:
            out.append(f"quoting={self.quoting!r}: one of {', '.join(QUOTING)}")
        if not isinstance(self.header, bool):
            out.append(f"header={self.header!r}: true or false")
        n = self.null
        if not isinstance(n, str) or any(ch in n for ch in ('"', "\r", "\n", d)):
            out.append(f"null={n!r}: must not contain a quote, a line break or the delimiter")
        elif n and (_NUMBER_LIKE.match(n) or n.lower() in ("true", "false")):
            out.append(f"null={n!r}: must not look like a number or a bool (e.g. \\N, NULL or empty)")
        if self.line_terminator not in LINE_TERMINATORS.values():
            out.append(f"line_terminator={self.line_terminator!r}: lf or crlf")
        if self.encoding not in ENCODINGS:
            out.append(f"encoding={self.encoding!r}: one of {', '.join(ENCODINGS)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_DIALECT = Dialect()


@dataclass(frozen=True)
class CsvOptions:
    """A dialect plus the compression of the file (``<table>.csv``, ``.csv.gz``, ``.csv.zst``)."""

    dialect: Dialect = field(default_factory=Dialect)
    compression: str = "none"

    def __post_init__(self) -> None:
        if self.compression not in COMPRESSIONS:
            raise DialectError([f"compression={self.compression!r}: one of {', '.join(COMPRESSIONS)}"])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the dialect's fields and ``compression``."""
        return {**self.dialect.to_dict(), "compression": self.compression}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CsvOptions:
        """The inverse of ``to_dict`` (other keys are ignored; missing ones take the defaults)."""
        fields = {k: data[k] for k in Dialect.__dataclass_fields__ if k in data}
        return cls(Dialect(**fields), data.get("compression", "none"))


def file_name(table: str, compression: str = "none") -> str:
    """``<table>.csv``, ``<table>.csv.gz`` or ``<table>.csv.zst``."""
    return table + SUFFIXES[compression]


def compression_of(path: str | Path) -> str:
    """The compression implied by a file name's suffix."""
    name = str(path)
    for comp in ("gzip", "zstd"):
        if name.endswith(SUFFIXES[comp]) or name.endswith(SUFFIXES[comp][4:]):
            return comp
    return "none"


def _bool(v: Any) -> bool | None:
    s = str(v).strip().lower()
    return True if s in _TRUE else False if s in _FALSE else None


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def parse_options(opts: Mapping[str, Any]) -> CsvOptions:
    """User-facing ``KEY=VALUE`` strings → ``CsvOptions``; every problem in one ``DialectError``.

    Keys: delimiter, quoting, header, null, line_terminator, encoding, compression. Values are
    case-insensitive names (delimiter and null are taken as written, apart from the delimiter
    names comma, semicolon, tab, pipe).
    """
    problems: list[str] = []
    for k in opts:
        if k not in OPTION_KEYS:
            problems.append(f"{k}: unknown CSV option{_suggest(k, OPTION_KEYS)} (known: {', '.join(OPTION_KEYS)})")
    fields: dict[str, Any] = {}
    if "delimiter" in opts:
        d = str(opts["delimiter"])
        fields["delimiter"] = DELIMITER_NAMES.get(d.lower(), d)
    if "quoting" in opts:
        q = str(opts["quoting"]).strip().lower()
        q = QUOTING_ALIASES.get(q, q)
        if q not in QUOTING:
            problems.append(f"quoting={opts['quoting']}: one of {', '.join(QUOTING)}{_suggest(q, QUOTING)}")
        fields["quoting"] = q
    if "header" in opts:
        h = _bool(opts["header"])
        if h is None:
            problems.append(f"header={opts['header']}: true or false")
        fields["header"] = h
    if "null" in opts:
        fields["null"] = str(opts["null"])
    if "line_terminator" in opts:
        raw = str(opts["line_terminator"])
        lt = raw.strip().lower() if raw.strip() else raw
        lt = _LT_ALIASES.get(lt, lt)
        if lt not in LINE_TERMINATORS:
            problems.append(f"line_terminator={raw!r}: lf or crlf")
        fields["line_terminator"] = LINE_TERMINATORS.get(lt, raw)
    if "encoding" in opts:
        e = str(opts["encoding"]).strip().lower()
        e = ENCODING_ALIASES.get(e, e)
        if e not in ENCODINGS:
            problems.append(f"encoding={opts['encoding']}: one of {', '.join(ENCODINGS)}{_suggest(e, ENCODINGS)}")
        fields["encoding"] = e
    comp = "none"
    if "compression" in opts:
        c = str(opts["compression"]).strip().lower()
        comp = COMPRESSION_ALIASES.get(c, c)
        if comp not in COMPRESSIONS:
            problems.append(f"compression={opts['compression']}: one of {', '.join(COMPRESSIONS)}"
                            f"{_suggest(comp, COMPRESSIONS)}")
    if not problems:
        try:
            return CsvOptions(Dialect(**fields), comp)
        except DialectError as exc:
            problems += exc.problems
    else:  # report the field problems the per-key checks above did not already cover
        checked = {"quoting", "header", "line_terminator", "encoding"}
        safe = {k: v for k, v in fields.items() if k not in checked}
        try:
            Dialect(**safe)
        except DialectError as exc:
            problems += exc.problems
    raise DialectError(problems)


def save_options(out_dir: Path, options: CsvOptions) -> Path:
    """Write the sidecar ``csv_dialect.json`` (deterministic bytes); returns its path."""
    p = Path(out_dir) / SIDECAR
    data = {"csv_dialect_version": SIDECAR_VERSION, **options.to_dict()}
    p.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return p


def load_options(out_dir: Path) -> CsvOptions | None:
    """The sidecar's settings, ``None`` without one; a broken sidecar raises ``DialectError``."""
    p = Path(out_dir) / SIDECAR
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DialectError([f"{SIDECAR}: not readable JSON ({exc})"]) from None
    if not isinstance(data, dict) or data.get("csv_dialect_version") != SIDECAR_VERSION:
        raise DialectError([f"{SIDECAR}: expected an object with csv_dialect_version {SIDECAR_VERSION}"])
    try:
        return CsvOptions.from_dict(data)
    except TypeError as exc:
        raise DialectError([f"{SIDECAR}: {exc}"]) from None
