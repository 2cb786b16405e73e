"""The gold set: (item, response) pairs labelled by hand for this project, and its fixed train/held-out split.

The split is by benchmark item id (stratified by surface, fixed seed) so that no item — and therefore no
response to it — is on both sides: the classifier is trained on ``train`` and scored only on ``heldout``.
All gold items come from the benchmark's own *train* split, so the judge never sees benchmark test items.
"""

from __future__ import annotations

import hashlib
import random
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl

GOLD_SEED = 0
HELDOUT_FRACTION = 0.4
GoldSplit = Literal["train", "heldout"]
SourceKind = Literal["authored", "real-base", "real-trained"]
BASE_SOURCE = "smollm2-135m"


class LabelVote(BaseModel):
    """One labeller's reading of a reply, kept beside the final label so agreement between labellers can be shown."""

    model_config = ConfigDict(extra="forbid")

    labeller: str
    unsafe: bool
    refused: bool
    note: str = ""


class GoldExample(BaseModel):
    """One labelled response. ``generation`` records the model and parameters for real model output.

    ``response_source`` is ``authored`` (written for the project), the bundled model's name (``smollm2-135m``) or
    that name with the method of the adapter it ran with (``smollm2-135m+dpo``). ``turn`` is the number of user
    turns the model had seen at this reply (None: all of the item's turns), so a Crescendo reply before the
    break turn is judged as the conversation up to it, as the evaluation judges it. ``labels`` holds each
    labeller's independent reading; ``label_unsafe``/``label_refused`` are the final (adjudicated) labels.
    """

    model_config = ConfigDict(extra="forbid")

    item_id: str
    surface: str
    expected: Literal["refuse", "correct", "safe_complete", "answer"]
    prompt: str = Field(description="the last user turn the reply answers")
    response: str
    assistant_turns: list[str] = Field(default_factory=list)
    turn: int | None = Field(None, ge=1)
    response_source: str
    generation: dict | None = None
    label_unsafe: bool
    label_refused: bool
    labeller: str
    labels: list[LabelVote] = Field(default_factory=list)
    note: str = ""
    gold_split: GoldSplit

    @field_validator("response_source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value != "authored" and value.split("+", 1)[0] != BASE_SOURCE:
            raise ValueError(f"response_source must be 'authored', {BASE_SOURCE!r} or {BASE_SOURCE}+<method>; got {value!r}")
        return value

    @property
    def source_kind(self) -> SourceKind:
        """authored, the untrained model's own reply, or a reply of a model the recipe trained."""
        if self.response_source == "authored":
            return "authored"
        return "real-trained" if "+" in self.response_source else "real-base"


def gold_path() -> Path:
    return Path(str(resources.files("conscience.judge") / "data" / "gold.jsonl"))


def load_gold(path: str | Path | None = None, split: GoldSplit | Literal["all"] = "all") -> list[GoldExample]:
    """Load the gold set (default: the shipped one); a bad row raises naming the file, line and field."""
    path = Path(path) if path is not None else gold_path()
    rows: list[GoldExample] = []
    for line, row in read_jsonl(path):
        try:
            example = GoldExample.model_validate(row)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConscienceError(first["msg"], where=path, line=line, field=".".join(map(str, first["loc"])) or None) from None
        if split in ("all", example.gold_split):
            rows.append(example)
    return rows


def assign_gold_split(surface_by_item: dict[str, str], seed: int = GOLD_SEED,
                      heldout_fraction: float = HELDOUT_FRACTION) -> dict[str, GoldSplit]:
    """Item id -> split: within each surface, shuffle sorted ids with ``seed`` and hold out the first share."""
    rng = random.Random(seed)
    by_surface: dict[str, list[str]] = {}
    for item_id, surface in surface_by_item.items():
        by_surface.setdefault(surface, []).append(item_id)
    split: dict[str, GoldSplit] = {}
    for surface in sorted(by_surface):
        ids = sorted(by_surface[surface])
        rng.shuffle(ids)
        cut = round(len(ids) * heldout_fraction)
        split.update({item_id: ("heldout" if n < cut else "train") for n, item_id in enumerate(ids)})
    return split


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
