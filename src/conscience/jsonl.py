"""The one JSONL helper: read with line numbers, append crash-safely, resume by key.

Every stage that writes rows (sampling, generation, evaluation) appends here, one fsync'd line per row,
so a killed process loses at most the row it was writing, and a torn last line is detected and skipped
on re-read rather than silently corrupting the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conscience.errors import ConscienceError


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; a bad line raises naming file and line."""
    path = Path(path)
    if not path.exists():
        raise ConscienceError("file not found", where=path)
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConscienceError(f"invalid JSON ({exc.msg}, column {exc.colno})", where=path, line=number) from None
            if not isinstance(row, dict):
                raise ConscienceError("each line must be a JSON object", where=path, line=number)
            yield number, row


class JsonlStore:
    """An append-only JSONL file keyed by one field, for resumable jobs.

    Re-opening an existing store reads the keys already written; ``add`` refuses duplicates, so a
    re-run never writes a row twice. A torn final line (a crash mid-write) is truncated away on open.
    """

    def __init__(self, path: str | Path, key: str = "id"):
        self.path = Path(path)
        self.key = key
        self.rows: dict[str, dict[str, Any]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        good_end = 0
        for raw_line in data.splitlines(keepends=True):
            if not raw_line.endswith(b"\n"):
                break  # torn tail from a crash: everything before it is intact
            text = raw_line.decode("utf-8").strip()
            if text:
                try:
                    row = json.loads(text)
                except json.JSONDecodeError:
                    break
                self.rows[str(row[self.key])] = row
            good_end += len(raw_line)
        if good_end < len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(good_end)

    def __contains__(self, key: object) -> bool:
        return str(key) in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, row: dict[str, Any]) -> None:
        key = str(row[self.key])
        if key in self.rows:
            return
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self.rows[key] = row


def write_jsonl(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Write a whole JSONL file atomically (temp file + rename), for outputs that are not appended."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
