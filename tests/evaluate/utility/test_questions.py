"""Loaders for the three question formats, their errors (file, line, field), and option rotation."""

import json
from collections import Counter

import pytest

from conscience.errors import ConscienceError
from conscience.evaluate.utility import MCQuestion, load_questions

OPTIONS = {"A": "Aspirin", "B": "Heparin", "C": "Warfarin", "D": "Alteplase"}


def _write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_authored_questions_are_balanced_and_valid(authored):
    assert authored.format == "project" and len(authored.questions) == 30
    assert Counter(q.answer for q in authored.questions) == {"A": 8, "B": 8, "C": 7, "D": 7}
    assert len({q.id for q in authored.questions}) == 30
    assert all(q.k == 4 and q.meta_info in ("step1", "step2&3") for q in authored.questions)


def test_standard_medqa_jsonl(tmp_path):
    row = {"question": "Q?", "options": OPTIONS, "answer_idx": "B", "answer": "Heparin", "meta_info": "step1"}
    qs = load_questions(_write(tmp_path / "test.jsonl", [row, row]))
    assert qs.format == "medqa"
    assert [q.id for q in qs.questions] == ["test-00000", "test-00001"]
    assert qs.questions[0].answer == "B" and len(qs.sha256) == 64


def test_hf_layout_jsonl_parquet_and_saved_folder(tmp_path):
    rows = [{"id": "h1", "sent1": "Q1?", "sent2": "", "ending0": "w", "ending1": "x", "ending2": "y", "ending3": "z", "label": 2}]
    from_jsonl = load_questions(_write(tmp_path / "hf.jsonl", rows))
    assert from_jsonl.format == "hf"
    assert from_jsonl.questions[0] == MCQuestion("h1", "Q1?", {"A": "w", "B": "x", "C": "y", "D": "z"}, "C", None)

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "hf.parquet")
    assert load_questions(tmp_path / "hf.parquet").questions == from_jsonl.questions

    from datasets import Dataset, DatasetDict

    DatasetDict({"test": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "saved"))
    assert load_questions(tmp_path / "saved").questions == from_jsonl.questions
    with pytest.raises(ConscienceError, match="split 'train' not in this dataset"):
        load_questions(tmp_path / "saved", split="train")


@pytest.mark.parametrize(
    ("bad_row", "field", "message"),
    [
        ({"id": "x", "options": OPTIONS, "answer": "A"}, "question", "missing field"),
        ({"id": "x", "question": "Q?", "options": OPTIONS, "answer": "E"}, "answer", "must be one of the option letters"),
        ({"id": "x", "question": "Q?", "options": {"A": "a", "C": "c"}, "answer": "A"}, "options", "option letters must be A, B"),
        ({"id": "x", "question": "Q?", "options": {"A": "a", "B": ""}, "answer": "A"}, "options.B", "non-empty"),
        ({"id": "q1", "question": "Q?", "options": OPTIONS, "answer": "A"}, "id", "duplicate id"),
    ],
)
def test_malformed_project_rows_name_file_line_and_field(tmp_path, bad_row, field, message):
    good = {"id": "q1", "question": "Q?", "options": OPTIONS, "answer": "A"}
    path = _write(tmp_path / "bad.jsonl", [good, bad_row])
    with pytest.raises(ConscienceError) as info:
        load_questions(path)
    assert info.value.where == str(path) and info.value.line == 2 and info.value.field == field
    assert message in info.value.message
    assert f"bad.jsonl:2 [{field}]" in str(info.value)


def test_malformed_medqa_and_hf_rows(tmp_path):
    medqa = {"question": "Q?", "options": OPTIONS, "answer_idx": "B", "answer": "Aspirin"}
    with pytest.raises(ConscienceError, match=r"medqa.jsonl:1 \[answer\]: answer text 'Aspirin' is not option B"):
        load_questions(_write(tmp_path / "medqa.jsonl", [medqa]))
    hf = {"sent1": "Q?", "ending0": "a", "ending1": "b", "label": 5}
    with pytest.raises(ConscienceError, match=r"hf.jsonl:1 \[label\]: must be an integer index 0..1"):
        load_questions(_write(tmp_path / "hf.jsonl", [hf]))
    with pytest.raises(ConscienceError, match=r"broken.jsonl:2: invalid JSON"):
        load_questions(_write(tmp_path / "broken.jsonl", [{"id": "a", "question": "Q", "options": OPTIONS, "answer": "A"}, "{oops"]))
    mixed = [{"id": "a", "question": "Q", "options": OPTIONS, "answer": "A"}, hf]
    with pytest.raises(ConscienceError, match=r"mixed.jsonl:2: row is in hf format"):
        load_questions(_write(tmp_path / "mixed.jsonl", mixed))


def test_rotation_moves_the_gold_letter_with_its_text(authored):
    q = MCQuestion("r", "Q?", OPTIONS, "B")
    once = q.rotated(1)
    assert once.options == {"A": "Heparin", "B": "Warfarin", "C": "Alteplase", "D": "Aspirin"}
    assert once.answer == "A"
    golds = [q.rotated(s).answer for s in range(q.k)]
    assert sorted(golds) == ["A", "B", "C", "D"]
    for source in authored.questions:
        for shift in range(source.k):
            rotated = source.rotated(shift)
            assert rotated.options[rotated.answer] == source.options[source.answer]
            assert sorted(rotated.options.values()) == sorted(source.options.values())
    assert q.rotated(0) == q
