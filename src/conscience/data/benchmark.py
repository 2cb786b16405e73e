"""Benchmark items: the typed record, the loader (shipped Asclepius data or a user's JSONL), and the fixed split.

:class:`BenchmarkItem` is the case record every judge member scores, so it lives on this low floor: the
judge, generation (whose Asclepius-sourced prompts carry their item) and evaluation all import it from
here, and none of them has to import another stage to read a case. The shipped data lives in
``asclepius/<surface>.jsonl`` beside this module, written for this project. The train/test split is
stratified by surface with a fixed seed and frozen in ``asclepius/split.json`` so that it never drifts when
items are added: new items must be assigned explicitly by re-running :func:`make_split`.
"""

from __future__ import annotations

import json
import random
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl

SURFACES = ("direct_harm", "false_authority", "sycophancy", "crescendo", "dosing", "framing")
SAFE_CONTROL = "safe_control"
Expected = Literal["refuse", "correct", "safe_complete", "answer"]
SPLIT_SEED = 0
TEST_FRACTION = 0.5


class BenchmarkItem(BaseModel):
    """One benchmark item. Unknown keys are kept (``extra="allow"``), as user files may carry their own."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    surface: str = "external"
    turns: list[str] = Field(min_length=1)
    expected: Expected = "refuse"
    principles: list[str] = Field(default_factory=list)
    false_claim: str | None = None
    correct_fact: str | None = None
    neutral_twin: str | None = None
    oracle: dict[str, list[str]] = Field(default_factory=dict)
    notes: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _prompt_to_turns(cls, data: Any) -> Any:
        if isinstance(data, dict) and "turns" not in data:
            prompt = data.get("prompt")
            if not isinstance(prompt, str) or not prompt.strip():
                raise ValueError("needs 'turns' (a list of user messages) or 'prompt' (one message)")
            data = {**data, "turns": [prompt]}
            data.pop("prompt")
        if isinstance(data, dict) and data.get("surface") is None:
            data = {**data, "surface": "external"}
        return data

    @property
    def is_multi_turn(self) -> bool:
        return len(self.turns) > 1

    @property
    def last_prompt(self) -> str:
        return self.turns[-1]


def data_dir() -> Path:
    return Path(str(resources.files("conscience.data") / "asclepius"))


def parse_item(row: dict, path: Path, line: int) -> BenchmarkItem:
    try:
        return BenchmarkItem.model_validate(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise ConscienceError(first["msg"], where=path, line=line, field=field) from None


def load_items(path: str | Path) -> list[BenchmarkItem]:
    """Load a benchmark JSONL file; any bad line raises naming the file, line and field."""
    path = Path(path)
    items, seen = [], {}
    for line, row in read_jsonl(path):
        item = parse_item(row, path, line)
        if item.id in seen:
            raise ConscienceError(f"duplicate id {item.id!r} (first on line {seen[item.id]})", where=path, line=line, field="id")
        seen[item.id] = line
        items.append(item)
    return items


def shipped_items() -> list[BenchmarkItem]:
    items: list[BenchmarkItem] = []
    for surface in (*SURFACES, SAFE_CONTROL):
        items.extend(load_items(data_dir() / f"{surface}.jsonl"))
    return items


def make_split(items: list[BenchmarkItem], seed: int = SPLIT_SEED, test_fraction: float = TEST_FRACTION) -> dict:
    """Stratified split: within each surface, shuffle ids with ``seed`` and take ``test_fraction`` for test."""
    rng = random.Random(seed)
    test: list[str] = []
    by_surface: dict[str, list[str]] = {}
    for item in items:
        by_surface.setdefault(item.surface, []).append(item.id)
    for surface in sorted(by_surface):
        ids = sorted(by_surface[surface])
        rng.shuffle(ids)
        test.extend(sorted(ids[: round(len(ids) * test_fraction)]))
    return {"seed": seed, "test_fraction": test_fraction, "stratified_by": "surface", "test_ids": sorted(test)}


def load_split() -> set[str]:
    return set(json.loads((data_dir() / "split.json").read_text())["test_ids"])


def unsplit(items: list[BenchmarkItem]) -> bool:
    """True for a user file whose rows carry no ``split`` key: it has no test/train parts, so all of it is used."""
    return not any(getattr(i, "split", None) for i in items)


def load_benchmark(path: str | Path | None = None, split: Literal["train", "test", "all"] = "all") -> list[BenchmarkItem]:
    """The shipped benchmark (``path=None``) filtered by split, or a user's file: filtered by its rows' ``split``
    keys when they carry them, whole when none does (a user's own file rarely has one; callers say so, see
    :func:`unsplit`). A file where only some rows carry ``split`` is an error."""
    if path is None:
        items = shipped_items()
        if split == "all":
            return items
        test_ids = load_split()
        return [i for i in items if (i.id in test_ids) == (split == "test")]
    items = load_items(path)
    if split == "all" or unsplit(items):
        return items
    if not all(getattr(i, "split", None) for i in items):
        raise ConscienceError(f"--split {split}: some rows have a 'split' key and some do not; give every row one, or none "
                              "to evaluate the whole file", where=path, field="split")
    return [i for i in items if getattr(i, "split") == split]
