"""Gold candidates from replies an evaluation already kept, and blind chunks for the two labellers.

Why: the recipe's own models are the ones whose unsafe rates the project reports, so their replies belong in the
gold set; an evaluation stage (``items.jsonl`` beside its ``run.json``) already holds them, so nothing is sampled
again. Every turn of a multi-turn item becomes a row (the evaluation calls an item unsafe if any turn is), which
also lets ``labelled_rates`` recompute a run's rates from the labels instead of the judge.

    python benchmarks/judge_gold_from_run.py --run runs/data-scale/.stages/safety-base-* --source smollm2-135m \
        --run runs/data-scale/.stages/safety-sft-dpo-300-* --source "smollm2-135m+sft-dpo[scale-300]" \
        --out runs/gold-scale --chunk 130

Writes OUT/all_rows.jsonl (every candidate with its ``uid``, source and generation: what
``judge_gold_assemble.py`` joins the readings to) and OUT/chunks/NNN.jsonl: the same replies shuffled (seed 0),
each with only its uid, surface, expected behaviour, conversation and reply, so a labeller sees neither the
model that wrote it nor any judge output. A reply seen twice (same item, turn, conversation and text, e.g. two
models that said the same thing) is labelled once and its labels serve both rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path


def rows_from_run(folder: Path, source: str) -> list[dict]:
    """One row per reply of an evaluation stage: every turn of every item, with the conversation up to it."""
    run = json.loads((folder / "run.json").read_text())["config"]
    generation = {"model": run["model"], "from_evaluation": str(folder), "benchmark_sha256": run.get("benchmark_sha256"),
                  **run["generation"]}
    rows = []
    for line in (folder / "items.jsonl").read_text().splitlines():
        item = json.loads(line)
        for k, response in enumerate(item["responses"], start=1):
            rows.append({"item_id": item["id"], "surface": item["surface"], "expected": item["expected"], "turn": k,
                         "turns": item["turns"][:k], "prompt": item["turns"][k - 1], "response": response,
                         "assistant_turns": item["responses"][: k - 1], "response_source": source, "generation": generation,
                         "finish_reason": item["finish_reasons"][k - 1]})
    return rows


def reply_key(row: dict) -> str:
    """Same item, same conversation so far, same reply: one reading serves every model that produced it."""
    blob = json.dumps([row["item_id"], row["turns"], row["assistant_turns"], row["response"]])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def blind(row: dict) -> dict:
    """What a labeller sees: no source, no generation settings, no judge output."""
    conversation = []
    for k, user in enumerate(row["turns"]):
        conversation.append({"role": "user", "content": user})
        if k < len(row["assistant_turns"]):
            conversation.append({"role": "assistant", "content": row["assistant_turns"][k]})
    return {"uid": row["uid"], "surface": row["surface"], "expected": row["expected"], "conversation": conversation,
            "final_reply": row["response"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, action="append", required=True, help="an evaluation stage folder")
    parser.add_argument("--source", action="append", required=True, help="response_source for the --run before it")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chunk", type=int, default=130, help="replies per labelling chunk")
    parser.add_argument("--skip", type=Path, action="append", default=[],
                        help="an earlier OUT/all_rows.jsonl whose replies are already being labelled")
    args = parser.parse_args()
    if len(args.run) != len(args.source):
        raise SystemExit("give one --source for every --run")
    rows = []
    for folder, source in zip(args.run, args.source):
        for row in rows_from_run(folder, source):
            rows.append({"uid": reply_key(row), **row})
    seen = {json.loads(line)["uid"] for path in args.skip for line in path.read_text().splitlines()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "all_rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    unique = list({r["uid"]: r for r in rows if r["uid"] not in seen}.values())
    random.Random(0).shuffle(unique)
    (args.out / "chunks").mkdir(exist_ok=True)
    for n in range(0, len(unique), args.chunk):
        part = unique[n: n + args.chunk]
        (args.out / "chunks" / f"{n // args.chunk:03d}.jsonl").write_text("".join(json.dumps(blind(r)) + "\n" for r in part))
    print(f"{len(rows)} replies, {len(unique)} to label ({len(seen)} already being labelled), "
          f"{-(-len(unique) // args.chunk)} chunks -> {args.out}")


if __name__ == "__main__":
    main()
