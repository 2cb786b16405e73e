"""A recipe that trains in stages (SFT, then DPO from the merged SFT model) and the constitution-in-context variant.

The orchestration tests run the real recipe (stage cache, Asclepius and MedQA runners, report) with a fake
trainer, fake chat models and the fake judge, so they check the wiring in seconds; one slow test trains SFT and
then DPO for real on the bundled model and reads what the trainer recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import conscience.train
from conscience.constitution import load_constitution, system_prompt
from conscience.evaluate.asclepius import safety
from conscience.evaluate.utility.prompts import GENERATE_SYSTEM
from conscience.recipe import assemble, load_recipe, steps
from conscience.recipe.run import run_recipe
from tests.evaluate.asclepius.fakes import FakeJudge
from tests.recipe.fakes import FakeTrain, RecordingChatModel, fixed_calibration, write_generate_summary
from tests.threads import single_torch_thread
from tests.train.train_pairs import save_dataset_dict

BASE = "hf:smollm2-135m"


@pytest.fixture
def offline(monkeypatch) -> dict[str, list[RecordingChatModel]]:
    """Fakes for what needs weights or takes long: the generate stage writes its record and the test pairs, every
    variant loads as a RecordingChatModel (returned here by spec, one per load), the judge reads keywords, and
    the judge's calibration is a fixed record."""
    models: dict[str, list[RecordingChatModel]] = {}

    def generate(config, folder, limit):
        write_generate_summary(folder)
        save_dataset_dict(folder / "dataset")
        return {"pairs": 24}

    def load(spec):
        models.setdefault(spec, []).append(RecordingChatModel(spec))
        return models[spec][-1]

    monkeypatch.setattr(steps, "run_generate_stage", generate)
    monkeypatch.setattr(steps, "load_variant_model", load)
    monkeypatch.setattr(safety, "load_judge", lambda llm_judge=None: FakeJudge())
    monkeypatch.setattr(assemble, "_judge_calibration", fixed_calibration)
    return models


@pytest.fixture
def fake_train(monkeypatch) -> FakeTrain:
    fake = FakeTrain()
    monkeypatch.setattr(conscience.train, "train", fake)
    return fake


