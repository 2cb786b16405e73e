"""Preference pairs in, checked and split: a ``save_to_disk`` DatasetDict folder or a JSONL file.

Every row must be TRL's conversational preference format (``prompt`` = messages ending in a user turn,
``chosen``/``rejected`` = assistant messages). A bad row raises naming its file and line (JSONL) or split
and row (dataset), rather than surfacing later as a tokenizer error deep inside TRL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict

from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl

COLUMNS = ("prompt", "chosen", "rejected")


@dataclass(frozen=True)
class PreferenceData:
    """Train and validation splits (only the three TRL columns), where they came from, and a content hash."""

    train: Dataset
    validation: Dataset
    source: str
    data_hash: str
    held_out: bool  # True when validation was split off the training pairs here


def _check_messages(value: Any, column: str, where: str, line: int | None, row: str) -> None:
    if not isinstance(value, list) or not value:
        raise ConscienceError(f"{row}{column} must be a non-empty list of messages", where=where, line=line, field=column)
    for message in value:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str) or "role" not in message:
            raise ConscienceError(f"{row}each {column} message needs 'role' and string 'content'",
                                  where=where, line=line, field=column)
    roles = [m["role"] for m in value]
    if column == "prompt" and roles[-1] != "user":
        raise ConscienceError(f"{row}prompt must end with a user message, not {roles[-1]!r}", where=where, line=line,
                              field=column)
    if column != "prompt" and any(r != "assistant" for r in roles):
        raise ConscienceError(f"{row}{column} messages must all be role 'assistant', got {roles}", where=where,
                              line=line, field=column)


def check_pair(row: dict[str, Any], where: str, line: int | None = None, row_label: str = "") -> dict[str, Any]:
    """Return the row's three columns (messages reduced to role and content) after checking their shape."""
    for column in COLUMNS:
        if column not in row:
            raise ConscienceError(f"{row_label}missing {column!r} (need prompt, chosen, rejected)", where=where,
                                  line=line, field=column)
        _check_messages(row[column], column, where, line, row_label)
    # Role and content only: save_to_disk pads message structs with None for keys other rows have.
    return {column: [{"role": m["role"], "content": m["content"]} for m in row[column]] for column in COLUMNS}


def _from_jsonl(path: Path) -> DatasetDict:
    rows = [check_pair(row, str(path), line) for line, row in read_jsonl(path)]
    if not rows:
        raise ConscienceError("no preference pairs in file", where=path)
    return DatasetDict({"train": Dataset.from_list(rows)})


def _from_folder(path: Path) -> DatasetDict:
    from datasets import load_from_disk

    try:
        loaded = load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as exc:
        raise ConscienceError(f"not a dataset saved with save_to_disk ({exc})", where=path) from None
    if not isinstance(loaded, DatasetDict) or "train" not in loaded:
        raise ConscienceError("expected a DatasetDict with a 'train' split (and optionally 'validation')", where=path)
    return _checked(DatasetDict({k: v for k, v in loaded.items() if k in ("train", "validation")}), str(path))


def _checked(splits: DatasetDict, where: str) -> DatasetDict:
    checked = {}
    for split, dataset in splits.items():
        missing = [c for c in COLUMNS if c not in dataset.column_names]
        if missing:
            raise ConscienceError(f"split {split!r} lacks column(s) {missing}", where=where, field=missing[0])
        rows = [
            check_pair(row, where, row_label=f"split {split} row {index}: ")
            for index, row in enumerate(dataset.select_columns(list(COLUMNS)))
        ]
        if not rows:
            raise ConscienceError(f"split {split!r} is empty", where=where)
        checked[split] = Dataset.from_list(rows)
    return DatasetDict(checked)


def content_hash(splits: DatasetDict) -> str:
    """sha256 over the rows of every split in order, so the model card pins the exact data trained on."""
    digest = hashlib.sha256()
    for split in sorted(splits):
        digest.update(split.encode())
        for row in splits[split]:
            digest.update(json.dumps([row[c] for c in COLUMNS], sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def validation_size(n_pairs: int, max_pairs: int, fraction: float) -> int:
    """The held-out count: ``max_pairs`` or ``fraction`` of the pairs, whichever is smaller (at least 1)."""
    return max(1, min(max_pairs, int(n_pairs * fraction)))


def load_pairs(pairs: str | Path | DatasetDict, *, validation_max_pairs: int = 500, validation_fraction: float = 0.1,
               seed: int = 0) -> PreferenceData:
    """Read and check pairs; without a validation split, hold one out with a fixed seed."""
    if isinstance(pairs, DatasetDict):
        source, splits = "<in-memory DatasetDict>", _checked(pairs, "<in-memory DatasetDict>")
    else:
        path = Path(pairs)
        source = str(path)
        if path.is_dir():
            splits = _from_folder(path)
        elif path.is_file():
            splits = _from_jsonl(path)
        else:
            raise ConscienceError("pairs not found (give a save_to_disk folder or a JSONL file)", where=path)
    data_hash = content_hash(splits)
    if "validation" in splits:
        return PreferenceData(splits["train"], splits["validation"], source, data_hash, held_out=False)
    train = splits["train"]
    if len(train) < 2:
        raise ConscienceError("need at least 2 pairs to hold out a validation split", where=source)
    n_val = validation_size(len(train), validation_max_pairs, validation_fraction)
    parts = train.train_test_split(test_size=n_val, seed=seed, shuffle=True)
    return PreferenceData(parts["train"], parts["test"], source, data_hash, held_out=True)


def token_lengths(row: dict[str, Any], tokenizer: Any) -> tuple[int, int, int]:
    """Token counts of (prompt with generation prompt, prompt + chosen, prompt + rejected) under the chat template."""
    def count(messages: list, generation_prompt: bool = False) -> int:
        return len(tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, return_dict=True)["input_ids"])

    return count(row["prompt"], True), count(row["prompt"] + row["chosen"]), count(row["prompt"] + row["rejected"])


def length_fit(dataset: Dataset, tokenizer: Any, max_length: int) -> dict[str, int]:
    """How many pairs ``max_length`` cuts: ``truncated`` (a completion loses its tail) and ``dropped``.

    TRL's DPO, IPO and KTO trainers silently filter out pairs whose prompt alone fills ``max_length`` (with
    ``keep_start`` truncation no completion token would be left); counting them here puts that loss on the
    record (run.json, the model card, the CLI) instead of leaving it to a changed step count. ``dropped``
    counts such prompts whether or not the method's trainer drops them (see ``Recipe.drops_long_prompts``).
    """
    dropped = truncated = 0
    for row in dataset:
        prompt, with_chosen, with_rejected = token_lengths(row, tokenizer)
        if prompt >= max_length:
            dropped += 1
        elif max(with_chosen, with_rejected) > max_length:
            truncated += 1
    return {"pairs": len(dataset), "dropped": dropped, "truncated": truncated}


def without_long_prompts(dataset: Dataset, tokenizer: Any, max_length: int) -> Dataset:
    """The pairs whose prompt leaves room for at least one completion token: the pairs TRL's DPO, IPO and
    KTO trainers keep. CPO (SimPO) keeps the others with an *empty* completion, whose length-normalised
    log-prob is 0/0 = NaN, and one such pair in a batch turns every LoRA weight into NaN."""
    return dataset.filter(lambda row: token_lengths(row, tokenizer)[0] < max_length)
