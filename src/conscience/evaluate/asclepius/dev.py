"""A dev split for choosing recipe settings without touching the test split.

The Asclepius *train* items that no training pair was drawn from: tuning a learning rate or a loss on the test
split would make its figures optimistic, and tuning on the items the model was trained on measures memory. An
item is left out when any of its user turns equals (whitespace and case aside) a user turn of a pair in any
split other than ``validation``; the pairs' validation split only steers early stopping, so its items stay in.
"""

from __future__ import annotations

import re
from pathlib import Path

from conscience.data import BenchmarkItem, normalize_text
from conscience.data.contamination import pairs_prompts

VALIDATION_LABEL = re.compile(r"\[validation\]\[\d+\]$")  # pairs_prompts labels a folder row as name[split][row]


def dev_items(train_items: list[BenchmarkItem], pairs: str | Path) -> list[BenchmarkItem]:
    """``train_items`` minus those whose user turns appear in the training pairs of ``pairs``."""
    texts, labels = pairs_prompts(pairs)
    trained_on = {normalize_text(text) for text, label in zip(texts, labels) if not VALIDATION_LABEL.search(label)}
    return [item for item in train_items if not any(normalize_text(turn) in trained_on for turn in item.turns)]
