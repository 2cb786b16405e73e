"""Prompt records and loaders for users' prompt files: JSONL, CSV and Hugging Face datasets on disk.

Each row needs a prompt: a ``prompt`` string (the column name is configurable) or, in JSONL/datasets,
``turns`` (a list of user messages, for multi-turn prompts). ``id`` is optional; without it the id is a
hash of the text, so it stays the same if rows are reordered, which keeps resumed runs aligned.
Optional ``principles`` (constitution ids) and ``expected`` are kept. Every error names the file and line
(or row), and the whole file is read before anything is returned, so a bad row fails before any work.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from conscience.data.benchmark import BenchmarkItem, Expected
from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl

HF_FILE_BUILDERS = {".parquet": "parquet", ".arrow": "arrow", ".json": "json", ".jsonl": "json", ".csv": "csv"}


class Prompt(BaseModel):
    """One training prompt: the user turns and what is known about it.

    ``source`` names the recipe source it came from. A prompt drawn from the benchmark's train split keeps
    its :class:`BenchmarkItem` in ``item`` (oracle markers, false claim, surface), so a judge scores replies
    to it exactly as it scores the benchmark; :meth:`as_item` gives every prompt that form. ``group`` names
    prompts that belong together (a risky request and its benign look-alikes): a prompt mix draws and orders
    them as one unit, so a prefix of the mix keeps them together.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    turns: list[str] = Field(min_length=1)
    principles: list[str] = Field(default_factory=list)
    expected: Expected | None = None
    item: BenchmarkItem | None = None
    group: str | None = None

    @field_validator("turns")
    @classmethod
    def _no_empty_turns(cls, turns: list[str]) -> list[str]:
        if any(not isinstance(t, str) or not t.strip() for t in turns):
            raise ValueError("prompt turns must be non-empty strings")
        return turns

    @property
    def text(self) -> str:
        """The user turns joined, the form used for exact-match lookups and contamination checks."""
        return "\n\n".join(self.turns)

    def as_item(self, default_expected: Expected) -> BenchmarkItem:
        """This prompt as a benchmark case: its own (possibly PHI-scrubbed) turns, principles and expected
        behaviour (``default_expected`` when it declares none) over the item it came from, if any."""
        update = {"id": self.id, "turns": self.turns, "principles": self.principles,
                  "expected": self.expected or default_expected}
        if self.item is not None:
            return self.item.model_copy(update=update)
        return BenchmarkItem(**update)


def normalize_text(text: str) -> str:
    """Case and whitespace folded, for exact-match lookups of prompt text."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def text_id(turns: list[str]) -> str:
    return "p-" + hashlib.sha256("\n\n".join(turns).encode()).hexdigest()[:12]


def _row_to_prompt(row: dict[str, Any], source: str, column: str, where: Path, line: int | None, label: str) -> Prompt:
    """One row to a Prompt; ``label`` prefixes errors ("row 7" for datasets, which have no lines)."""
    if "turns" in row and column not in row:
        turns = row["turns"]
        if not isinstance(turns, list):
            raise ConscienceError(f"{label}: 'turns' must be a list of user messages", where=where, line=line, field="turns")
    else:
        value = row.get(column)
        if not isinstance(value, str) or not value.strip():
            raise ConscienceError(f"{label}: needs a non-empty {column!r} (or 'turns', a list of user messages)", where=where,
                                  line=line, field=column)
        turns = [value]
    raw_id = row.get("id")
    ident = str(raw_id).strip() if raw_id not in (None, "") else text_id(turns)
    principles = row.get("principles") or []
    if isinstance(principles, str):
        principles = [p.strip() for p in principles.replace(";", ",").split(",") if p.strip()]
    try:
        return Prompt(id=ident, source=source, turns=turns, principles=principles, expected=row.get("expected") or None)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConscienceError(f"{label}: {first['msg']}", where=where, line=line,
                              field=".".join(str(p) for p in first["loc"])) from None


def _unique(prompts: Iterable[tuple[int, Prompt]], where: Path, unit: str = "line") -> list[Prompt]:
    seen: dict[str, int] = {}
    out = []
    for number, prompt in prompts:
        if prompt.id in seen:
            message = f"duplicate id {prompt.id!r} (first on {unit} {seen[prompt.id]})"
            if unit == "line":
                raise ConscienceError(message, where=where, line=number, field="id")
            raise ConscienceError(f"{unit} {number}: {message}", where=where, field="id")
        seen[prompt.id] = number
        out.append(prompt)
    if not out:
        raise ConscienceError("no prompts in file", where=where)
    return out


def load_jsonl_prompts(path: Path, source: str, column: str = "prompt") -> list[Prompt]:
    return _unique(((line, _row_to_prompt(row, source, column, path, line, "bad row")) for line, row in read_jsonl(path)), path)


def load_csv_prompts(path: Path, source: str, column: str = "prompt") -> list[Prompt]:
    if not path.exists():
        raise ConscienceError("file not found", where=path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise ConscienceError(f"CSV needs a {column!r} column (found: {', '.join(reader.fieldnames or []) or 'none'})",
                                  where=path, line=1, field=column)
        rows = []
        for row in reader:
            line = reader.line_num  # the record's last physical line (exact for one-line records)
            if None in row:  # csv puts surplus cells under the key None
                raise ConscienceError("row has more cells than the header", where=path, line=line)
            rows.append((line, _row_to_prompt(row, source, column, path, line, "bad row")))
        return _unique(rows, path)


def load_hf_prompts(path: Path, source: str, column: str = "prompt", split: str = "train") -> list[Prompt]:
    """A dataset saved with ``save_to_disk`` or a local data file. Never a hub id: the path must exist."""
    if not path.exists():
        raise ConscienceError("dataset path not found (only local datasets are read; nothing is downloaded)", where=path)
    import datasets

    if path.is_dir():
        if not ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
            raise ConscienceError("not a dataset folder written by save_to_disk (no dataset_dict.json or state.json)", where=path)
        data = datasets.load_from_disk(str(path))
    elif path.suffix in HF_FILE_BUILDERS:
        data = datasets.load_dataset(HF_FILE_BUILDERS[path.suffix], data_files=str(path))
    else:
        raise ConscienceError(f"unsupported dataset file type {path.suffix!r}; use {', '.join(HF_FILE_BUILDERS)} or a "
                              "save_to_disk folder", where=path)
    if isinstance(data, datasets.DatasetDict):
        if split not in data:
            raise ConscienceError(f"dataset has no split {split!r} (has: {', '.join(data)})", where=path, field="split")
        data = data[split]
    return _unique(((index, _row_to_prompt(row, source, column, path, None, f"row {index}"))
                    for index, row in enumerate(data)), path, unit="row")


def load_prompt_file(path: str | Path, source: str, kind: str, column: str = "prompt", split: str = "train") -> list[Prompt]:
    """Load a user's prompt file of ``kind`` ("jsonl", "csv" or "hf"); any bad row raises naming where it is."""
    path = Path(path)
    if kind == "jsonl":
        return load_jsonl_prompts(path, source, column)
    if kind == "csv":
        return load_csv_prompts(path, source, column)
    if kind == "hf":
        return load_hf_prompts(path, source, column, split)
    raise ConscienceError(f"unknown prompt file kind {kind!r}; use jsonl, csv or hf", where=path, field="kind")
