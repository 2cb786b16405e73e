"""TrainConfig and the shipped profiles: the paper's table, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conscience.errors import ConscienceError
from conscience.precision import Precision
from conscience.train import TrainConfig, load_profile, shipped_profiles


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_profiles_load_and_resolve_for_every_method():
    assert {"paper", "cpu-demo", "paper-qwen3-8b"} <= set(shipped_profiles())
    for name in shipped_profiles():
        profile = load_profile(name)
        assert profile.name == name and profile.method is None
        for method in ("dpo", "ipo", "kto", "simpo"):
            assert load_profile(name).resolve(method).method == method


def test_paper_profile_is_the_method_table():
    paper = load_profile("paper")
    assert paper.dpo.beta == 0.1 and paper.dpo.loss_type == "sigmoid"
    assert (paper.lora.r, paper.lora.alpha, paper.lora.dropout, paper.lora.target_modules) == (32, 64, 0.05, "all-linear")
    assert (paper.learning_rate, paper.lr_scheduler, paper.warmup_ratio, paper.epochs) == (5e-7, "cosine", 0.03, 2)
    assert paper.early_stopping_patience is not None and paper.checkpoint_steps % paper.eval_steps == 0
    assert paper.dtype == "bfloat16" and paper.bf16


def test_cpu_demo_profile_is_sized_for_two_cores():
    demo = load_profile("cpu-demo")
    assert demo.learning_rate == 5e-5 and demo.bf16 and demo.dtype == "float32"
    assert demo.max_length == 384 and demo.epochs == 1 and demo.batch_size <= 4
    assert demo.lora == load_profile("paper").lora


def test_resolve_keeps_only_the_chosen_methods_section_and_round_trips(tmp_path):
    resolved = load_profile("paper").resolve("kto", max_steps=7)
    assert resolved.kto is not None and resolved.dpo is None and resolved.simpo is None
    assert resolved.max_steps == 7
    again = load_profile(_write(tmp_path, resolved.to_yaml()))
    assert again == resolved


def test_nulls_survive_the_round_trip(tmp_path):
    """Bug: config.yaml once dropped nulls, so early_stopping_patience: null came back as the default 3."""
    config = load_profile("cpu-demo").resolve("dpo")
    config = config.model_copy(update={"early_stopping_patience": None, "save_steps": 1, "eval_steps": 100})
    assert load_profile(_write(tmp_path, config.to_yaml())) == config


def test_custom_profile_by_path_gets_defaults_for_a_missing_method_section(tmp_path):
    config = load_profile(_write(tmp_path, "learning_rate: 1.0e-5\n")).resolve("simpo")
    assert config.name == "custom" and config.params().beta == 2.0 and config.learning_rate == 1e-5


def test_unknown_key_names_file_and_key(tmp_path):
    path = _write(tmp_path, "learning_rate: 1.0e-5\nlearnig_rate_typo: 3\n")
    with pytest.raises(ConscienceError) as info:
        load_profile(path)
    assert info.value.where == str(path) and info.value.field == "learnig_rate_typo"


def test_method_key_in_the_wrong_section_is_named_with_its_owner(tmp_path):
    path = _write(tmp_path, "dpo: {beta: 0.1, desirable_weight: 1.0}\n")
    with pytest.raises(ConscienceError) as info:
        load_profile(path)
    assert info.value.field == "dpo.desirable_weight"
    assert "kto key, not a dpo key" in info.value.message


def test_method_key_at_top_level_points_to_the_sections(tmp_path):
    with pytest.raises(ConscienceError) as info:
        load_profile(_write(tmp_path, "gamma: 0.5\n"))
    assert info.value.field == "gamma" and "simpo" in info.value.message


def test_section_for_another_method_is_rejected_when_the_method_is_fixed(tmp_path):
    with pytest.raises(ConscienceError) as info:
        load_profile(_write(tmp_path, "method: dpo\nkto: {beta: 0.2}\n"))
    assert info.value.field == "kto" and "trains dpo" in info.value.message


def test_fixed_method_conflicting_with_the_requested_one(tmp_path):
    profile = load_profile(_write(tmp_path, "method: dpo\n"))
    assert profile.resolve(None).method == "dpo"
    with pytest.raises(ConscienceError, match="fixed to method 'dpo'"):
        profile.resolve("simpo")


def test_kto_with_batch_size_one_is_rejected_naming_batch_size():
    profile = load_profile("cpu-demo")
    with pytest.raises(ConscienceError) as info:
        profile.model_copy(update={"batch_size": 1}).resolve("kto")
    assert info.value.field == "batch_size"
    assert profile.model_copy(update={"batch_size": 1}).resolve("dpo").batch_size == 1


def test_bad_value_and_bad_yaml_name_the_key_or_line(tmp_path):
    with pytest.raises(ConscienceError) as info:
        load_profile(_write(tmp_path, "lora: {r: zero}\n"))
    assert info.value.field == "lora.r"
    with pytest.raises(ConscienceError) as info:
        load_profile(_write(tmp_path, "learning_rate: 1e-5\nlora: [unclosed\n"))
    assert info.value.where.endswith("custom.yaml") and info.value.line == 3
    with pytest.raises(ConscienceError, match="shipped: "):
        load_profile("no-such-profile")


def test_early_stopping_needs_checkpoints_on_eval_steps(tmp_path):
    with pytest.raises(ConscienceError) as info:
        load_profile(_write(tmp_path, "eval_steps: 10\nsave_steps: 15\n"))
    assert info.value.field == "save_steps"
    assert load_profile(_write(tmp_path, "eval_steps: 10\nsave_steps: 15\nearly_stopping_patience: null\n"))


def test_no_method_anywhere_is_a_user_error():
    with pytest.raises(ConscienceError, match="--method"):
        load_profile("paper").resolve(None)


def test_dpo_sft_weight_becomes_trls_sigmoid_plus_sft_mixture(tmp_path):
    from conscience.train.recipes import RECIPES, common_args

    demo = load_profile("cpu-demo").resolve("dpo")
    assert demo.dpo.sft_weight == 0.0 and demo.group_by_length
    mixed = demo.model_copy(update={"dpo": demo.dpo.model_copy(update={"sft_weight": 1.0})})
    fp32 = Precision(bf16=False, requested="auto", device="cpu", native=False, reason="test")
    args = RECIPES["dpo"].make_args(mixed, common_args(mixed, tmp_path, fp32))
    assert args.loss_type == ["sigmoid", "sft"] and args.loss_weights == [1.0, 1.0]
    assert args.train_sampling_strategy == "group_by_length"
    for pure in (demo, load_profile("paper").resolve("dpo")):
        assert RECIPES["dpo"].make_args(pure, common_args(pure, tmp_path, fp32)).loss_type == ["sigmoid"]


def test_cpu_demo_asks_for_bf16_auto_and_training_args_follow_the_resolved_value(tmp_path):
    from conscience.train.recipes import RECIPES, common_args

    demo = load_profile("cpu-demo").resolve("dpo")
    assert demo.bf16 == "auto" and TrainConfig().bf16 == "auto"
    assert load_profile("paper").bf16 is True  # an explicit value stays as written
    for bf16 in (False, True):
        precision = Precision(bf16=bf16, requested="auto", device="cpu", native=bf16, reason="test")
        assert RECIPES["dpo"].make_args(demo, common_args(demo, tmp_path, precision)).bf16 is bf16
