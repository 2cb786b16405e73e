"""Benchmark: `conscience generate` on the default offline set-up — pairs per minute and pipeline overhead.

Runs the shipped default recipe (bundled SmolLM2-135M base, temperature 0.7, max_new_tokens 128, batch 32,
authored teacher + the project judge) on the first ``--prompts`` prompts of its plan (default 64), in a
fresh run directory with a fresh response cache, so every base reply is really generated. Prints the
wall time, pairs per minute, and where the time went: inside model calls (base sampling), inside judge
calls, loading models, export, and the rest — the pipeline's own overhead (planning and the held-out check,
scrubbing, the store's fsync'd appends, critique/pair assembly), as a fraction of the total (target <= 5%).

The held-out check's MiniLM embeddings come from the user cache; on a machine that has never run it, the
first run also encodes ~1,000 texts, which counts as overhead. The CPU may be shared with other jobs, so
wall times move with the machine's load: the load average and process CPU seconds are printed too.

Usage: nice -n 10 .venv/bin/python benchmarks/generate.py [--prompts 64] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from conscience.generate import load_spec, run_generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="conscience-bench-") as scratch:
        config = load_spec(overrides={"response_cache": str(Path(scratch) / "responses.sqlite")})
        load_before = os.getloadavg()
        start = time.perf_counter()
        summary = run_generate(config, Path(scratch) / "run", limit=args.prompts)
        wall = time.perf_counter() - start
        load_after = os.getloadavg()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t = summary.timing
    outside = wall - t.model_s - t.judge_s - t.model_load_s
    print(f"default recipe, first {args.prompts} planned prompts, base {config.base} (max_new_tokens "
          f"{config.sampling.max_new_tokens}, batch {config.sampling.batch_size}), teacher {config.teacher}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; process CPU "
          f"{usage.ru_utime + usage.ru_stime:.1f} s")
    print("| prompts | pairs | quarantined | wall (s) | pairs/min | model calls (s) | judge (s) | model load (s) | "
          "export (s) | other (s) | overhead (excl. load) | overhead (incl. load) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    quarantined = sum(summary.quarantine.values())
    print(f"| {summary.prompts_in_run} | {summary.pairs} | {quarantined} | {wall:.1f} | {summary.pairs / wall * 60:.1f} | "
          f"{t.model_s:.1f} | {t.judge_s:.1f} | {t.model_load_s:.1f} | {t.export_s:.1f} | "
          f"{outside - t.export_s:.1f} | {outside / wall:.1%} | {(outside + t.model_load_s) / wall:.1%} |")


if __name__ == "__main__":
    main()
