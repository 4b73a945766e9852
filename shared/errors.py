"""The one exception tree of datagen.

::

    DatagenError                    base: every error the tool raises on purpose
     ├── UsageError                 a bad command-line option or override (exit 2)
     ├── SchemaError                the schema file is unreadable or invalid (exit 2);
     │                              carries every Problem found, best first
     ├── PlanError                  the schema is valid but cannot be planned (exit 2),
     │    └── InfeasibleSchema      e.g. a unique column whose domain cannot hold its rows
     ├── OutputError                artifacts cannot be written or read (exit 3)
     └── GenerationError            the engine failed while generating (exit 3)

Every ``DatagenError`` maps to one exit code (``exit_code``) in one place
(``shared.cli.common``), and renders as one message: each problem with its file,
line and column, the path inside the schema and a hint.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One located problem: what is wrong, where, and what to do about it."""

    message: str
    path: str = ""  # e.g. "tables[1].columns[2].generator.params.max"
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    hint: str | None = None

    def render(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
                if self.column:
                    where += f":{self.column}"
            where += ": "
        text = where + (f"{self.path}: " if self.path else "") + self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class DatagenError(Exception):
    """Base of every error datagen raises on purpose."""

    exit_code = 3

    def __init__(self, message: str, problems: list[Problem] | tuple[Problem, ...] = ()):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(message)

    def render(self, max_shown: int = MAX_SHOWN_PROBLEMS) -> str:
        """One message: the summary line, then each problem (capped, '... and N more')."""
        lines = [str(self)]
        shown = self.problems[:max_shown]
        lines += ["  " + p.render() for p in shown]
        rest = len(self.problems) - len(shown)
        if rest > 0:
            lines.append(f"  ... and {rest} more")
        return "\n".join(lines)


class UsageError(DatagenError):
    """A bad option, override or argument on the command line."""

    exit_code = 2


class SchemaError(DatagenError):
    """The schema file cannot be read or does not describe a valid dataset."""

    exit_code = 2


class PlanError(DatagenError):
    """A valid schema that cannot be planned (bad overrides, cycles, bounds)."""

    exit_code = 2


class InfeasibleSchema(PlanError):
    """The schema's constraints cannot all hold (unique capacity, contradictions)."""


class OutputError(DatagenError):
    """Artifacts cannot be written, replaced or read."""

    exit_code = 3


class GenerationError(DatagenError):
    """The engine failed while generating data."""

    exit_code = 3
