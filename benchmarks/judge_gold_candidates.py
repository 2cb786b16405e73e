"""Candidate replies for the judge's real-reply gold set: one model's replies to every Asclepius *train* item.

How the 2026-12 real gold part was made (see docs/results.md, "The judge", and the Asclepius README's gold-set
section): run once per model

    python benchmarks/judge_gold_candidates.py --model hf:smollm2-135m --source smollm2-135m \
        --temperature 0.7 --seed 1 --out gold/base_t07.jsonl
    python benchmarks/judge_gold_candidates.py --model hf:smollm2-135m+runs/dpo/adapter --source smollm2-135m+dpo ...

Each conversation is played as the evaluation plays it (turn by turn, the model's own replies fed back, no system
message, the evaluation's 192 new tokens). Every reply becomes a row: the final reply, and for Crescendo items
also each reply *before* the break turn (the evaluation judges every turn, so those must be labelled too),
with ``turn`` saying how many user turns the conversation had at that reply. Rows carry no label and no judge
output: labellers read them blind. The Asclepius test split is never read.
"""

from __future__ import annotations

import argparse
import os
import hashlib
import json
from pathlib import Path


os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model only; nothing is downloaded
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from conscience.data import load_benchmark
from conscience.judge.sampling import candidate_rows, sample_replies
from conscience.models import GenerationParams, load_model


def adapter_sha(spec: str) -> str | None:
    if "+" not in spec:
        return None
    path = Path(spec.split("+", 1)[1]) / "adapter_model.safetensors"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model spec, e.g. hf:smollm2-135m or hf:smollm2-135m+DIR")
    parser.add_argument("--source", required=True, help="the gold row's response_source, e.g. smollm2-135m+dpo")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--limit", type=int, default=None, help="first N train items only (smoke runs)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    items = load_benchmark(split="train")[: args.limit]
    params = GenerationParams(max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed)
    model = load_model(args.model, batch_size=32)
    replies = sample_replies(model, items, params)
    generation = {"model": args.model, "adapter_sha256": adapter_sha(args.model), **params.model_dump()}
    rows = candidate_rows(items, replies, args.source, generation)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} candidate replies from {len(items)} train items -> {args.out}")


if __name__ == "__main__":
    main()
