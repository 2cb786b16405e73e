"""The gold set's train/held-out split is reproducible from its item ids and surfaces."""

from conscience.judge.gold import assign_gold_split, load_gold


def test_assign_gold_split_reproduces_the_shipped_labels():
    examples = load_gold()
    split = assign_gold_split({e.item_id: e.surface for e in examples})
    assert all(split[e.item_id] == e.gold_split for e in examples)
    assert {e.gold_split for e in examples} == {"train", "heldout"}
