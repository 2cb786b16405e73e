"""Each method, on TRL, moves the real bundled model toward the cautious answers on held-out pairs.

The margin is measured here (tests/train/train_margins.py), not taken from TRL's logs, and the trained
adapter is loaded back from disk through conscience.models.load_model, as any later stage would.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conscience.models import load_model
from conscience.precision import resolve_bf16
from conscience.train import train
from tests.train.conftest import BASE
from tests.train.train_margins import mean_margin
from tests.train.train_pairs import HELD_OUT_PAIRS

# Few steps, each sized so the run is seconds: KTO sees unpaired rows and needs a bigger batch (> 1 always).
SETTINGS = {
    "dpo": {},
    "ipo": {},
    "simpo": {},
    "kto": {"batch_size": 8, "max_steps": 3, "learning_rate": 1e-4},
}


def trained_with_bf16(run: Path) -> bool:
    """The bf16 switch TRL really trained with, read back from the checkpoint's saved TrainingArguments."""
    import torch

    saved = sorted(run.glob("checkpoints/checkpoint-*/training_args.bin"))
    return bool(torch.load(saved[-1], weights_only=False).bf16)


@pytest.mark.slow
@pytest.mark.parametrize("method", list(SETTINGS))
def test_method_moves_held_out_margin_toward_chosen(method, tmp_path, pairs_jsonl, base_margin, tiny_config):
    result = train(tiny_config(method, **SETTINGS[method]), pairs_jsonl, BASE, tmp_path / "run")

    assert result.global_step == tiny_config(method, **SETTINGS[method]).max_steps
    trained = load_model(result.adapter_spec)
    after = mean_margin(trained.model, trained.tokenizer, HELD_OUT_PAIRS)
    assert after > base_margin, f"{method}: held-out margin {base_margin:.2f} -> {after:.2f}"

    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == list(range(1, result.global_step + 1))
    assert any("eval_loss" in r for r in rows)
    assert "rewards/margins" in result.metrics or method == "kto"
    assert (tmp_path / "run" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["length_fit"]["train"]["pairs"] == result.train_pairs
    # bf16: auto is resolved for this machine and recorded with its reason
    expected = resolve_bf16("auto")
    assert run["precision"] == expected.as_record() and run["precision"]["requested"] == "auto"
    assert trained_with_bf16(tmp_path / "run") == expected.bf16
    card = (tmp_path / "run" / "README.md").read_text()
    assert result.data_hash in card and f"method | {method}" in card and result.adapter_spec in card
    assert f"precision | {expected.summary()}" in card


@pytest.mark.slow
def test_simpo_leaves_out_a_pair_whose_prompt_fills_max_length_instead_of_training_on_nan(tmp_path, tiny_config):
    """CPO keeps such a pair with an empty completion; its mean log-prob is 0/0 and the whole adapter went NaN
    (seen on the default pairs' long Crescendo prompts). ``train`` now drops it, as TRL's DPO trainer does."""
    from tests.train.train_pairs import TRAIN_PAIRS, write_jsonl

    long_prompt = dict(TRAIN_PAIRS[0], prompt=[{"role": "user", "content": "symptom " * 200}])
    pairs = write_jsonl(tmp_path / "pairs.jsonl", TRAIN_PAIRS[:7] + [long_prompt] + TRAIN_PAIRS[7:])
    result = train(tiny_config("simpo", batch_size=8, validation_fraction=0.1), pairs, BASE, tmp_path / "run")

    assert result.dropped_pairs == 1 and result.train_pairs == 23  # 25 pairs: 23 train (one left out) + 2 validation
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r] + [r["eval_loss"] for r in rows if "eval_loss" in r]
    assert losses and all(math.isfinite(value) for value in losses)


def test_a_non_finite_loss_stops_the_run_naming_the_step():
    from types import SimpleNamespace

    from conscience.errors import ConscienceError
    from conscience.train.run import StopOnNonFiniteLoss

    guard = StopOnNonFiniteLoss(Path("run/checkpoints"))
    state = SimpleNamespace(global_step=5)
    guard.on_log(None, state, None, logs={"loss": 0.69, "grad_norm": 1.2})  # finite: the run goes on
    for key in ("loss", "grad_norm", "eval_loss"):
        with pytest.raises(ConscienceError, match=rf"diverged: {key} is nan at step 5.*run/checkpoints"):
            guard.on_log(None, state, None, logs={key: float("nan")})
    with pytest.raises(ConscienceError, match="loss is inf"):
        guard.on_log(None, state, None, logs={"loss": float("inf")})
