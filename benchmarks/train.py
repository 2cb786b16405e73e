"""Training throughput of `conscience.train` per method, and its overhead over bare TRL on the same DPO run.

Data: the 24 project-authored training pairs of tests/train/train_pairs.py repeated to --pairs rows (so
every method sees the same token lengths), with its 6 held-out pairs as the validation split. Model: the
bundled SmolLM2-135M. Config: the cpu-demo profile (bf16 autocast, batch 4, max_length 384, early stopping
on) capped at --steps optimizer steps. The bare-TRL run builds DPOConfig/DPOTrainer/LoraConfig by hand with
the same values and does what train() does minus our bookkeeping: load, train, save the adapter. Both score
only the labelled positions through TRL's fused LM head (conscience.train.scoring, which train() applies on
CPU), so the ratio measures bookkeeping, not that switch; one more bare run with TRL's own CPU default (every
position projected) shows what the switch buys on these pairs.

pairs/s and tokens/s are over the trainer's own train_runtime (the optimisation loop, final eval included);
"wall" is the whole call, from loading the base to the saved adapter. tokens = pairs processed x mean
len(prompt+chosen) + len(prompt+rejected) under the chat template. The CPU may be shared: run with `nice`
and compare ratios, not absolute figures, across runs.

    nice -n 10 .venv/bin/python benchmarks/train.py --pairs 64 --steps 8 --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "TRL_EXPERIMENTAL_SILENCE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from datasets import Dataset, DatasetDict  # noqa: E402

from conscience.models import bundled  # noqa: E402
from conscience.train import load_pairs, load_profile, train  # noqa: E402
from conscience.train.plan import mean_tokens  # noqa: E402
from conscience.train.recipes import RECIPES  # noqa: E402
from conscience.train.scoring import labelled_positions_only  # noqa: E402
from tests.train.train_pairs import HELD_OUT_PAIRS, TRAIN_PAIRS  # noqa: E402

BASE = "hf:smollm2-135m"


def fixture_pairs(n: int) -> DatasetDict:
    rows = [TRAIN_PAIRS[i % len(TRAIN_PAIRS)] for i in range(n)]
    return DatasetDict({"train": Dataset.from_list(rows), "validation": Dataset.from_list(HELD_OUT_PAIRS)})


def run_wrapper(method: str, pairs: DatasetDict, steps: int, out: Path) -> dict:
    config = load_profile("cpu-demo").resolve(method, max_steps=steps)
    start = time.perf_counter()
    result = train(config, pairs, BASE, out)
    wall = time.perf_counter() - start
    rows = result.global_step * config.batch_size * config.gradient_accumulation_steps
    return {"steps": result.global_step, "pairs": rows // RECIPES[method].rows_per_pair,
            "train_s": result.train_runtime_s, "wall_s": wall}


def run_bare_trl_dpo(pairs: DatasetDict, steps: int, out: Path, labelled_only: bool = True) -> dict:
    """DPO with TRL/PEFT/transformers only, every value spelled out as cpu-demo resolves it."""
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, EarlyStoppingCallback
    from trl import DPOConfig, DPOTrainer

    start = time.perf_counter()
    folder = bundled.ensure_hf_folder()
    args = DPOConfig(
        output_dir=str(out / "checkpoints"), learning_rate=5e-5, lr_scheduler_type="cosine", warmup_steps=0.03,
        weight_decay=0.0, num_train_epochs=1, max_steps=steps, per_device_train_batch_size=4,
        per_device_eval_batch_size=4, gradient_accumulation_steps=1, max_length=384, bf16=True,
        use_cpu=not torch.cuda.is_available(), activation_checkpointing=False, eval_strategy="steps", eval_steps=40,
        save_strategy="steps", save_steps=40, save_total_limit=2, load_best_model_at_end=True,
        metric_for_best_model="eval_loss", greater_is_better=False, logging_steps=5, seed=0, data_seed=0,
        report_to="none", remove_unused_columns=False, beta=0.1, loss_type=["sigmoid"],
        train_sampling_strategy="group_by_length", length_column_name="length",
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)

    def length(row: dict) -> dict:
        return {"length": sum(len(tokenizer.apply_chat_template(row["prompt"] + row[side], return_dict=True)["input_ids"])
                              for side in ("chosen", "rejected"))}

    pairs = DatasetDict({split: dataset.map(length) for split, dataset in pairs.items()})
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    trainer = DPOTrainer(
        model=model, args=args, train_dataset=pairs["train"], eval_dataset=pairs["validation"],
        processing_class=tokenizer, callbacks=[EarlyStoppingCallback(early_stopping_patience=3)],
        peft_config=LoraConfig(r=32, lora_alpha=64, lora_dropout=0.05, target_modules="all-linear",
                               task_type="CAUSAL_LM"),
    )
    with labelled_positions_only() if labelled_only else nullcontext():
        output = trainer.train()
    trainer.save_model(str(out / "adapter"))
    wall = time.perf_counter() - start
    return {"steps": trainer.state.global_step, "pairs": trainer.state.global_step * 4,
            "train_s": float(output.metrics["train_runtime"]), "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=64, help="training rows (the fixture repeated)")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per run")
    parser.add_argument("--repeats", type=int, default=2, help="DPO wrapper/bare pairs, alternated")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--methods", default="dpo,ipo,kto,simpo")
    options = parser.parse_args()
    if options.threads:
        torch.set_num_threads(options.threads)
    pairs = fixture_pairs(options.pairs)
    per_pair = mean_tokens(load_pairs(pairs), bundled.ensure_hf_folder(), max_length=384)
    rows: list[tuple[str, str, dict]] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for repeat in range(options.repeats):
            rows.append(("dpo", "bare TRL", run_bare_trl_dpo(pairs, options.steps, root / f"bare{repeat}")))
            rows.append(("dpo", "conscience", run_wrapper("dpo", pairs, options.steps, root / f"dpo{repeat}")))
        rows.append(("dpo", "bare TRL, all positions", run_bare_trl_dpo(pairs, options.steps, root / "bare-all",
                                                                         labelled_only=False)))
        for method in options.methods.split(","):
            if method != "dpo":
                rows.append((method, "conscience", run_wrapper(method, pairs, options.steps, root / method)))
    print(f"\nSmolLM2-135M, cpu-demo profile, {options.steps} steps x batch 4, {options.pairs} fixture pairs "
          f"(mean {per_pair:.0f} tokens/pair), torch threads {torch.get_num_threads()}, device "
          f"{'cuda' if torch.cuda.is_available() else 'cpu'}")
    print(f"{'method':7} {'runner':23} {'steps':>5} {'pairs':>5} {'train s':>8} {'pairs/s':>8} {'tokens/s':>9} {'wall s':>7}")
    for method, runner, r in rows:
        print(f"{method:7} {runner:23} {r['steps']:>5} {r['pairs']:>5} {r['train_s']:>8.1f} "
              f"{r['pairs'] / r['train_s']:>8.2f} {r['pairs'] * per_pair / r['train_s']:>9.0f} {r['wall_s']:>7.1f}")
    ours = [r for m, who, r in rows if m == "dpo" and who == "conscience"]
    bare = [r for m, who, r in rows if m == "dpo" and who == "bare TRL"]
    for key, label in (("wall_s", "whole call"), ("train_s", "train loop")):
        ratio = statistics.median(r[key] for r in ours) / statistics.median(r[key] for r in bare)
        print(f"overhead ratio conscience/bare TRL, DPO, {label} (median of {options.repeats}): {ratio:.3f}")


if __name__ == "__main__":
    main()