def write_recipe(tmp_path: Path, train: dict, in_context: bool = False, name: str = "staged"):
    """A recipe on the bundled base: seven Asclepius items (one per surface, short replies), three MedQA questions."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "train": train,
        "evaluate": {"safety": {"limit": 7, "max_new_tokens": 8}, "utility": {"method": "generate", "circular": False, "subset": 3},
                     "constitution_in_context": in_context}}))
    return load_recipe(path)


def again(recipe):
    """The same recipe under another name: run folders are named by time and name, stage folders by inputs only."""
    return recipe.model_copy(update={"name": recipe.name + "-again"})


def stage_folder(run_dir: Path, label: str) -> Path:
    return (run_dir / "stages" / label).resolve()


def merged(train_folder: Path) -> str:
    return f"hf:{train_folder / 'merged'}"


def test_two_stages_train_dpo_from_the_merged_sft_model_and_a_rerun_reuses_both(tmp_path, offline, fake_train):
    recipe = write_recipe(tmp_path, {"stages": ["sft", "dpo"], "ablations": ["ipo"]})
    assert recipe.chains == [("sft",), ("sft", "dpo"), ("sft", "ipo")]
    first = run_recipe(recipe, tmp_path / "runs")

    sft = merged(stage_folder(first, "train-sft"))
    assert fake_train.calls == [("sft", BASE, True), ("dpo", sft, False), ("ipo", sft, False)]
    report = json.loads((first / "report.json").read_text())
    assert [(v["name"], v["role"], v["trained_from"]) for v in report["variants"]] == [
        ("base", "base", None), ("sft", "reference", BASE), ("sft+dpo", "candidate", sft), ("sft+ipo", "candidate", sft)]
    assert report["variants"][2]["model_spec"] == f"{sft}+{stage_folder(first, 'train-sft+dpo') / 'adapter'}"
    assert [r["variant"] for r in report["verdict"]] == ["sft+dpo", "sft+ipo"]
    assert [r["variant"] for r in report["reference_verdict"]] == ["sft"]
    assert any(n.startswith(f"Staged training: sft+dpo, sft+ipo started from {sft} ") and "the ablations start there too" in n
               for n in report["notes"])
    assert report["training"]["sft+dpo"]["reference"] == sft and report["training"]["sft"]["reference"] is None
    assert set(report["utility"]) == set(report["safety"]) == {"base", "sft", "sft+dpo", "sft+ipo"}
    assert (first / "plots" / "tradeoff.png").exists() and "sft+dpo (reference, not gated)" not in (first / "report.md").read_text()
    assert "### sft (reference, not gated)" in (first / "report.md").read_text()

    loads = sum(map(len, offline.values()))
    second = run_recipe(again(recipe), tmp_path / "runs")
    assert len(fake_train.calls) == 3 and sum(map(len, offline.values())) == loads  # nothing trained or evaluated again
    for link in (first / "stages").iterdir():
        assert stage_folder(second, link.name) == link.resolve()


def test_changing_an_sft_setting_reruns_sft_and_every_stage_after_it(tmp_path, offline, fake_train):
    profile = tmp_path / "profile.yaml"
    settings = conscience.train.load_profile("cpu-demo").model_dump()
    profile.write_text(yaml.safe_dump(settings))
    recipe = write_recipe(tmp_path, {"stages": ["sft", "dpo"], "profile": str(profile)})
    first = run_recipe(recipe, tmp_path / "runs")
    dpo_settings = steps.train_config(recipe, "dpo")

    settings["sft"]["learning_rate"] = 1e-4
    profile.write_text(yaml.safe_dump(settings))
    assert steps.train_config(recipe, "dpo") == dpo_settings  # DPO's own settings are the same
    second = run_recipe(again(recipe), tmp_path / "runs")

    assert [call[0] for call in fake_train.calls] == ["sft", "dpo", "sft", "dpo"]
    assert fake_train.calls[3][1] == merged(stage_folder(second, "train-sft")) != fake_train.calls[1][1]
    for label in ("generate", "safety-base", "utility-base"):
        assert stage_folder(second, label) == stage_folder(first, label)
    for label in ("train-sft", "train-sft+dpo", "safety-sft", "safety-sft+dpo", "utility-sft+dpo"):
        assert stage_folder(second, label) != stage_folder(first, label)


def test_an_interrupted_two_stage_run_resumes_dpo_in_its_folder_after_the_cached_sft(tmp_path, offline, monkeypatch):
    fake = FakeTrain(fail_on="dpo")
    monkeypatch.setattr(conscience.train, "train", fake)
    recipe = write_recipe(tmp_path, {"stages": ["sft", "dpo"]})
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, tmp_path / "runs")
    resumed = run_recipe(again(recipe), tmp_path / "runs")
    assert [call[0] for call in fake.calls] == ["sft", "dpo", "dpo"]
    assert [p.name for p in (tmp_path / "runs" / ".stages").glob("train-sft-dpo-*")] == [stage_folder(resumed, "train-sft+dpo").name]


def test_the_constitution_in_context_is_the_system_message_of_the_base_model_and_of_nothing_else(tmp_path, offline, fake_train):
    recipe = write_recipe(tmp_path, {"method": "dpo"}, in_context=True)
    assert recipe.variant_names == ["base", "base+constitution", "dpo"]
    run_dir = run_recipe(recipe, tmp_path / "runs")
    prompt = system_prompt(load_constitution())

    [base] = offline[BASE]  # one load, shared by the base and the base with the constitution
    told = [c for c in base.seen if c[0]["role"] == "system" and c[0]["content"].startswith(prompt)]
    assert len(told) * 2 == len(base.seen)
    assert {c[0]["content"] for c in told} == {prompt, f"{prompt}\n\n{GENERATE_SYSTEM}"}  # Asclepius, then MedQA (generate)
    [trained] = [models[0] for spec, models in offline.items() if spec != BASE]
    assert trained.seen and not any(prompt in m["content"] for c in trained.seen for m in c)

    report = json.loads((run_dir / "report.json").read_text())
    assert [r["variant"] for r in report["verdict"]] == ["dpo"]
    assert [r["variant"] for r in report["reference_verdict"]] == ["base+constitution"]
    assert report["provenance"]["system_prompts"] == {"base+constitution": prompt}
    records = {name: json.loads((stage_folder(run_dir, f"safety-{name}") / "run.json").read_text())["config"]["system_prompt"]
               for name in ("base", "base+constitution")}
    assert records == {"base": None, "base+constitution": prompt}
    assert json.loads((stage_folder(run_dir, "utility-base+constitution") / "summary.json").read_text())["system_prompt"] == prompt


def test_the_dev_split_leaves_out_the_train_items_the_pairs_were_drawn_from_for_every_variant(tmp_path, offline, fake_train,
                                                                                              monkeypatch):
    from datasets import Dataset, DatasetDict

    from conscience.data import load_benchmark

    train_items = load_benchmark(split="train")
    drawn, held = train_items[:2], train_items[2]  # two pairs drawn from train items; a third only in validation

    def generate(config, folder, limit):
        write_generate_summary(folder)
        row = lambda item: {"prompt": [{"role": "user", "content": item.turns[0]}], "chosen": [{"role": "assistant", "content": "c"}],
                            "rejected": [{"role": "assistant", "content": "r"}]}
        DatasetDict({"train": Dataset.from_list([row(i) for i in drawn]),
                     "validation": Dataset.from_list([row(held)])}).save_to_disk(str(folder / "dataset"))
        return {"pairs": 3}

    monkeypatch.setattr(steps, "run_generate_stage", generate)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump({"name": "dev", "train": {"stages": ["sft", "dpo"]},
                                    "evaluate": {"safety": {"split": "dev", "limit": 7, "max_new_tokens": 8},
                                                 "utility": {"method": "generate", "circular": False, "subset": 3}}}))
    run_dir = run_recipe(load_recipe(path), tmp_path / "runs")
    expected = [item.id for item in train_items if item not in drawn]
    for variant in ("base", "sft", "sft+dpo"):
        folder = stage_folder(run_dir, f"safety-{variant}")
        assert [json.loads(line)["id"] for line in (folder / "dev.jsonl").read_text().splitlines()] == expected
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["provenance"]["benchmark"]["file"] == str(folder / "dev.jsonl")
        assert json.loads((folder / "INPUTS.json").read_text())["pairs"]  # keyed by the generate stage
    assert "split=dev" in json.loads((run_dir / "report.json").read_text())["safety_how"]


def test_the_constitution_prompt_fits_the_bundled_models_context_with_room_to_spare():
    from transformers import AutoTokenizer

    from conscience.models import bundled

    if bundled.gguf_path() is None and not bundled.is_converted():
        pytest.skip("bundled SmolLM2 weights not installed")
    tokens = len(AutoTokenizer.from_pretrained(bundled.ensure_hf_folder())(system_prompt(load_constitution()))["input_ids"])
    assert 800 < tokens < 1_200  # of an 8,192-token context; the module docstring says about 1,050


@pytest.fixture
def one_torch_thread():
    with single_torch_thread():
        yield


@pytest.mark.slow
def test_sft_then_dpo_really_trains_dpo_from_the_merged_sft_model_as_base_and_reference(tmp_path, offline, monkeypatch,
                                                                                       one_torch_thread):
    from conscience.models import GenerationParams, bundled, load_model

    if bundled.gguf_path() is None and not bundled.is_converted():
        pytest.skip("bundled SmolLM2 weights not installed")
    calls = []
    real_train = conscience.train.train
    monkeypatch.setattr(conscience.train, "train", lambda *args, **kwargs: calls.append(args[2]) or real_train(*args, **kwargs))
    settings = conscience.train.load_profile("cpu-demo").model_dump()
    settings.update(max_length=160, lr_scheduler="constant", warmup_ratio=0.0, early_stopping_patience=None, eval_steps=100,
                    save_steps=100, logging_steps=1)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(settings))
    recipe = write_recipe(tmp_path, {"stages": ["sft", "dpo"], "profile": str(tmp_path / "tiny.yaml"), "max_steps": 1})
    run_dir = run_recipe(recipe, tmp_path / "runs")

    sft, dpo = stage_folder(run_dir, "train-sft"), stage_folder(run_dir, "train-sft+dpo")
    sft_run, dpo_run = (json.loads((folder / "run.json").read_text()) for folder in (sft, dpo))
    assert (sft_run["base"], sft_run["reference"]) == (BASE, None)
    assert dpo_run["base"] == dpo_run["reference"] == merged(sft) and dpo_run["base_folder"] == str(sft / "merged")
    spec = json.loads((run_dir / "report.json").read_text())["variants"][2]["model_spec"]
    assert spec == f"{merged(sft)}+{dpo / 'adapter'}"
    assert load_model(spec).generate([[{"role": "user", "content": "Hi"}]], GenerationParams(max_new_tokens=2))  # as evaluated

    run_recipe(again(recipe), tmp_path / "runs")
    assert calls == [BASE, merged(sft)]  # the rerun trained nothing
