"""``train()``: pairs + base + config in, LoRA adapter and its records out, resumable from checkpoints.

Layout of ``out_dir``: ``adapter/`` (PEFT), ``config.yaml`` (resolved), ``run.json`` (inputs and versions),
``log.jsonl``, ``curves.png``, ``README.md`` (model card), ``checkpoints/`` and, with ``merge``, ``merged/``.
Re-running the same call after an interruption continues from the newest checkpoint; a different config,
base or data in the same folder is refused rather than mixed into the old run.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml
from datasets import DatasetDict
from transformers import TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from conscience.errors import ConscienceError
from conscience.precision import Precision, resolve_bf16
from conscience.rundir import ensure_same
from conscience.train.artifacts import TrainResult, final_metrics, plot_curves, write_card, write_log
from conscience.train.base import load_base, load_tokenizer, resolve_base
from conscience.train.config import TrainConfig, validate_config
from conscience.train.data import length_fit, load_pairs, without_long_prompts
from conscience.train.recipes import RECIPES, build_trainer, common_args
from conscience.train.scoring import labelled_positions_only

logger = logging.getLogger(__name__)
VERSIONED = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")


def _last_checkpoint(checkpoints: Path) -> str | None:
    return get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None


def _check_same_run(out: Path, config: TrainConfig, inputs: dict[str, Any]) -> None:
    """Resuming is only safe when the checkpoints came from this exact config, base and data."""
    config_path, run_path = out / "config.yaml", out / "run.json"
    if not (config_path.is_file() and run_path.is_file()):
        raise ConscienceError("has checkpoints but no config.yaml/run.json: not a conscience run folder; use a new --out",
                              where=out)
    previous = validate_config(yaml.safe_load(config_path.read_text(encoding="utf-8")), config_path)
    ensure_same(previous.model_dump(), config.model_dump(), config_path, "config")
    before = json.loads(run_path.read_text(encoding="utf-8"))
    ensure_same(before, inputs, run_path, keys=["base", "data_hash"])
    earlier = before.get("precision", {}).get("bf16")
    if earlier is not None and earlier != inputs["precision"]["bf16"]:
        # Allowed (a run may move hosts), but the steps before and after differ in precision.
        logger.warning("resuming with bf16 %s; the checkpoints were trained with bf16 %s (%s)",
                       inputs["precision"]["bf16"], earlier, run_path)


def merge_adapter(base_folder: Path, adapter: Path, target: Path, dtype: str) -> Path:
    """Fold the adapter into a fresh copy of the base weights (on CPU) and save a plain HF folder."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(load_base(base_folder, dtype), adapter).merge_and_unload()
    model.save_pretrained(target)
    load_tokenizer(base_folder).save_pretrained(target)
    return target


class StopOnNonFiniteLoss(TrainerCallback):
    """Stops a run whose logged loss or gradient norm is NaN or infinite, instead of letting it finish and write
    an adapter of NaN weights (which generates empty replies and would be scored as perfectly safe)."""

    KEYS = ("loss", "grad_norm", "eval_loss")

    def __init__(self, checkpoints: Path):
        self.checkpoints = checkpoints

    def on_log(self, args, state, control, logs=None, **kwargs):
        for key in self.KEYS:
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(float(value)):
                raise ConscienceError(f"training diverged: {key} is {value} at step {state.global_step}, so no adapter "
                                      f"was written; checkpoints saved before that step stay in {self.checkpoints}")


