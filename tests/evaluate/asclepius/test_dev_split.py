"""`conscience bench dev`: the train items no training pair was drawn from; validation-only items stay in."""

from __future__ import annotations

import json

from datasets import Dataset, DatasetDict
from typer.testing import CliRunner

from conscience.cli.main import app
from conscience.evaluate.asclepius.dev import dev_items
from conscience.data.benchmark import load_benchmark


def _pair(text: str) -> dict:
    return {"prompt": [{"role": "user", "content": text}], "chosen": [{"role": "assistant", "content": "c"}],
            "rejected": [{"role": "assistant", "content": "r"}]}


def test_items_in_training_pairs_are_left_out_and_validation_items_kept(tmp_path):
    train = load_benchmark(split="train")
    trained, validated, untouched = train[0], train[1], train[2]
    folder = tmp_path / "pairs"
    DatasetDict({"train": Dataset.from_list([_pair("  " + trained.turns[-1].upper() + " ")]),
                 "validation": Dataset.from_list([_pair(validated.turns[-1])])}).save_to_disk(str(folder))
    kept = {i.id for i in dev_items(train, folder)}
    assert trained.id not in kept  # matched despite case and whitespace
    assert validated.id in kept and untouched.id in kept
    assert len(kept) == len(train) - 1


def test_cli_writes_a_benchmark_file_the_evaluator_reads(tmp_path):
    train = load_benchmark(split="train")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(_pair(item.turns[0])) + "\n" for item in train[:5]), encoding="utf-8")
    out = tmp_path / "dev.jsonl"
    result = CliRunner().invoke(app, ["bench", "dev", "--pairs", str(pairs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = load_benchmark(out, split="all")
    assert len(written) == len(train) - 5
    assert not {i.id for i in written} & {i.id for i in train[:5]}
    assert not {i.id for i in written} & {i.id for i in load_benchmark(split="test")}
