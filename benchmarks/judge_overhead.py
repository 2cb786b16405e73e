"""What the judge's cross-encoder adds to an evaluation's wall time, measured in one run.

    python benchmarks/judge_overhead.py --split train --out /tmp/judge-overhead

Runs ``evaluate_safety`` for the bundled base model on the Asclepius split given (the recipe's settings: greedy,
96 new tokens; train by default, so the test split stays unread) with the shipped judge, timing the whole run
(generation and judging). Then re-scores every reply the run judged (each turn of a Crescendo conversation and
each neutral twin) with the cross-encoder alone and with the judge without it, timing each. The overhead is the
cross-encoder's time over the run's wall time without it. The bar (issue #20): at most 10%.
"""

from __future__ import annotations

import argparse
import os
import json
import time
from pathlib import Path


os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model only; nothing is downloaded
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from conscience.data import load_benchmark
from conscience.evaluate.asclepius import evaluate_safety
from conscience.judge import load_judge
from conscience.models import GenerationParams, load_model


def judged_replies(run: Path, items: dict) -> tuple[list, list[str]]:
    """(item prefix, reply) for every reply the run judged, rebuilt from its items.jsonl."""
    out_items, replies = [], []
    for line in (run / "items.jsonl").read_text().splitlines():
        row = json.loads(line)
        item = items[row["id"]]
        for k, reply in enumerate(row["responses"], start=1):
            out_items.append(item.model_copy(update={"turns": item.turns[:k]}))
            replies.append(reply)
        if row.get("twin"):
            out_items.append(item.model_copy(update={"id": item.id + "#twin", "turns": [row["twin"]["prompt"]]}))
            replies.append(row["twin"]["response"])
    return out_items, replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="train", choices=["train", "test"])
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    judge = load_judge()
    model = load_model("hf:smollm2-135m")
    start = time.perf_counter()
    evaluate_safety(model, args.out / "run", split=args.split, judge=judge,
                    params=GenerationParams(max_new_tokens=args.max_new_tokens, temperature=0.0, seed=0))
    wall = time.perf_counter() - start
    items, replies = judged_replies(args.out / "run", {i.id: i for i in load_benchmark(split=args.split)})
    cross = judge.cross_encoder
    start = time.perf_counter()
    if cross is not None:
        cross.probabilities(items, replies)
    cross_s = time.perf_counter() - start
    result = {"split": args.split, "replies_judged": len(replies), "eval_wall_s": round(wall, 1),
              "cross_encoder_s": round(cross_s, 2), "cross_encoder_ms_per_reply": round(1000 * cross_s / len(replies), 1),
              "overhead": round(cross_s / max(wall - cross_s, 1e-9), 4), "judge": judge.describe()}
    (args.out / "overhead.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "judge"}))


if __name__ == "__main__":
    main()
