"""Loading preference pairs: both input forms, row errors that say where, and the held-out split."""

from __future__ import annotations

import json

import pytest
from datasets import load_from_disk

from conscience.errors import ConscienceError
from conscience.train import load_pairs
from conscience.train.data import validation_size
from tests.train.train_pairs import HELD_OUT_PAIRS, TRAIN_PAIRS, save_dataset_dict, write_jsonl


def test_jsonl_is_split_with_a_fixed_seed(pairs_jsonl):
    first = load_pairs(pairs_jsonl, seed=0)
    again = load_pairs(pairs_jsonl, seed=0)
    assert first.held_out and (len(first.train), len(first.validation)) == (22, 2)
    assert first.validation["prompt"] == again.validation["prompt"]
    assert first.train.column_names == ["prompt", "chosen", "rejected"]


def test_validation_is_500_pairs_or_ten_percent_whichever_is_smaller():
    assert validation_size(100_000, 500, 0.1) == 500
    assert validation_size(3000, 500, 0.1) == 300
    assert validation_size(24, 500, 0.1) == 2
    assert validation_size(5, 500, 0.1) == 1


def test_dataset_folder_with_validation_and_extra_columns(tmp_path):
    folder = save_dataset_dict(tmp_path / "pairs", validation=HELD_OUT_PAIRS)
    assert "source" in load_from_disk(str(folder))["train"].column_names
    data = load_pairs(folder)
    assert not data.held_out and (len(data.train), len(data.validation)) == (24, 6)
    assert data.train.column_names == ["prompt", "chosen", "rejected"]
    assert data.train[0]["prompt"] == TRAIN_PAIRS[0]["prompt"]


def test_data_hash_pins_the_content(tmp_path, pairs_jsonl):
    changed = [dict(TRAIN_PAIRS[0], chosen=[{"role": "assistant", "content": "Different."}])] + TRAIN_PAIRS[1:]
    other = write_jsonl(tmp_path / "other.jsonl", changed)
    assert load_pairs(pairs_jsonl).data_hash == load_pairs(pairs_jsonl).data_hash
    assert load_pairs(pairs_jsonl).data_hash != load_pairs(other).data_hash


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"prompt": "plain text", "chosen": [], "rejected": []}, "prompt", "list of messages"),
        ({"prompt": [{"role": "user", "content": "q"}], "rejected": [{"role": "assistant", "content": "a"}]},
         "chosen", "missing 'chosen'"),
        ({"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "user", "content": "a"}],
          "rejected": [{"role": "assistant", "content": "b"}]}, "chosen", "role 'assistant'"),
        ({"prompt": [{"role": "assistant", "content": "q"}], "chosen": [{"role": "assistant", "content": "a"}],
          "rejected": [{"role": "assistant", "content": "b"}]}, "prompt", "end with a user message"),
    ],
)
def test_bad_jsonl_row_names_file_line_and_field(tmp_path, row, field, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(TRAIN_PAIRS[0]) + "\n\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(ConscienceError) as info:
        load_pairs(path)
    assert (info.value.where, info.value.line, info.value.field) == (str(path), 3, field)
    assert message in info.value.message


def test_bad_dataset_row_names_split_and_row(tmp_path):
    from datasets import Dataset, DatasetDict

    rows = [dict(p) for p in TRAIN_PAIRS[:3]]
    rows[2]["rejected"] = [{"role": "user", "content": "not an answer"}]
    DatasetDict({"train": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(ConscienceError, match="split train row 2") as info:
        load_pairs(tmp_path / "ds")
    assert info.value.field == "rejected"


def test_missing_or_foreign_input_is_a_user_error(tmp_path):
    with pytest.raises(ConscienceError, match="pairs not found"):
        load_pairs(tmp_path / "nope.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConscienceError, match="save_to_disk"):
        load_pairs(tmp_path / "empty")
    with pytest.raises(ConscienceError, match="at least 2 pairs"):
        load_pairs(write_jsonl(tmp_path / "one.jsonl", TRAIN_PAIRS[:1]))


def test_length_fit_counts_the_pairs_max_length_cuts(base_folder):
    from datasets import Dataset

    from conscience.train.base import load_tokenizer
    from conscience.train.data import length_fit

    tokenizer = load_tokenizer(base_folder)
    short = {"prompt": [{"role": "user", "content": "Is ibuprofen safe?"}],
             "chosen": [{"role": "assistant", "content": "Usually, at label doses."}],
             "rejected": [{"role": "assistant", "content": "Yes."}]}
    long_answer = dict(short, chosen=[{"role": "assistant", "content": "word " * 200}])
    long_prompt = dict(short, prompt=[{"role": "user", "content": "word " * 300}])
    fit = length_fit(Dataset.from_list([short, long_answer, long_prompt]), tokenizer, max_length=128)
    assert fit == {"pairs": 3, "dropped": 1, "truncated": 1}


def test_with_lengths_counts_prompt_plus_each_completion(base_folder):
    from datasets import Dataset

    from conscience.train.base import load_tokenizer
    from conscience.train.recipes import LENGTH_COLUMN, with_lengths

    tokenizer = load_tokenizer(base_folder)
    row = TRAIN_PAIRS[0]
    counted = with_lengths(Dataset.from_list([row]), tokenizer)[0][LENGTH_COLUMN]
    by_hand = sum(len(tokenizer.apply_chat_template(row["prompt"] + row[side], return_dict=True)["input_ids"])
                  for side in ("chosen", "rejected"))
    assert counted == by_hand > 0
