"""An interrupted run continues from its last checkpoint when the same call is made again."""

from __future__ import annotations

import json

import pytest
from transformers import TrainerCallback

from conscience.errors import ConscienceError
from conscience.train import train
from tests.train.conftest import BASE


class Interrupted(Exception):
    pass


class InterruptAfterFirstCheckpoint(TrainerCallback):
    """Stands in for a killed process: raises right after the first checkpoint is on disk."""

    def on_save(self, args, state, control, **kwargs):
        raise Interrupted(f"stopped after saving step {state.global_step}")


@pytest.mark.slow
def test_rerun_resumes_from_the_last_checkpoint(tmp_path, pairs_jsonl, tiny_config):
    config = tiny_config("simpo", save_steps=1)
    out = tmp_path / "run"
    with pytest.raises(Interrupted, match="step 1"):
        train(config, pairs_jsonl, BASE, out, callbacks=[InterruptAfterFirstCheckpoint()])
    assert (out / "checkpoints" / "checkpoint-1").is_dir() and not (out / "adapter").exists()

    with pytest.raises(ConscienceError, match="different config"):
        train(tiny_config("simpo", save_steps=1, learning_rate=1e-5), pairs_jsonl, BASE, out)

    result = train(config, pairs_jsonl, BASE, out)
    assert result.resumed_from_step == 1 and result.global_step == 2
    steps = [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert steps[:2] == [1, 2]  # step 1's log came back with the checkpoint's trainer state
    assert "resumed from step 1" in (out / "README.md").read_text()
