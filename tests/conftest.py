"""Shared test set-up: always offline, and one bundled-model load per session for the tests that need it."""

import os

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def bundled_model():
    """The real bundled SmolLM2-135M through the hf backend, loaded once per test session."""
    from conscience.models import load_model

    return load_model("hf:smollm2-135m", batch_size=8)
