"""Each method, on TRL, moves the real bundled model toward the cautious answers on held-out pairs.

The margin is measured here (tests/train/train_margins.py), not taken from TRL's logs, and the trained
adapter is loaded back from disk through conscience.models.load_model, as any later stage would.
"""

from __future__ import annotations

import json

import pytest

from conscience.models import load_model
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
    card = (tmp_path / "run" / "README.md").read_text()
    assert result.data_hash in card and f"method | {method}" in card and result.adapter_spec in card