def train(config: TrainConfig, pairs: str | Path | DatasetDict, base_spec: str, out_dir: str | Path, *,
          merge: bool = False, callbacks: Sequence[TrainerCallback] = (), precision: Precision | None = None) -> TrainResult:
    """Train a LoRA adapter with ``config.method`` on TRL; see the module docstring for what lands where.

    ``config`` must be resolved to one method (``load_profile(...).resolve("dpo")``). ``callbacks`` are extra
    transformers callbacks (progress hooks, tests that interrupt a run). ``precision`` is ``config.bf16``
    resolved for this machine; when not given it is resolved here, once, and recorded in ``run.json``.
    """
    method = config.require_method()
    precision = precision or resolve_bf16(config.bf16)
    logger.info("precision: %s", precision.summary())
    out = Path(out_dir)
    folder = resolve_base(base_spec)
    data = load_pairs(pairs, validation_max_pairs=config.validation_max_pairs,
                      validation_fraction=config.validation_fraction, seed=config.seed)
    # With a LoRA adapter TRL's reference is the base with the adapter switched off: a merged SFT model given
    # as the base is therefore also the reference, as in Constitutional AI. Recorded so a report can say so.
    reference = base_spec if RECIPES[method].uses_reference else None
    inputs = {"base": base_spec, "base_folder": str(folder), "reference": reference, "pairs": data.source,
              "data_hash": data.data_hash, "train_pairs": len(data.train), "validation_pairs": len(data.validation),
              "held_out": data.held_out, "precision": precision.as_record(), "versions": {name: version(name) for name in VERSIONED}}
    tokenizer = load_tokenizer(folder)
    inputs["length_fit"] = {split: length_fit(dataset, tokenizer, config.max_length)
                            for split, dataset in (("train", data.train), ("validation", data.validation))}
    dropped = inputs["length_fit"]["train"]["dropped"]
    if not RECIPES[method].drops_long_prompts and (dropped or inputs["length_fit"]["validation"]["dropped"]):
        data = replace(data, train=without_long_prompts(data.train, tokenizer, config.max_length),
                       validation=without_long_prompts(data.validation, tokenizer, config.max_length))
    if dropped:
        logger.warning("%d of %d training pairs have a prompt of max_length (%d) tokens or more; they are left out",
                       dropped, inputs["train_pairs"], config.max_length)
    checkpoints = out / "checkpoints"
    last = _last_checkpoint(checkpoints)
    if last is not None:
        _check_same_run(out, config, inputs)
    # The TRL config comes before the model: under DeepSpeed ZeRO-3 building it registers the sharded init.
    args = RECIPES[method].make_args(config, common_args(config, checkpoints, precision))
    model = load_base(folder, config.dtype)
    trainer = build_trainer(config, args, model, tokenizer, data, [*callbacks, StopOnNonFiniteLoss(checkpoints)])
    with labelled_positions_only() as compact:
        # Recorded because it sets the speed, not the values: see conscience.train.scoring.
        inputs["lm_head_scores"] = "labelled positions" if compact else "all positions (TRL default off-GPU)"
        if trainer.is_world_process_zero():
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
            (out / "run.json").write_text(json.dumps(inputs, indent=2) + "\n", encoding="utf-8")
        output = trainer.train(resume_from_checkpoint=last)
    adapter = out / "adapter"
    trainer.save_model(str(adapter))  # gathers shards under ZeRO-3/FSDP; writes the adapter only
    state = trainer.state
    result = TrainResult(
        method=method, profile=config.name, base=base_spec, base_folder=str(folder), reference=reference, out_dir=out,
        adapter_dir=adapter,
        data_source=data.source, data_hash=data.data_hash, train_pairs=inputs["train_pairs"],
        validation_pairs=inputs["validation_pairs"], held_out=data.held_out, global_step=state.global_step,
        max_steps=state.max_steps, resumed_from_step=_step_of(last), best_checkpoint=state.best_model_checkpoint,
        train_runtime_s=float(output.metrics.get("train_runtime", 0.0)), metrics=final_metrics(state.log_history),
        length_fit=inputs["length_fit"], dropped_pairs=dropped, precision=precision.as_record(),
    )
    if not trainer.is_world_process_zero():
        return result
    write_log(out / "log.jsonl", state.log_history)
    plot_curves(out / "curves.png", state.log_history, f"{method} on {base_spec} ({config.name})")
    if merge:
        result = replace(result, merged_dir=merge_adapter(folder, adapter, out / "merged", config.dtype))
    write_card(out / "README.md", result, config)
    return result


def _step_of(checkpoint: str | None) -> int | None:
    match = re.search(r"checkpoint-(\d+)$", checkpoint or "")
    return int(match.group(1)) if match else None
