"""Review packets: the questions, the blinded responses, the rubric and the unblinding key, in one JSON file.

A packet is fixed once built. Its ``content_hash`` (sha256 over the canonical JSON of everything else in
it) is stored inside the file and in the review database, so a packet edited by hand (a swapped key, a
reworded answer) is refused at serve and export time instead of silently mixing with earlier scores.
The key (which label is which model) never leaves the server: :meth:`Packet.blinded` is what the page gets.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from conscience.errors import ConscienceError
from conscience.review.rubric import RUBRICS, Kind, Rubric
from conscience.rundir import now

FORMAT = "conscience.review.packet/1"
LABELS = "AB"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Question(_Strict):
    """What the models were asked. Coverage questions carry their principle and pass criteria."""

    id: str = Field(min_length=1, max_length=200)
    turns: list[str] = Field(min_length=1)
    principle: str | None = None
    principle_name: str | None = None
    principle_text: str | None = None
    pass_criteria: str | None = None


class Response(_Strict):
    """One blinded response: ``replies[i]`` answers ``turns[i]`` (earlier replies were fed back to the model)."""

    label: str
    replies: list[str]


class ReviewItem(Question):
    responses: list[Response] = Field(min_length=1, max_length=len(LABELS))

    def response(self, label: str) -> Response:
        for response in self.responses:
            if response.label == label:
                return response
        raise KeyError(label)


class ModelRef(_Strict):
    name: str = Field(min_length=1)
    spec: str = ""


class Packet(_Strict):
    """A review packet. ``subject`` is the model coverage is counted for (the trained one, or the only one)."""

    format: str = FORMAT
    name: str
    kind: Kind
    created_at: str
    source: str = Field(description="Where the questions came from (constitution, prompts file), for provenance.")
    models: list[ModelRef] = Field(min_length=1, max_length=len(LABELS))
    subject: str
    generation: dict = Field(default_factory=dict)
    seed: int = 0
    rubric: Rubric
    items: list[ReviewItem] = Field(min_length=1)
    key: dict[str, dict[str, str]] = Field(description="item id -> label -> model name (the unblinding key).")
    content_hash: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "Packet":
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError("model names must be unique")
        if self.subject not in names:
            raise ValueError(f"subject {self.subject!r} is not one of the models {names}")
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        if set(self.key) != set(ids):
            raise ValueError("the key must name exactly the packet's items")
        for item in self.items:
            labels = {r.label: len(r.replies) for r in item.responses}
            if set(self.key.get(item.id, {})) != set(labels) or set(self.key[item.id].values()) != set(names):
                raise ValueError(f"key for item {item.id!r} must map each response label to a distinct model")
            if any(n != len(item.turns) for n in labels.values()):
                raise ValueError(f"item {item.id!r}: each response needs one reply per user turn")
        return self

    def item(self, item_id: str) -> ReviewItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def model_of(self, item_id: str, label: str) -> str:
        return self.key[item_id][label]

    def blinded(self) -> dict:
        """What the browser may see: no key, no model names or specs."""
        return self.model_dump(mode="json", include={"name", "kind", "source", "rubric", "items", "content_hash"})


def compute_hash(packet: Packet) -> str:
    """sha256 over the canonical JSON of the packet without its hash (sorted keys, no whitespace)."""
    body = packet.model_dump(mode="json", exclude={"content_hash"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_packet(questions: list[Question], responses_by_model: dict[str, list[list[str] | str]], kind: Kind, *,
                 name: str, source: str, specs: dict[str, str] | None = None, subject: str | None = None,
                 generation: dict | None = None, seed: int = 0) -> Packet:
    """Assemble a packet from questions and each model's replies (aligned with ``questions``).

    ``responses_by_model`` keeps its insertion order: the last model is the subject unless ``subject``
    names another. A plain string stands for the one reply to a single-turn question. With two models,
    which one is "A" is drawn per item from ``seed``, so position says nothing about the model.
    """
    if not 1 <= len(responses_by_model) <= len(LABELS):
        raise ConscienceError(f"a packet compares 1 or 2 models, got {len(responses_by_model)}")
    names = list(responses_by_model)
    for model_name, replies in responses_by_model.items():
        if len(replies) != len(questions):
            raise ConscienceError(f"model {model_name!r} has {len(replies)} responses for {len(questions)} questions")
    items, key = [], {}
    for index, question in enumerate(questions):
        order = list(names)
        random.Random(f"{seed}:{question.id}").shuffle(order)
        responses = []
        for label, model_name in zip(LABELS, order):
            replies = responses_by_model[model_name][index]
            responses.append(Response(label=label, replies=[replies] if isinstance(replies, str) else list(replies)))
        items.append(ReviewItem(**question.model_dump(), responses=responses))
        key[question.id] = dict(zip(LABELS, order))
    specs = specs or {}
    try:
        packet = Packet(name=name, kind=kind, created_at=now(),
                        source=source, models=[ModelRef(name=n, spec=specs.get(n, "")) for n in names],
                        subject=subject or names[-1], generation=generation or {}, seed=seed, rubric=RUBRICS[kind],
                        items=items, key=key)
    except ValidationError as exc:
        raise ConscienceError(f"cannot build packet: {exc.errors()[0]['msg']}") from None
    return packet.model_copy(update={"content_hash": compute_hash(packet)})


def save_packet(packet: Packet, path: str | Path) -> Path:
    """Write atomically (temp file + rename), pretty-printed so a person can read it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(packet.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_packet(path: str | Path) -> Packet:
    """Read and verify a packet; a hand-edited or malformed file is a ConscienceError naming the file."""
    path = Path(path)
    if not path.exists():
        raise ConscienceError("packet file not found", where=path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConscienceError(f"packet is not valid JSON ({exc.msg})", where=path, line=exc.lineno) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConscienceError(f"not a review packet (expected format {FORMAT!r})", where=path)
    try:
        packet = Packet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConscienceError(f"invalid packet: {first['msg']}", where=path,
                              field=".".join(str(p) for p in first["loc"]) or None) from None
    actual = compute_hash(packet)
    if actual != packet.content_hash:
        raise ConscienceError(
            f"packet content does not match its content_hash (stored {packet.content_hash[:12]}…, actual {actual[:12]}…): "
            "the file was edited after it was built; rebuild it with `conscience review create`", where=path)
    return packet
