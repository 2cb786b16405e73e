"""Tokens/s of the bundled model through the hf backend at batch sizes 1, 8 and 32, on the same prompts, in one run.

Usage: .venv/bin/python benchmarks/sampling.py [--prompts 32] [--max-new-tokens 128]
Prompts: the first user turn of the shipped constitution's test prompts (project-written), greedy decoding.
Tokens counted: new tokens up to and including the first end-of-sequence token in each reply.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402

from conscience.constitution import load_constitution  # noqa: E402
from conscience.models import GenerationParams, load_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()
    turns = [t.turns[0] for p in load_constitution().principles for t in p.test_prompts][: args.prompts]
    conversations = [[{"role": "user", "content": text}] for text in turns]
    params = GenerationParams(max_new_tokens=args.max_new_tokens)
    model = load_model("hf:smollm2-135m", batch_size=32)
    model.generate(conversations[:2], GenerationParams(max_new_tokens=8))  # warm-up
    print(f"model hf:smollm2-135m (fp32), {len(conversations)} prompts, greedy, max_new_tokens={args.max_new_tokens}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print("| batch | wall (s) | new tokens | tokens/s | ratio to batch 1 | replies identical to batch 1 |")
    print("| --- | --- | --- | --- | --- | --- |")
    baseline_rate, baseline_texts = None, None
    for batch in (1, 8, 32):
        model.batch_size = batch
        start = time.perf_counter()
        replies = model.generate(conversations, params)
        wall = time.perf_counter() - start
        tokens = sum(r.completion_tokens for r in replies)
        rate = tokens / wall
        texts = [r.text for r in replies]
        if baseline_rate is None:
            baseline_rate, baseline_texts = rate, texts
        same = sum(a == b for a, b in zip(texts, baseline_texts))
        print(f"| {batch} | {wall:.1f} | {tokens} | {rate:.1f} | {rate / baseline_rate:.2f} | {same}/{len(texts)} |")


if __name__ == "__main__":
    main()
