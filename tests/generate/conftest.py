"""Set-up for generation tests: one torch thread while they run, and small recipe files written per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.threads import single_torch_thread


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """One thread while these real-model tests run (see tests/threads.py), restored after this package."""
    with single_torch_thread():
        yield


@pytest.fixture
def write_recipe(tmp_path: Path):
    """Write a recipe YAML (tiny sampling, a private response cache) and return its path."""

    def write(sources: list[dict], name: str = "recipe.yaml", **fields) -> Path:
        recipe = {
            "base": "hf:smollm2-135m", "size": 4, "seed": 0, "sources": sources,
            "sampling": {"max_new_tokens": 16, "batch_size": 4},
            "response_cache": str(tmp_path / "responses.sqlite"),
            **fields,
        }
        path = tmp_path / name
        path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_prompts(tmp_path: Path):
    """Write a user prompt file (JSONL rows ``{"id": "u-<n>", "prompt": ...}``) and return its path."""

    def write(prompts: list[str], name: str = "prompts.jsonl") -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps({"id": f"u-{n}", "prompt": p}) + "\n" for n, p in enumerate(prompts)), encoding="utf-8")
        return path

    return write
