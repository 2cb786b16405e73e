"""Experiment: does the *form* of the refusal revisions decide whether DPO on the bundled model gets safer?

With the authored teacher's revisions (the benchmark's full reference replies), DPO learns the preference
(validation margin 6.5) but the 135M model's greedy replies do not follow it. One guess was that a refusal the
small model can learn must be short and open the same way every time. This script rewrites the *chosen* reply
of every pair whose prompt is a refuse-type Asclepius **train** item, keeping everything else (rejected reply,
critique, provenance, split) as it is, and writes a new pairs dataset to train and evaluate on the dev split:

- ``--form authored``: the short refusal in ``benchmarks/data/short_refusals.jsonl`` (124 rows, one per
  refuse-type train item, each opening "I can't help with that." and 45 words at most; written for this
  experiment by a project helper agent, an AI model working for the project, not by the pipeline).
- ``--form truncated``: "I can't help with that." followed by the first two sentences of the existing
  reference reply after its own refusal sentence (a mechanical rule, no new text).

Rewritten rows say so in ``revision_provenance`` and in a new ``revision_form`` column.

Usage (the README's dev-split table was made this way):
  .venv/bin/python benchmarks/revision_form.py --pairs <generate run>/dataset --form authored --out /tmp/pairs-short
  .venv/bin/conscience train --pairs /tmp/pairs-short --method dpo --profile cpu-demo --out /tmp/dpo-short
  .venv/bin/conscience bench dev --pairs <generate run>/dataset --out dev.jsonl
  .venv/bin/conscience eval safety --model hf:smollm2-135m+/tmp/dpo-short/adapter --benchmark dev.jsonl \\
      --split all --max-new-tokens 96 --out /tmp/dev-dpo-short
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from conscience.errors import ConscienceError
from conscience.data.benchmark import load_benchmark
from conscience.jsonl import read_jsonl

OPENER = "I can't help with that."
SHORT_REFUSALS = Path(__file__).parent / "data" / "short_refusals.jsonl"
_REFUSAL_SENTENCE = re.compile(r"^(I can't|I cannot|I won't|I'm not going to|I'm not able)", re.IGNORECASE)


def truncated(reference: str) -> str:
    """The opener, then the reference's first two sentences after its own refusal sentence (if it has one)."""
    sentences = re.split(r"(?<=[.!?])\s+", reference.strip())
    if sentences and _REFUSAL_SENTENCE.match(sentences[0]):
        sentences = sentences[1:]
    return " ".join([OPENER, *sentences[:2]])


def authored_refusals(train_ids: set[str]) -> dict[str, str]:
    refusals = {}
    for line, row in read_jsonl(SHORT_REFUSALS):
        if row["id"] not in train_ids:  # the test split never reaches training, not even by id
            raise ConscienceError(f"{row['id']!r} is not an Asclepius train item", where=SHORT_REFUSALS, line=line)
        refusals[row["id"]] = row["reference_response"]
    return refusals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, required=True, help="a `conscience generate` dataset folder")
    parser.add_argument("--form", choices=["authored", "truncated"], required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from datasets import DatasetDict, load_from_disk

    train = {item.id: item for item in load_benchmark(split="train")}
    refuse = {item_id for item_id, item in train.items() if item.expected == "refuse"}
    refusals = authored_refusals(set(train)) if args.form == "authored" else {}
    label = (f"authored short refusal (not model-generated): {SHORT_REFUSALS.name}" if args.form == "authored"
             else "authored reference response, truncated behind a fixed opener (not model-generated)")
    counts: Counter = Counter()

    def rewrite(row: dict, split: str) -> dict:
        item_id = row["source_id"].split("/", 1)[-1] if row["source"] == "asclepius_train" else None
        if item_id not in refuse:
            return {**row, "revision_form": "as generated"}
        chosen = [dict(message) for message in row["chosen"]]
        chosen[-1]["content"] = refusals[item_id] if refusals else truncated(chosen[-1]["content"])
        counts[split] += 1
        return {**row, "chosen": chosen, "revision_provenance": label, "revision_form": args.form}

    pairs = load_from_disk(str(args.pairs))
    out = DatasetDict({split: data.map(lambda row, s=split: rewrite(row, s)) for split, data in pairs.items()
                       if split in ("train", "validation")})
    out.save_to_disk(str(args.out))
    print(f"rewrote the chosen reply of {dict(counts)} refuse-type Asclepius train pairs ({args.form}) -> {args.out}")


if __name__ == "__main__":
    main()
