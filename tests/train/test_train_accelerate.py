"""The shipped multi-GPU accelerate configs parse the way `accelerate launch` parses them (no GPU needed)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from unittest import mock

import pytest
from accelerate.commands.config.config_args import ClusterConfig
from accelerate.commands.launch import _validate_launch_command, launch_command_parser
from accelerate.utils import DistributedType

from conscience.train import load_profile

FOLDER = Path(str(resources.files("conscience.train") / "accelerate"))


def _launch_args(name: str):
    argv = ["--config_file", str(FOLDER / name), "-m", "conscience.cli.main", "train", "--pairs", "p", "--out", "o"]
    args, _, mixed_precision = _validate_launch_command(launch_command_parser().parse_args(argv))
    return args, mixed_precision


@pytest.mark.parametrize(("name", "kind"), [("deepspeed_zero3.yaml", DistributedType.DEEPSPEED),
                                            ("fsdp.yaml", DistributedType.FSDP)])
def test_config_is_two_bf16_processes_on_one_machine(name, kind):
    config = ClusterConfig.from_yaml_file(str(FOLDER / name))  # raises on unknown keys
    assert (config.distributed_type, config.num_processes, config.num_machines) == (kind, 2, 1)
    assert config.mixed_precision == "bf16" and not config.use_cpu
    args, mixed_precision = _launch_args(name)
    assert args.num_processes == 2 and mixed_precision
    assert args.module and args.training_script == "conscience.cli.main"


def test_deepspeed_config_is_zero3_saving_gathered_weights():
    args, _ = _launch_args("deepspeed_zero3.yaml")
    assert args.use_deepspeed and int(args.zero_stage) == 3
    assert str(args.zero3_save_16bit_model).lower() == "true" and str(args.zero3_init_flag).lower() == "true"


def test_fsdp_config_builds_accelerates_fsdp_plugin_for_qwen3():
    from accelerate.utils import FullyShardedDataParallelPlugin
    from accelerate.utils.launch import prepare_multi_gpu_env
    from transformers.models.qwen3 import modeling_qwen3

    args, _ = _launch_args("fsdp.yaml")
    with mock.patch.dict(os.environ, prepare_multi_gpu_env(args)):
        plugin = FullyShardedDataParallelPlugin()
    assert plugin.fsdp_version == 2 and plugin.state_dict_type.name == "FULL_STATE_DICT"
    assert plugin.transformer_cls_names_to_wrap == ["Qwen3DecoderLayer"]
    assert hasattr(modeling_qwen3, "Qwen3DecoderLayer") and "Qwen3DecoderLayer" in (
        modeling_qwen3.Qwen3PreTrainedModel._no_split_modules)
    assert not plugin.activation_checkpointing  # the trainer's activation_checkpointing does it instead


def test_qwen3_profile_keeps_the_papers_global_batch():
    qwen, paper = load_profile("paper-qwen3-8b"), load_profile("paper")
    assert qwen.batch_size * qwen.gradient_accumulation_steps * 2 == paper.batch_size * paper.gradient_accumulation_steps
    assert qwen.activation_checkpointing and qwen.dtype == "bfloat16" and qwen.bf16
    for key in ("learning_rate", "lr_scheduler", "warmup_ratio", "epochs", "lora", "dpo", "ipo", "kto", "simpo"):
        assert getattr(qwen, key) == getattr(paper, key), key
