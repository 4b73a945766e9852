"""The exceptions of the CSV package (independent of datagen's tree; the frontend maps them).

::

    CsvError                 base
     ├── DialectError        a bad dialect or compression setting (frontend: UsageError, exit 2)
     └── CsvWriteError       data that this dialect cannot write, e.g. a value that needs quotes
                             under quoting=none or a character the encoding lacks
                             (frontend: OutputError, exit 3)
"""

from __future__ import annotations


class CsvError(Exception):
    """Base of every error the CSV package raises on purpose."""


class DialectError(CsvError, ValueError):
    """A dialect or compression setting is not valid; the message names every problem."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


class CsvWriteError(CsvError):
    """The data cannot be written in the chosen dialect."""
