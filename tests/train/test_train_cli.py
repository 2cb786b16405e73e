"""`conscience train` through typer's runner: dry-run without weights, one-line errors, a full run with --merge."""

from __future__ import annotations

import shutil

import pytest
import torch
import typer
from typer.testing import CliRunner

from conscience.cli import train as train_cli
from conscience.models import load_model
from tests.train.train_pairs import HELD_OUT_PAIRS, save_dataset_dict
from tests.train.train_margins import completion_logprobs

runner = CliRunner()


def _app() -> typer.Typer:
    """The verb mounted the way cli/main.py mounts it."""
    app = typer.Typer()
    app.add_typer(train_cli.app, name="train")

    @app.command()
    def version() -> None:  # a second command, so `train` stays a sub-command as in the real CLI
        """Unused."""

    return app


def test_dry_run_plans_from_config_json_without_weights(tmp_path, base_folder, pairs_jsonl):
    weightless = tmp_path / "weightless"
    shutil.copytree(base_folder, weightless, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    out = tmp_path / "out"
    result = runner.invoke(_app(), ["train", "--pairs", str(pairs_jsonl), "--base", f"hf:{weightless}",
                                    "--method", "kto", "--profile", "cpu-demo", "--out", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "22 train, 2 validation (held out)" in result.output
    assert "11 (11/epoch" in result.output  # 44 unpaired rows / batch 4
    assert "134,515,008 total, 9,768,960 trainable" in result.output
    assert not out.exists()


def test_bad_profile_is_one_line_naming_file_and_key(tmp_path, pairs_jsonl):
    profile = tmp_path / "custom.yaml"
    profile.write_text("simpo: {beta: 2.0, loss_type: sigmoid}\n")
    result = runner.invoke(_app(), ["train", "--pairs", str(pairs_jsonl), "--method", "simpo",
                                    "--profile", str(profile), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"{profile} [simpo.loss_type]: unknown key 'loss_type'; it is a dpo key" in " ".join(result.output.split())
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_train_with_merge_from_a_dataset_folder(tmp_path, tiny_config):
    pairs = save_dataset_dict(tmp_path / "pairs", validation=HELD_OUT_PAIRS[:2])
    profile = tmp_path / "tiny.yaml"
    profile.write_text(tiny_config("dpo", max_steps=None).to_yaml())
    out = tmp_path / "run"
    result = runner.invoke(_app(), ["train", "--pairs", str(pairs), "--method", "dpo", "--profile", str(profile),
                                    "--max-steps", "1", "--out", str(out), "--merge"])
    assert result.exit_code == 0, result.output
    assert {"adapter", "merged", "checkpoints", "config.yaml", "run.json", "log.jsonl", "curves.png", "README.md"} <= {
        p.name for p in out.iterdir()}
    assert "max_steps: 1" in (out / "config.yaml").read_text()
    assert "24 train, 2 validation (given as the `validation` split)" in (out / "README.md").read_text()

    adapted = load_model(f"hf:smollm2-135m+{out / 'adapter'}")
    merged = load_model(f"hf:{out / 'merged'}")
    prompts, completions = [p["prompt"] for p in HELD_OUT_PAIRS], [p["chosen"] for p in HELD_OUT_PAIRS]
    expected = completion_logprobs(adapted.model, adapted.tokenizer, prompts, completions)
    got = completion_logprobs(merged.model, merged.tokenizer, prompts, completions)
    assert torch.allclose(torch.tensor(got), torch.tensor(expected), atol=1e-2)
    base = load_model("hf:smollm2-135m")
    untrained = completion_logprobs(base.model, base.tokenizer, prompts, completions)
    assert not torch.allclose(torch.tensor(untrained), torch.tensor(expected), atol=1e-2)
