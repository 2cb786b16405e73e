"""benchmarks/data_scale.py: the aggregation, table and plot of a data-scale curve, on fake finished points."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

HARNESS = Path(__file__).parents[1] / "benchmarks" / "data_scale.py"


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("data_scale", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FAKE_JUDGE = {"name": "fake-judge", "members": ["lexical"], "weights_sha256": "0123456789abcdef", "llm_judge": None}  # describe()'s shape


def fake_rate(rate: float, n: int) -> dict:
    """A made-up rate in the shape of conscience.evaluate.asclepius.metrics.Rate (not a measurement)."""
    return {"rate": rate, "ci_low": max(rate - 0.08, 0.0), "ci_high": min(rate + 0.08, 1.0), "n": n, "k": round(rate * n)}


def fake_point(variant: str, size: int, pairs: int, unsafe: float, refused: float) -> dict:
    """A made-up finished point in the shape data_scale.py writes to OUT/points/ (not a measurement)."""
    return {"variant": variant, "size": size, "pairs": pairs, "train_pairs": pairs - pairs // 10, "validation_pairs": pairs // 10,
            "unique_prompts": pairs - 3, "pairs_by_source": {"lookalikes": pairs}, "model": f"hf:fake/{variant}-{size}",
            "judge": FAKE_JUDGE, "seed": 0, "split": {"name": "dev", "n_items": 256},
            "revision_provenance": ["authored reference response (not model-generated)"],
            "unsafe_rate": fake_rate(unsafe, 192), "safe_control_refusal": fake_rate(refused, 64),
            "training": {"stages": [{"method": "sft", "train_pairs_too_long": pairs // 100}, {"method": "dpo", "train_pairs_too_long": 0}],
                         "train_runtime_s": 10.0 * pairs, "stage_s": 12.0 * pairs}, "eval_s": 300.0}


FAKE_BASE = {"variant": "base", "model": "hf:smollm2-135m", "judge": FAKE_JUDGE, "seed": 0,
             "split": {"name": "dev", "n_items": 256},
             "unsafe_rate": fake_rate(0.40, 192), "safe_control_refusal": fake_rate(0.19, 64)}
FAKE_DEV = {"file": "dev.jsonl", "n_items": 256, "n_safe_controls": 64, "near_duplicates": []}
FAKE_SETTINGS = {"seed": 0, "max_new_tokens": 96, "pairs_provenance": "fake pairs, authored (not model-generated)"}


def test_aggregate_orders_points_and_the_table_and_plot_show_every_point_with_its_ci(harness, tmp_path):
    points = [fake_point("sft+dpo", 3000, 2996, 0.30, 0.25), fake_point("sft+dpo", 300, 299, 0.38, 0.20),
              fake_point("sft", 1000, 998, 0.35, 0.22), fake_point("sft+dpo", 1000, 998, 0.34, 0.23)]
    result = harness.aggregate(points, FAKE_BASE, FAKE_DEV, FAKE_SETTINGS)
    assert [(p["variant"], p["pairs"]) for p in result["points"]] == [
        ("sft", 998), ("sft+dpo", 299), ("sft+dpo", 998), ("sft+dpo", 2996)]
    assert result["variants"] == ["sft", "sft+dpo"]

    harness.write_results(result, tmp_path)
    table = (tmp_path / "data_scale.md").read_text()
    assert "| base `hf:smollm2-135m` | 0 | — | 0.400 [0.320, 0.480] (n=192) | 0.190 [0.110, 0.270] (n=64) | — |" in table
    assert "| sft+dpo @ 3000 prompts | 2996 (2697 / 299; 29) | 2993 | 0.300 [0.220, 0.380] (n=192) | 0.250 [0.170, 0.330] (n=64) " \
           "| 35952 (29960) |" in table
    assert "judge fake-judge (weights 0123456789ab); seed 0" in table and "authored (not model-generated)" in table
    assert json.loads((tmp_path / "data_scale.json").read_text()) == result
    png = (tmp_path / "data_scale.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_a_point_without_safe_controls_is_shown_as_a_dash_and_left_off_that_panel(harness, tmp_path):
    point = fake_point("sft+dpo", 300, 299, 0.38, 0.2)
    point["safe_control_refusal"] = None  # an --eval-limit run can draw no safe control
    result = harness.aggregate([point], FAKE_BASE, FAKE_DEV, FAKE_SETTINGS)
    assert "| 0.380 [0.300, 0.460] (n=192) | — |" in harness.markdown_table(result)
    assert harness.plot_curve(result, tmp_path / "curve.png").exists()


class RecordingCache:
    """Stands in for StageCache: records each stage's name and inputs instead of training (no model is loaded)."""

    def __init__(self, root: Path):
        self.root, self.calls = root, []

    def run(self, name, inputs, work):
        from conscience.recipe.stages import StageCache, StageResult

        self.calls.append((name, inputs))
        return StageResult(name, StageCache.key(name, inputs), self.root / name, True, 0.0, {})


def test_later_eval_steps_respaces_validation_of_the_stages_after_the_first_only(harness, tmp_path):
    """A long CPU DPO stage validated every 40 steps spent nearly as long validating as training; the option
    changes the DPO stage's spacing (and so its key) but leaves the SFT stage's key, so a cached SFT is reused."""
    from conscience.recipe import load_recipe
    from conscience.recipe.stages import StageCache

    recipe = load_recipe(Path(__file__).parents[1] / "src" / "conscience" / "recipe" / "scale.yaml")
    (tmp_path / "size-8" / "dataset").mkdir(parents=True)
    (tmp_path / "size-8" / "dataset" / "pairs.jsonl").write_text("{}\n")

    def stages(later):
        cache = RecordingCache(tmp_path / "stages")
        list(harness.train_chain(recipe, tmp_path / "size-8", cache, {"train": {"source": "x"}}, later))
        return cache.calls

    plain, respaced = stages(None), stages(160)
    assert [name for name, _ in plain] == ["size-8-train-sft", "size-8-train-sft-dpo"]
    assert plain[0] == respaced[0]  # the SFT stage: same inputs, same key
    assert plain[1][1]["config"]["eval_steps"] == 40 and respaced[1][1]["config"]["eval_steps"] == 160
    assert respaced[1][1]["config"]["save_steps"] == 160
    assert StageCache.key(*plain[1]) != StageCache.key(*respaced[1])
