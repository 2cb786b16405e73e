"""SFT (SL-CAI): supervised training on the revisions moves held-out likelihood toward the chosen replies.

The yardstick is computed here (tests/train/train_margins.py), independently of TRL's logs.
"""

from __future__ import annotations

import json

import pytest

from conscience.models import load_model
from conscience.train import load_profile, train
from tests.train.conftest import BASE
from tests.train.train_margins import completion_logprobs
from tests.train.train_pairs import HELD_OUT_PAIRS


def chosen_logprob(model) -> float:
    prompts, chosen = [p["prompt"] for p in HELD_OUT_PAIRS], [p["chosen"] for p in HELD_OUT_PAIRS]
    values = completion_logprobs(model.model, model.tokenizer, prompts, chosen)
    return sum(values) / len(values)


def test_profiles_carry_an_sft_section_with_its_own_rate():
    config = load_profile("cpu-demo").resolve("sft")
    assert config.method == "sft" and config.sft.completion_only_loss and config.sft.learning_rate == 2e-4
    assert config.dpo is None  # resolving keeps only the trained method's section


@pytest.mark.slow
def test_sft_moves_held_out_chosen_likelihood_up(tmp_path, pairs_jsonl, tiny_config):
    before = chosen_logprob(load_model(BASE))
    result = train(tiny_config("sft", max_steps=3), pairs_jsonl, BASE, tmp_path / "run", merge=True)

    assert result.method == "sft" and result.global_step == 3
    after = chosen_logprob(load_model(result.adapter_spec))
    assert after > before, f"held-out log p(chosen | prompt) {before:.2f} -> {after:.2f}"
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert any("eval_loss" in r for r in rows) and (tmp_path / "run" / "curves.png").exists()
    card = (tmp_path / "run" / "README.md").read_text()
    assert "method | sft" in card
    # The merged model is what a DPO stage starts from (and uses as its reference), as in the paper.
    merged = load_model(f"hf:{result.merged_dir}")
    assert abs(chosen_logprob(merged) - after) < 0.05 * abs(after)
