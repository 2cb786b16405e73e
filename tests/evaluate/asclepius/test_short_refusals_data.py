"""The short refusals of the revision-form experiment (benchmarks/revision_form.py) are train-split data only."""

from __future__ import annotations

from pathlib import Path

from conscience.data.benchmark import load_benchmark
from conscience.jsonl import read_jsonl

SHORT_REFUSALS = Path(__file__).parents[3] / "benchmarks" / "data" / "short_refusals.jsonl"


def test_every_short_refusal_belongs_to_a_refuse_type_train_item_and_none_to_the_test_split():
    rows = [row for _, row in read_jsonl(SHORT_REFUSALS)]
    refuse_train = {item.id for item in load_benchmark(split="train") if item.expected == "refuse"}
    test_ids = {item.id for item in load_benchmark(split="test")}
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) and set(ids) == refuse_train
    assert not set(ids) & test_ids
    for row in rows:
        assert row["reference_response"].startswith("I can't help with that.")
        assert len(row["reference_response"].split()) <= 45
        assert row["written_by"].startswith("project engineering helper agent")  # who wrote it travels with it
