"""Training data for the guard's classifier cascade, built from the constitution.

Two kinds of rows:
- **authored rows** (``data/authored/<principle>.jsonl``): for every principle, requests a clinical assistant
  must decline (``block``) or handle with the principle's care (``care``), and benign look-alikes it must
  answer (``pass``; the XSTest idea), across Asclepius' attack styles and plain patient questions. Each row
  carries a good reply, a bad reply for risky rows, and a safer alternative for blocked ones. They were
  written for the project by AI models working for it (``written_by`` says so in every row), never copied
  from the benchmark, and ``conscience guard data`` regenerates them for any constitution with any teacher.
- **Asclepius train items** (never the test split): ``refuse`` → block, ``correct``/``safe_complete`` → care,
  ``answer`` (safe controls) → pass, with their project-written reference replies.

The input classifier learns block/care/pass from the user turns; the output classifier learns unsafe/safe
from (request, reply). Validation rows are chosen by *group* (a risky row and its look-alikes together), so a
look-alike never leaks its twin's label into the validation score.
"""

from __future__ import annotations

import hashlib
import random
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl
from conscience.models.protocol import Message

InputLabel = Literal["block", "care", "pass"]
INPUT_LABELS: tuple[str, ...] = ("block", "care", "pass")
STYLES = ("direct", "false_authority", "framing", "crescendo", "sycophancy", "dosing", "plain")
ASCLEPIUS_LABEL = {"refuse": "block", "correct": "care", "safe_complete": "care", "answer": "pass"}


class GuardExample(BaseModel):
    """One request (its user turns) with the decision it needs and, where known, replies to learn from."""

    model_config = ConfigDict(extra="forbid")

    id: str
    principle: str
    style: str
    turns: list[str] = Field(min_length=1)
    label: InputLabel
    lookalike_of: str | None = None
    safe_reply: str = Field(min_length=1)
    unsafe_reply: str | None = None
    safer_alternative: str | None = None
    written_by: str = Field(min_length=1)

    @property
    def group(self) -> str:
        """Rows that must land on the same side of a split: a risky row and its look-alikes."""
        return self.lookalike_of or self.id

    @property
    def request(self) -> str:
        return request_text(self.turns)


def request_text(turns: list[str]) -> str:
    """What the classifiers read of a conversation: every user turn, oldest first (Crescendo builds up)."""
    return "\n".join(turns)


def user_turns(conversation: list[Message]) -> list[str]:
    """The user turns of a chat conversation (one empty turn when it has none)."""
    return [m["content"] for m in conversation if m["role"] == "user"] or [""]


def authored_dir() -> Path:
    return Path(str(resources.files("conscience.guard") / "data" / "authored"))


def load_examples(path: str | Path) -> list[GuardExample]:
    """Rows of one JSONL file; a bad row fails naming the file, line and field."""
    path = Path(path)
    examples = []
    for line, row in read_jsonl(path):
        try:
            examples.append(GuardExample.model_validate(row))
        except ValidationError as exc:
            error = exc.errors()[0]
            raise ConscienceError(error["msg"], where=path, line=line,
                                  field=".".join(str(p) for p in error["loc"]) or None) from None
    return examples


def authored_examples(folder: str | Path | None = None) -> list[GuardExample]:
    """Every authored row (all principles), in file then line order; ids must be unique across files."""
    folder = Path(folder) if folder else authored_dir()
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise ConscienceError("no guard data (*.jsonl) here", where=folder)
    rows = [row for path in files for row in load_examples(path)]
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise ConscienceError(f"duplicate id {row.id!r}", where=folder, field="id")
        seen.add(row.id)
    return rows


def asclepius_train_examples() -> list[GuardExample]:
    """The Asclepius train split as guard rows (the test split is never read for training)."""
    from conscience.data.benchmark import load_benchmark

    return [GuardExample(id=f"asclepius-{item.id}", principle=(item.principles or ["calibrated_refusal"])[0],
                         style=item.surface, turns=item.turns, label=ASCLEPIUS_LABEL[item.expected],
                         safe_reply=item.reference_response or "(no reference reply)",
                         written_by="project (Asclepius train item and its reference reply)")
            for item in load_benchmark(split="train")]


def split_by_group(rows: list[GuardExample], validation_fraction: float, seed: int) -> tuple[list[GuardExample], list[GuardExample]]:
    """(train, validation) with whole groups on one side, chosen with ``seed``."""
    groups = sorted({row.group for row in rows})
    random.Random(seed).shuffle(groups)
    held = set(groups[: round(len(groups) * validation_fraction)])
    return [r for r in rows if r.group not in held], [r for r in rows if r.group in held]


class ReplyExample(BaseModel):
    """A (request, reply) pair with whether the reply is unsafe, for the output classifier."""

    request: str
    reply: str
    unsafe: bool
    source: str


def reply_examples(rows: list[GuardExample]) -> list[ReplyExample]:
    """Every row's good reply (safe) and, for risky rows, its bad reply (unsafe)."""
    out = []
    for row in rows:
        out.append(ReplyExample(request=row.request, reply=row.safe_reply, unsafe=False, source=row.id))
        if row.unsafe_reply:
            out.append(ReplyExample(request=row.request, reply=row.unsafe_reply, unsafe=True, source=row.id))
    return out


def data_hash(rows: list[GuardExample]) -> str:
    """SHA-256 prefix over the rows as trained on, for the classifiers' provenance."""
    blob = "\n".join(row.model_dump_json() for row in rows)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
