"""The one exception type for problems a user can fix.

A :class:`InputError` names the file, and where known the row and column, says what is wrong
and how to fix it. The command line prints it without a traceback and exits with code 1; a
traceback always means a bug in this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath


@dataclass
class InputError(Exception):
    """A problem in an input file or in the configuration that the user can fix.

    ``row`` is the 1-based line number in the file as a text editor shows it (header lines
    included) where that is known, else the 1-based data row; ``column`` is the column name as it
    appears in the file.
    """

    problem: str
    file: str | Path | None = None
    row: int | None = None
    column: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if self.file is not None:
            file = self.file if isinstance(self.file, PurePath) else Path(self.file)
            where.append(f"file {file.as_posix()}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.problem
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text

    @property
    def line(self) -> str:
        """The message on one line (``...: problem; fix: hint``), for a log's ``ERROR`` line."""
        return self.message.replace("\n  fix: ", "; fix: ").replace("\n", " ")

    def located(self) -> str:
        """Row, column, problem and fix on one line, without the file (for a table of findings
        that names the file in its own column)."""
        return InputError(self.problem, None, self.row, self.column, self.hint).line

    def __str__(self) -> str:  # pragma: no cover - exercised through the CLI
        return self.message


class ConfigError(InputError):
    """A problem in ``config.yaml`` (or a ``--config`` override)."""
