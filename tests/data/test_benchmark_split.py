"""The frozen split is reproducible: `make_split` on the shipped items gives exactly `split.json`."""

from conscience.data.benchmark import load_split, make_split, shipped_items


def test_make_split_reproduces_the_frozen_split():
    split = make_split(shipped_items())
    assert set(split["test_ids"]) == load_split() and split["seed"] == 0 and split["test_fraction"] == 0.5
