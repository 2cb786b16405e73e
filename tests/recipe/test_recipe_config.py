"""A recipe with a typo'd key or a missing file fails before any work starts, naming it."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conscience.cli.main import app
from conscience.errors import ConscienceError
from conscience.recipe import default_recipe_path, load_recipe
from conscience.recipe.stages import StageCache

runner = CliRunner()


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_default_recipe_is_valid():
    recipe = load_recipe()
    assert recipe.base_model == "hf:smollm2-135m" and recipe.methods == ["dpo"]
    result = runner.invoke(app, ["run", "--check"])
    assert result.exit_code == 0 and "valid" in result.output


def test_the_scale_recipe_trains_sft_then_dpo_on_mostly_lookalike_pairs_and_scores_the_dev_split():
    from conscience.recipe import steps

    recipe = load_recipe(default_recipe_path().with_name("scale.yaml"))
    assert recipe.train.sequence == ["sft", "dpo"] and recipe.evaluate.safety.split == "dev"
    spec = steps.generate_config(recipe)
    weights = {s.kind: s.weight for s in spec.sources}
    assert weights["lookalikes"] / sum(weights.values()) >= 0.8 and "asclepius" not in weights  # the dev split stays whole
    assert spec.teacher == "authored:clinical-v0.1" and spec.size >= 3000
    default = load_recipe()
    assert default.train.stages is None and default.evaluate.safety.split == "test" and default.generate.spec is None


def test_without_stages_a_recipe_trains_one_method_and_with_them_each_ablation_replaces_the_last_stage(tmp_path):
    default = load_recipe()
    assert default.train.stages is None and default.chains == [("dpo",)] and default.variant_names == ["base", "dpo"]
    staged = load_recipe(write(tmp_path, {"train": {"stages": ["sft", "dpo"], "ablations": ["ipo", "kto"]},
                                          "evaluate": {"constitution_in_context": True}}))
    assert staged.chains == [("sft",), ("sft", "dpo"), ("sft", "ipo"), ("sft", "kto")]
    assert staged.variant_names == ["base", "base+constitution", "sft", "sft+dpo", "sft+ipo", "sft+kto"]


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["train"].update(abalations=["ipo"]), "train.abalations"),
    (lambda d: d.update(base_modle="hf:x"), "base_modle"),
    (lambda d: d["evaluate"]["utility"].update(questions="no/such/file.jsonl"), "evaluate.utility.questions"),
    (lambda d: d.update(constitution="missing.yaml"), "constitution"),
    (lambda d: d["train"].update(method="ppo"), "train.method"),
    (lambda d: d.update(base_model="nope"), "base_model"),
    (lambda d: d["train"].update(stages=["sft", "dpo"], method="ipo"), "is not the last of stages"),
    (lambda d: d["train"].update(stages=["sft", "sft"]), "name a method twice"),
    (lambda d: d["train"].update(stages=["sft", "ppo"]), "train.stages"),
])
def test_bad_recipe_fails_before_work_naming_the_key(tmp_path, mutate, needle, monkeypatch):
    data = yaml.safe_load(default_recipe_path().read_text())
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConscienceError) as info:
        load_recipe(path)
    assert needle in str(info.value) and str(path) in str(info.value)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1 and needle in result.output
    assert not (tmp_path / "runs").exists()  # nothing started


def test_stage_cache_reuses_finished_stages_and_reenters_interrupted_ones(tmp_path):
    cache = StageCache(tmp_path)
    calls = []

    def work(folder: Path):
        calls.append(folder)
        (folder / "out.txt").write_text("x")
        return {"n": len(calls)}

    first = cache.run("gen", {"size": 3}, work)
    again = cache.run("gen", {"size": 3}, work)
    changed = cache.run("gen", {"size": 4}, work)
    assert not first.cached and again.cached and again.info == {"n": 1} and not changed.cached
    assert first.folder == again.folder != changed.folder and len(calls) == 2

    def crash(folder: Path):
        (folder / "partial.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.run("train", {"m": "dpo"}, crash)
    resumed = cache.run("train", {"m": "dpo"}, lambda folder: {"saw_partial": (folder / "partial.txt").exists()})
    assert resumed.info == {"saw_partial": True}


def test_default_recipe_utility_stage_reads_the_shipped_questions():
    """Bug: with `questions: null` the utility stage passed None to the loader and crashed after training."""
    from conscience.evaluate.utility.questions import load_questions
    from conscience.recipe.steps import utility_questions

    path = utility_questions(load_recipe())
    assert path.exists() and len(load_questions(path, "test").questions) == 30


def test_bundled_data_hash_follows_data_files_not_code(tmp_path):
    from conscience.recipe.stages import bundled_data_hash

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "items.jsonl").write_text('{"id": 1}\n')
    (tmp_path / "module.py").write_text("x = 1\n")
    first = bundled_data_hash(tmp_path)
    (tmp_path / "module.py").write_text("x = 2\n")
    assert bundled_data_hash(tmp_path) == first
    (tmp_path / "data" / "items.jsonl").write_text('{"id": 2}\n')
    assert bundled_data_hash(tmp_path) != first
    # the installed package's own data (benchmark items, authored outputs, weights) is what run_recipe hashes
    assert len(bundled_data_hash()) == 16


def test_a_source_change_changes_every_stage_key_and_recomputes_the_stage(tmp_path):
    """Bug: stage keys named only __version__ (0.1.0 since the first commit), so a code fix replayed a stale stage."""
    from conscience.recipe.stages import code_fingerprint, source_hash

    package = tmp_path / "package"
    (package / "data").mkdir(parents=True)
    (package / "data" / "items.jsonl").write_text('{"id": 1}\n')
    (package / "module.py").write_text("RATE = 0.5\n")
    before = code_fingerprint(package)
    (package / "data" / "items.jsonl").write_text('{"id": 1}\n')  # rewritten unchanged: same key
    assert code_fingerprint(package) == before
    (package / "module.py").write_text("RATE = 0.25  # the fix\n")
    after = code_fingerprint(package)
    assert after["source"] != before["source"] and after["bundled_data"] == before["bundled_data"]
    assert StageCache.key("safety-base", {"code": before}) != StageCache.key("safety-base", {"code": after})
    assert len(source_hash()) == 16

    cache, calls = StageCache(tmp_path / "stages"), []

    def work(folder: Path) -> dict:
        calls.append(folder)
        return {"unsafe_rate": 0.42}

    first = cache.run("safety-base", {"model": "m", "code": before}, work)
    replayed = cache.run("safety-base", {"model": "m", "code": before}, work)
    recomputed = cache.run("safety-base", {"model": "m", "code": after}, work)
    assert replayed.cached and not recomputed.cached and len(calls) == 2
    assert recomputed.info == first.info  # same figures, from a fresh computation


def test_a_stage_key_follows_its_own_package_and_imports_not_the_rest(tmp_path):
    """Bug: every stage key hashed the whole package, so fixing a typo in the report (or shipping the data-scale
    curve, which is package data) made hours of cached training run again."""
    from conscience.recipe.stages import code_fingerprint, unit_closure

    package = tmp_path / "conscience"
    for folder in ("train", "models", "report", "report/data", "recipe"):
        (package / folder).mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("__version__ = '0'\n")
    (package / "errors.py").write_text("class Oops(Exception): ...\n")
    (package / "train" / "__init__.py").write_text("from conscience.models import load\n")
    (package / "train" / "loop.py").write_text("def step():\n    from conscience.errors import Oops  # lazy: still counts\n")
    (package / "models" / "__init__.py").write_text("def load(): ...\n")
    (package / "report" / "__init__.py").write_text("from conscience.train import loop\n")
    (package / "report" / "data" / "curve.json").write_text("{}\n")
    (package / "recipe" / "steps.py").write_text("STEP = 1\n")
    assert unit_closure(package, "train") == {"train", "models", "errors"}
    train = code_fingerprint(package, stage="train")
    assert train["packages"] == "errors,models,train"

    (package / "report" / "__init__.py").write_text("from conscience.train import loop  # reworded\n")
    (package / "report" / "data" / "curve.json").write_text('{"shipped": true}\n')
    assert code_fingerprint(package, stage="train") == train  # the report is not training's code
    assert code_fingerprint(package, stage="report")["packages"] == "errors,models,report,train"
    for edit in (package / "errors.py", package / "models" / "__init__.py", package / "recipe" / "steps.py"):
        before = code_fingerprint(package, stage="train")
        edit.write_text(edit.read_text() + "# changed\n")
        assert code_fingerprint(package, stage="train")["source"] != before["source"], edit
    with pytest.raises(ValueError, match="not a part"):
        code_fingerprint(package, stage="nowhere")


def test_the_real_training_stage_does_not_hash_the_report_guard_or_cli():
    from conscience.recipe.run import STAGE_PACKAGES
    from conscience.recipe.stages import code_fingerprint

    train = code_fingerprint(stage="train")["packages"].split(",")
    assert "train" in train and "models" in train
    assert not {"report", "guard", "cli", "judge", "evaluate", "recipe"} & set(train)
    assert set(STAGE_PACKAGES.values()) == {"generate", "train", "evaluate"}
    assert "judge" in code_fingerprint(stage="evaluate")["packages"].split(",")  # the judge scores the safety stage


def test_report_assembly_fails_naming_a_missing_or_malformed_stage_summary(tmp_path):
    """Bug: a missing summary.json was read as {} and the report showed blanks instead of failing."""
    from conscience.evaluate.asclepius import SafetySummary
    from conscience.recipe.assemble import _read

    with pytest.raises(ConscienceError, match="stage output not found") as info:
        _read(tmp_path / "summary.json", SafetySummary)
    assert info.value.where == str(tmp_path / "summary.json")
    (tmp_path / "summary.json").write_text('{"unsafe_rate": 3}')
    with pytest.raises(ConscienceError, match="not a SafetySummary"):
        _read(tmp_path / "summary.json", SafetySummary)
