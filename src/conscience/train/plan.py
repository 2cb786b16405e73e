"""What a run will cost, before it runs: steps, tokens, parameters, memory and compute (``--dry-run``).

Nothing here loads weights. Parameter counts come from building the architecture on PyTorch's ``meta``
device from config.json (and wrapping it with the same LoRA config), so they are exact for any model
transformers knows; tokens come from the tokenizer on a sample of the pairs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

from datasets import DatasetDict

from conscience.precision import Precision, resolve_bf16
from conscience.train.base import load_tokenizer, resolve_base
from conscience.train.config import TrainConfig
from conscience.train.data import PreferenceData, load_pairs, token_lengths
from conscience.train.recipes import RECIPES, lora_config

TOKEN_SAMPLE = 1000
GIB = 1024**3


@dataclass(frozen=True)
class TrainPlan:
    """The resolved plan of a run; memory figures are per device, in GiB, and rough (see ``memory_note``)."""

    method: str
    profile: str
    base: str
    base_folder: str
    data_hash: str
    train_pairs: int
    validation_pairs: int
    held_out: bool
    num_processes: int
    pairs_per_step: int
    steps_per_epoch: int
    total_steps: int
    pairs_seen: int
    mean_tokens_per_pair: float
    tokens_estimate: int
    total_params: int
    trainable_params: int
    memory_gib: dict[str, float]
    train_flops: float
    precision: str  # the bf16 decision for this machine and why (Precision.summary())
    memory_note: str = ("weights + LoRA params/grads/AdamW states (fp32) + activations and fp32 logits for one "
                        "micro-batch at max_length; ZeRO-3/FSDP divide the weights by the process count")

    def as_dict(self) -> dict:
        return asdict(self)


def count_params(folder: Path, config: TrainConfig) -> tuple[int, int, dict]:
    """(total, trainable LoRA) parameters and the model config, from config.json on the meta device."""
    import torch
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    model_config = AutoConfig.from_pretrained(folder)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config)
        total = sum(p.numel() for p in model.parameters())
        peft_model = get_peft_model(model, lora_config(config))
        trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    text_config = model_config.get_text_config() if hasattr(model_config, "get_text_config") else model_config
    return total, trainable, text_config.to_dict()


def mean_tokens(data: PreferenceData, folder: Path, max_length: int) -> float:
    """Mean of len(prompt+chosen) + len(prompt+rejected), each capped at max_length, over a fixed sample."""
    tokenizer = load_tokenizer(folder)
    sample = data.train.select(range(min(TOKEN_SAMPLE, len(data.train))))
    total = 0
    for row in sample:
        _, with_chosen, with_rejected = token_lengths(row, tokenizer)
        total += min(with_chosen, max_length) + min(with_rejected, max_length)
    return total / max(1, len(sample))


def memory_estimate(config: TrainConfig, total: int, trainable: int, model_cfg: dict, bf16: bool) -> dict[str, float]:
    """Rough per-device memory: the parts that scale with parameter counts and with one micro-batch.

    ``bf16`` is the resolved mixed-precision switch (``config.bf16`` may say ``auto``)."""
    weight_bytes = 2 if config.dtype == "bfloat16" else 4
    act_bytes = 2 if bf16 or config.dtype == "bfloat16" else 4
    hidden = model_cfg.get("hidden_size", 0)
    layers = model_cfg.get("num_hidden_layers", 0)
    vocab = model_cfg.get("vocab_size", 0)
    tokens = config.batch_size * 2 * config.max_length  # chosen and rejected (KTO: rows and its KL rows)
    # Korthikanti et al. 2022: ~34*h bytes per token per layer in 16-bit; checkpointing keeps only layer inputs.
    per_layer = 34 * hidden * act_bytes / 2
    activations = tokens * (hidden * act_bytes * layers + per_layer if config.activation_checkpointing
                            else per_layer * layers)
    return {
        "weights": round(total * weight_bytes / GIB, 2),
        "lora_and_optimizer": round(trainable * 16 / GIB, 2),
        "activations": round(activations / GIB, 2),
        "logits": round(tokens * vocab * 4 * 2 / GIB, 2),  # fp32 logits and their log-softmax
    }


def plan(config: TrainConfig, pairs: str | Path | DatasetDict, base_spec: str, *, num_processes: int = 1,
         precision: Precision | None = None) -> TrainPlan:
    """Resolve data, base and schedule without loading weights; ``config`` must name its method.

    ``precision`` is the bf16 decision for the machine that will train (resolved here for this one if not given).
    """
    method = config.require_method()
    precision = precision or resolve_bf16(config.bf16)
    recipe = RECIPES[method]
    folder = resolve_base(base_spec)
    data = load_pairs(pairs, validation_max_pairs=config.validation_max_pairs,
                      validation_fraction=config.validation_fraction, seed=config.seed)
    rows = len(data.train) * recipe.rows_per_pair
    rows_per_step = config.batch_size * config.gradient_accumulation_steps * num_processes
    micro_batches = math.ceil(rows / (config.batch_size * num_processes))
    steps_per_epoch = math.ceil(micro_batches / config.gradient_accumulation_steps)  # as transformers counts
    total_steps = config.max_steps or math.ceil(config.epochs * steps_per_epoch)
    rows_seen = total_steps * rows_per_step if config.max_steps else math.ceil(config.epochs * rows)
    pairs_seen = rows_seen // recipe.rows_per_pair  # counting repeats across epochs
    per_pair = mean_tokens(data, folder, config.max_length)
    tokens = int(per_pair * pairs_seen)
    total, trainable, model_cfg = count_params(folder, config)
    # LoRA on a frozen base: forward 2N + backward 2N (no weight grads), + 2N reference forward, + 2N recompute.
    flops_per_token = 2 * total * (2 + recipe.uses_reference + config.activation_checkpointing)
    return TrainPlan(
        method=method, profile=config.name, base=base_spec, base_folder=str(folder),
        data_hash=data.data_hash, train_pairs=len(data.train), validation_pairs=len(data.validation),
        held_out=data.held_out, num_processes=num_processes, pairs_per_step=rows_per_step // recipe.rows_per_pair,
        steps_per_epoch=steps_per_epoch, total_steps=total_steps, pairs_seen=pairs_seen,
        mean_tokens_per_pair=round(per_pair, 1), tokens_estimate=tokens, total_params=total,
        trainable_params=trainable, memory_gib=memory_estimate(config, total, trainable, model_cfg, precision.bf16),
        train_flops=float(flops_per_token * tokens), precision=precision.summary(),
    )
