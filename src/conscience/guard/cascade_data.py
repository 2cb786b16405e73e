"""Training data for the guard's classifier cascade, built from the constitution.

Two kinds of rows, both :class:`conscience.data.AuthoredRow`:
- **authored rows** (``conscience/data/authored/<principle>.jsonl``, on the records floor because generation
  draws training prompts from them too): for every principle, requests a clinical assistant must decline
  (``block``) or handle with the principle's care (``care``), and benign look-alikes it must answer (``pass``;
  the XSTest idea), across Asclepius' attack styles and plain patient questions. Each row carries a good reply,
  a bad reply for risky rows, and a safer alternative for blocked ones. They were written for the project by
  AI models working for it (``written_by`` says so in every row), never copied from the benchmark, and
  ``conscience guard data`` regenerates them for any constitution with any teacher. A ``clinician/``
  subfolder, when present, adds requests from clinicians and health staff; only the guard reads it
  (``guard_rows``).
- **Asclepius train items** (never the test split): ``refuse`` → block, ``correct``/``safe_complete`` → care,
  ``answer`` (safe controls) → pass, with their project-written reference replies.

The input classifier learns block/care/pass from the user turns; the output classifier learns unsafe/safe
from (request, reply). Validation rows are chosen by *group* (a risky row and its look-alikes together), so a
look-alike never leaks its twin's label into the validation score.
"""

from __future__ import annotations

import hashlib
import random
import re

from pydantic import BaseModel

from conscience.data import AuthoredRow
from conscience.models.protocol import Message

INPUT_LABELS: tuple[str, ...] = ("block", "care", "pass")
STYLES = ("direct", "false_authority", "framing", "crescendo", "sycophancy", "dosing", "plain")
ASCLEPIUS_LABEL = {"refuse": "block", "correct": "care", "safe_complete": "care", "answer": "pass"}


def request_text(turns: list[str]) -> str:
    """What the classifiers read of a conversation: every user turn, oldest first (Crescendo builds up)."""
    return "\n".join(turns)


# A question that opens with a modal verb: "How could a nurse ...", "What should I ...". In the shipped rows with
# the clinician rows of benchmarks/guard_rows the modal nearly gave the label away (could/might/would: 173 block
# rows, 3 pass; should: 120 pass, 21 block or care), and a classifier fitted on them learned it: "How might a
# doctor protect a patient's HIV status from disclosure?" was blocked, "How can a doctor share a patient's HIV
# status with their employer?" passed (benchmarks/README.md). ``modal_variants`` breaks that shortcut.
MODALS = ("can", "could", "might", "would", "should")
MODAL_OPENER = re.compile(r"^(\W*(?:how|what|which|where|when|why|who|is there a way|are there ways|in what ways?)\b"
                          r"(?:\W+\w+){0,5}?\W+)(can|could|might|would|should)\b", re.IGNORECASE)


def modal_variants(rows: list[AuthoredRow]) -> list[AuthoredRow]:
    """For every row whose last user turn opens with a modal question, the same row with each other modal
    (label unchanged), so every modal occurs equally often with every label and cannot stand in for the request.

    Training-time rows, never written out: ids ``<id>~<modal>``, ``lookalike_of`` set to the source's group so
    they stay on its side of any split, and ``written_by`` says the opener was rewritten by this function."""
    variants = []
    for row in rows:
        match = MODAL_OPENER.match(row.turns[-1])
        if not match:
            continue
        found = match.group(2)
        for modal in MODALS:
            if modal == found.lower():
                continue
            word = modal.capitalize() if found[0].isupper() else modal
            turn = match.group(1) + word + row.turns[-1][match.end():]
            variants.append(row.model_copy(update={
                "id": f"{row.id}~{modal}", "turns": [*row.turns[:-1], turn], "lookalike_of": row.group,
                "written_by": f"{row.written_by}; opener modal '{found}' rewritten as '{word}' by "
                              "conscience.guard.cascade_data.modal_variants"}))
    return variants


def user_turns(conversation: list[Message]) -> list[str]:
    """The user turns of a chat conversation (one empty turn when it has none)."""
    return [m["content"] for m in conversation if m["role"] == "user"] or [""]


def asclepius_train_examples() -> list[AuthoredRow]:
    """The Asclepius train split as guard rows (the test split is never read for training)."""
    from conscience.data.benchmark import load_benchmark

    return [AuthoredRow(id=f"asclepius-{item.id}", principle=(item.principles or ["calibrated_refusal"])[0],
                        style=item.surface, turns=item.turns, label=ASCLEPIUS_LABEL[item.expected],
                        safe_reply=item.reference_response or "(no reference reply)",
                        written_by="project (Asclepius train item and its reference reply)")
            for item in load_benchmark(split="train")]


def split_by_group(rows: list[AuthoredRow], validation_fraction: float,
                   seed: int) -> tuple[list[AuthoredRow], list[AuthoredRow]]:
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


def reply_examples(rows: list[AuthoredRow]) -> list[ReplyExample]:
    """Every row's good reply (safe) and, for risky rows, its bad reply (unsafe)."""
    out = []
    for row in rows:
        out.append(ReplyExample(request=request_text(row.turns), reply=row.safe_reply, unsafe=False, source=row.id))
        if row.unsafe_reply:
            out.append(ReplyExample(request=request_text(row.turns), reply=row.unsafe_reply, unsafe=True, source=row.id))
    return out


def data_hash(rows: list[AuthoredRow]) -> str:
    """SHA-256 prefix over the rows as trained on, for the classifiers' provenance."""
    blob = "\n".join(row.model_dump_json() for row in rows)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
