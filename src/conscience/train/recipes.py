"""One TRL recipe per method: which config/trainer class, which data shape, which method keys map where.

No training loop lives here: SFT (supervised learning on the revisions, SL-CAI) is TRL's ``SFTTrainer`` on
prompt → chosen rows with the loss on the completion; DPO and IPO are TRL's ``DPOTrainer``, KTO is ``KTOTrainer`` on the unpaired
pairs, SimPO is TRL's experimental ``CPOTrainer`` with ``loss_type="simpo"`` and no NLL term. With a
``peft_config`` TRL uses the base model with the adapter switched off as the reference, so no second copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import EarlyStoppingCallback, TrainerCallback, TrainingArguments

from conscience.precision import Precision
from conscience.train.config import DPOSection, IPOSection, KTOSection, SFTSection, SimPOSection, TrainConfig
from conscience.train.data import PreferenceData, token_lengths


LENGTH_COLUMN = "length"


def with_lengths(dataset: Dataset, tokenizer: Any) -> Dataset:
    """Add each pair's token count (prompt + chosen and prompt + rejected, under the chat template) as ``length``.

    transformers' ``group_by_length`` sampler reads it to batch rows of similar length, so a batch is not
    padded to one long outlier: on the default pairs that cuts the padded tokens per epoch by about 15%.
    """
    def count(row: dict[str, Any]) -> dict[str, int]:
        _, with_chosen, with_rejected = token_lengths(row, tokenizer)
        return {LENGTH_COLUMN: with_chosen + with_rejected}

    return dataset.map(count, desc="Counting tokens for length-grouped batches")


def common_args(config: TrainConfig, checkpoints: Path, precision: Precision) -> dict[str, Any]:
    """TrainingArguments shared by every method. Explicit values everywhere TRL's defaults assume a GPU.

    ``precision`` is ``config.bf16`` resolved for this machine (``conscience.precision.resolve_bf16``).
    """
    early_stopping = config.early_stopping_patience is not None
    return dict(
        output_dir=str(checkpoints),
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float in [0, 1) is a ratio of total steps
        weight_decay=config.weight_decay,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size or config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        max_length=config.max_length,
        bf16=precision.bf16,
        use_cpu=not torch.cuda.is_available(),
        activation_checkpointing=config.activation_checkpointing,
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.checkpoint_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=early_stopping,
        metric_for_best_model="eval_loss" if early_stopping else None,
        greater_is_better=False if early_stopping else None,
        logging_steps=config.logging_steps,
        seed=config.seed,
        data_seed=config.seed,
        report_to="none",
        remove_unused_columns=False,
        **({"train_sampling_strategy": "group_by_length", "length_column_name": LENGTH_COLUMN}
           if groups_by_length(config) else {}),
    )


@dataclass(frozen=True)
class Recipe:
    """How one method runs on TRL. ``rows_per_pair`` is 2 for KTO, which trains on unpaired rows.

    ``can_group_by_length`` is False for KTO, whose KL estimate pairs each row with its neighbours in TRL's
    sequential order. ``drops_long_prompts``: the trainer filters out pairs whose prompt fills ``max_length``
    (DPO/IPO/KTO); CPO (SimPO) keeps them with an empty completion (a NaN loss), so ``train`` drops the same
    pairs before handing the data to CPO.
    """

    make_args: Callable[[TrainConfig, dict[str, Any]], TrainingArguments]
    trainer_class: Callable[[], type]
    shape_data: Callable[[Dataset], Dataset]
    rows_per_pair: int = 1
    uses_reference: bool = True
    can_group_by_length: bool = True
    drops_long_prompts: bool = True


def _sft_args(config: TrainConfig, common: dict[str, Any]) -> TrainingArguments:
    from trl import SFTConfig

    p = config.params()
    assert isinstance(p, SFTSection)
    return SFTConfig(**{**common, "learning_rate": p.learning_rate or config.learning_rate},
                     completion_only_loss=p.completion_only_loss)


def _dpo_args(config: TrainConfig, common: dict[str, Any]) -> TrainingArguments:
    from trl import DPOConfig

    p = config.params()
    assert isinstance(p, DPOSection)
    if p.sft_weight:
        return DPOConfig(**common, beta=p.beta, loss_type=[p.loss_type, "sft"], loss_weights=[1.0, p.sft_weight])
    return DPOConfig(**common, beta=p.beta, loss_type=[p.loss_type])


def _ipo_args(config: TrainConfig, common: dict[str, Any]) -> TrainingArguments:
    from trl import DPOConfig

    p = config.params()
    assert isinstance(p, IPOSection)
    return DPOConfig(**common, beta=p.beta, loss_type=["ipo"])


def _kto_args(config: TrainConfig, common: dict[str, Any]) -> TrainingArguments:
    from trl import KTOConfig

    p = config.params()
    assert isinstance(p, KTOSection)
    return KTOConfig(**common, beta=p.beta, desirable_weight=p.desirable_weight, undesirable_weight=p.undesirable_weight)


def _simpo_args(config: TrainConfig, common: dict[str, Any]) -> TrainingArguments:
    from trl.experimental.cpo import CPOConfig

    p = config.params()
    assert isinstance(p, SimPOSection)
    # cpo_alpha=0 drops CPO's NLL term: what is left is SimPO's length-normalised, reference-free loss.
    return CPOConfig(**common, loss_type="simpo", cpo_alpha=0.0, beta=p.beta, simpo_gamma=p.gamma)


def _sft_trainer() -> type:
    from trl import SFTTrainer

    return SFTTrainer


def _dpo_trainer() -> type:
    from trl import DPOTrainer

    return DPOTrainer


def _kto_trainer() -> type:
    from trl import KTOTrainer

    return KTOTrainer


def _cpo_trainer() -> type:
    from trl.experimental.cpo import CPOTrainer

    return CPOTrainer


def _unpair(dataset: Dataset) -> Dataset:
    from trl import unpair_preference_dataset

    return unpair_preference_dataset(dataset)


def _as_is(dataset: Dataset) -> Dataset:
    return dataset


def _chosen_as_completion(dataset: Dataset) -> Dataset:
    """TRL's conversational prompt/completion rows: the pair's prompt and its chosen (revised) reply."""
    return dataset.rename_column("chosen", "completion").remove_columns("rejected")


RECIPES: dict[str, Recipe] = {
    # SFT keeps a prompt that fills max_length with nothing left of its reply (a loss over no token): dropped first.
    "sft": Recipe(_sft_args, _sft_trainer, _chosen_as_completion, uses_reference=False, drops_long_prompts=False),
    "dpo": Recipe(_dpo_args, _dpo_trainer, _as_is),
    "ipo": Recipe(_ipo_args, _dpo_trainer, _as_is),
    "kto": Recipe(_kto_args, _kto_trainer, _unpair, rows_per_pair=2, can_group_by_length=False),
    "simpo": Recipe(_simpo_args, _cpo_trainer, _as_is, uses_reference=False, drops_long_prompts=False),
}


def groups_by_length(config: TrainConfig) -> bool:
    """Whether this run batches by length: asked for in the config and possible for its method."""
    return config.group_by_length and RECIPES[config.require_method()].can_group_by_length


def lora_config(config: TrainConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=config.lora.target_modules, task_type="CAUSAL_LM")


def build_trainer(config: TrainConfig, args: TrainingArguments, model: Any, tokenizer: Any, data: PreferenceData,
                  callbacks: Sequence[TrainerCallback] = ()) -> Any:
    """The TRL trainer for ``config.method``, with early stopping on the validation split when configured."""
    recipe = RECIPES[config.require_method()]
    all_callbacks = list(callbacks)
    if config.early_stopping_patience is not None:
        all_callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    train, validation = data.train, data.validation
    if groups_by_length(config):
        train, validation = with_lengths(train, tokenizer), with_lengths(validation, tokenizer)
    return recipe.trainer_class()(
        model=model,
        args=args,
        train_dataset=recipe.shape_data(train),
        eval_dataset=recipe.shape_data(validation),
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=all_callbacks,
    )
