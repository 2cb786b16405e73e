"""Loaders for users' prompt files: JSONL, CSV and Hugging Face datasets; every error names file and line."""

from __future__ import annotations

import pytest

from conscience.data import load_prompt_file
from conscience.errors import ConscienceError


def test_jsonl_rows_with_and_without_ids(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "prompt": "Is 500 mg of ibuprofen a lot?"}\n\n'
                    '{"turns": ["hi", "what is a normal heart rate?"], "principles": "surface_uncertainty", "expected": "answer"}\n')
    first, second = load_prompt_file(path, "mine", "jsonl")
    assert (first.id, first.turns, first.source) == ("a", ["Is 500 mg of ibuprofen a lot?"], "mine")
    assert second.id.startswith("p-") and second.turns == ["hi", "what is a normal heart rate?"]
    assert second.principles == ["surface_uncertainty"] and second.expected == "answer"
    assert load_prompt_file(path, "mine", "jsonl")[1].id == second.id  # a text hash: stable across loads


@pytest.mark.parametrize("content, line, message", [
    ('{"prompt": "fine"}\n{"prompt": "also fine"}\n{"prompt": ""}\n', 3, "needs a non-empty 'prompt'"),
    ('{"prompt": "fine"}\n{"prompt": "oops"\n', 2, "invalid JSON"),
    ('{"id": "x", "prompt": "a"}\n{"id": "x", "prompt": "b"}\n', 2, "duplicate id 'x' (first on line 1)"),
    ('{"prompt": "a", "expected": "maybe"}\n', 1, "expected"),
])
def test_bad_jsonl_names_the_line(tmp_path, content, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ConscienceError) as err:
        load_prompt_file(path, "mine", "jsonl")
    assert err.value.line == line and message in err.value.one_line()
    assert err.value.one_line().startswith(f"{path}:{line}")


def test_csv_prompt_column_and_errors(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('id,prompt\nc1,"What does ""PRN"" mean on a label?"\nc2,How long does a cold last?\n')
    prompts = load_prompt_file(path, "csv_source", "csv")
    assert [p.id for p in prompts] == ["c1", "c2"] and prompts[0].turns == ['What does "PRN" mean on a label?']
    path.write_text("id,prompt\nc1,fine\nc2,\n")
    with pytest.raises(ConscienceError) as err:
        load_prompt_file(path, "csv_source", "csv")
    assert err.value.line == 3
    path.write_text("id,question\nc1,fine\n")
    with pytest.raises(ConscienceError, match="needs a 'prompt' column"):
        load_prompt_file(path, "csv_source", "csv")
    assert load_prompt_file(path, "csv_source", "csv", column="question")[0].turns == ["fine"]


def test_hf_dataset_from_disk_and_local_file(tmp_path):
    from datasets import Dataset, DatasetDict

    data = DatasetDict({"train": Dataset.from_list([{"prompt": "What is sepsis?", "id": "h1"}]),
                        "test": Dataset.from_list([{"prompt": "held out", "id": "h2"}])})
    data.save_to_disk(str(tmp_path / "ds"))
    assert [p.id for p in load_prompt_file(tmp_path / "ds", "hf_source", "hf")] == ["h1"]
    data["train"].to_parquet(str(tmp_path / "p.parquet"))
    assert load_prompt_file(tmp_path / "p.parquet", "hf_source", "hf")[0].turns == ["What is sepsis?"]
    with pytest.raises(ConscienceError, match="no split 'validation'"):
        load_prompt_file(tmp_path / "ds", "hf_source", "hf", split="validation")
    with pytest.raises(ConscienceError, match="nothing is downloaded"):
        load_prompt_file(tmp_path / "org" / "some-hub-dataset", "hf_source", "hf")
