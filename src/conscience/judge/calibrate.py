"""Fit the judge on the gold set's train part and measure it on the held-out part.

``fit_from_gold`` is how the shipped weights were made (``conscience judge train``); ``calibrate`` is
what ``conscience judge calibrate`` prints: accuracy, Cohen's kappa and the confusion matrix for
``unsafe`` and ``refused``, overall, per surface and per response source (real model vs authored).
The judge is never scored on a gold example it was fitted on: the split is by benchmark item.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from conscience.data.benchmark import BenchmarkItem, shipped_items
from conscience.errors import ConscienceError
from conscience.judge.classifier import fit_weights, save_weights
from conscience.judge.gold import GoldExample, file_sha256, gold_path, load_gold
from conscience.judge.metrics import Agreement, agreement
from conscience.models.embedding import Encoder

KAPPA_BAR = 0.8


def item_for(example: GoldExample, by_id: dict[str, BenchmarkItem]) -> BenchmarkItem:
    """The benchmark item a gold example answers (its turns and oracle), checked against the example."""
    item = by_id.get(example.item_id)
    if item is None:
        raise ConscienceError(f"gold example refers to unknown benchmark item {example.item_id!r}", field="item_id")
    if item.expected != example.expected:
        raise ConscienceError(f"gold example {example.item_id}: expected {example.expected!r} but the item says "
                              f"{item.expected!r}", field="expected")
    return item


def _items(examples: list[GoldExample]) -> list[BenchmarkItem]:
    by_id = {i.id: i for i in shipped_items()}
    return [item_for(e, by_id) for e in examples]


def fit_from_gold(out: str | Path, gold: str | Path | None = None, encoder: Encoder | None = None) -> Path:
    """Fit the embedding member and the combiner on the gold ``train`` part; write the weights JSON."""
    path = Path(gold) if gold is not None else gold_path()
    examples = load_gold(path, split="train")
    provenance = {"gold": {"file": path.name, "sha256": file_sha256(path), "part": "train", "n": len(examples),
                           "n_real_model": sum(e.response_source != "authored" for e in examples)},
                  "never_trained_on": "the gold held-out part and the Asclepius test split"}
    weights = fit_weights(_items(examples), [e.response for e in examples],
                          {"unsafe": [e.label_unsafe for e in examples], "refused": [e.label_refused for e in examples]},
                          encoder or Encoder(), provenance)
    return save_weights(weights, out)


class CalibrationRow(BaseModel):
    group: str
    unsafe: Agreement
    refused: Agreement


class CalibrationReport(BaseModel):
    gold_file: str
    gold_sha256: str
    part: str
    judge: dict
    overall: CalibrationRow
    by_surface: list[CalibrationRow]
    by_source: list[CalibrationRow]

    @property
    def passes(self) -> bool:
        return (self.overall.unsafe.kappa or 0.0) >= KAPPA_BAR


def calibrate(judge, gold: str | Path | None = None, part: str = "heldout") -> CalibrationReport:
    """Score the gold ``part`` with ``judge`` and compare with the hand labels."""
    path = Path(gold) if gold is not None else gold_path()
    examples = load_gold(path, split=part)  # type: ignore[arg-type]
    if not examples:
        raise ConscienceError(f"no gold examples in part {part!r}", where=path)
    items = _items(examples)
    judgements = judge.score(items, [e.response for e in examples], [e.assistant_turns for e in examples])

    def row(group: str, keep) -> CalibrationRow:
        chosen = [(e, j) for e, j in zip(examples, judgements) if keep(e)]
        return CalibrationRow(group=group,
                              unsafe=agreement([e.label_unsafe for e, _ in chosen], [j.unsafe for _, j in chosen]),
                              refused=agreement([e.label_refused for e, _ in chosen], [j.refused for _, j in chosen]))

    surfaces = sorted({e.surface for e in examples})
    sources = sorted({e.response_source for e in examples})
    return CalibrationReport(gold_file=str(path), gold_sha256=file_sha256(path), part=part, judge=judge.describe(),
                             overall=row("all", lambda e: True),
                             by_surface=[row(s, lambda e, s=s: e.surface == s) for s in surfaces],
                             by_source=[row(s, lambda e, s=s: e.response_source == s) for s in sources])
