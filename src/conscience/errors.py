"""One error type for problems the user can fix (bad files, bad specs, missing weights).

The CLI prints these as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class ConscienceError(Exception):
    """A user-facing error. ``where`` names the file (and line or field) the problem is in."""

    def __init__(self, message: str, where: str | Path | None = None, line: int | None = None, field: str | None = None):
        self.message = message
        self.where = str(where) if where is not None else None
        self.line = line
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        location = self.where or ""
        if self.line is not None:
            location += f":{self.line}"
        if self.field:
            location += f" [{self.field}]" if location else f"[{self.field}]"
        return f"{location}: {self.message}" if location else self.message
