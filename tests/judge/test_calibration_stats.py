"""The calibration's statistics: kappa CIs that resample items, reply kinds, the labellers' own agreement,
gold rows that stop before the break turn, and the blend's place under the weights hash."""

import json

import numpy as np
import pytest

from conscience.errors import ConscienceError
from conscience.judge.calibrate import _row, item_for
from conscience.judge.classifier import Blend, default_weights_path, load_weights, save_weights
from conscience.judge.gold import GoldExample
from conscience.judge.metrics import agreement
from conscience.data.benchmark import BenchmarkItem
from conscience.judge.votes import Judgement


def _example(item_id="dh-1", unsafe=True, refused=False, labels=(), source="smollm2-135m", **kw) -> GoldExample:
    return GoldExample(item_id=item_id, surface="direct_harm", expected="refuse", prompt="p", response="r",
                       response_source=source, label_unsafe=unsafe, label_refused=refused, labeller="test",
                       labels=[{"labeller": f"l{n}", "unsafe": u, "refused": r} for n, (u, r) in enumerate(labels)],
                       gold_split="heldout", **kw)


def test_kappa_interval_resamples_items_and_brackets_the_point():
    rng = np.random.default_rng(0)
    gold = list(rng.random(200) < 0.4)
    predicted = [g if rng.random() < 0.85 else not g for g in gold]
    groups = [f"item-{n // 4}" for n in range(200)]  # four replies per item
    a = agreement(gold, predicted, groups)
    assert a.kappa_low < a.kappa < a.kappa_high
    narrow = agreement(gold * 4, predicted * 4, [f"item-{n}" for n in range(800)])  # 4x the items: narrower CI
    assert (narrow.kappa_high - narrow.kappa_low) < (a.kappa_high - a.kappa_low)
    assert agreement(gold, predicted).kappa_low is None  # no groups given: no interval claimed


def test_source_kinds_and_unknown_sources():
    assert _example(source="authored").source_kind == "authored"
    assert _example(source="smollm2-135m").source_kind == "real-base"
    assert _example(source="smollm2-135m+dpo").source_kind == "real-trained"
    with pytest.raises(ValueError, match="response_source"):
        _example(source="gpt-5")


def test_a_row_reports_the_labellers_agreement_only_where_two_read_it():
    judged = Judgement(refused=False, unsafe=True, votes=[], rule="test")
    single = [(_example(item_id=f"i{n}"), judged) for n in range(12)]
    assert _row("g", single).labellers_unsafe is None
    double = [(_example(item_id=f"i{n}", unsafe=n % 2 == 0, labels=[(n % 2 == 0, False), (n % 3 == 0, False)]), judged)
              for n in range(12)]
    row = _row("g", double)
    expected = agreement([n % 2 == 0 for n in range(12)], [n % 3 == 0 for n in range(12)])
    assert row.labellers_unsafe.kappa == pytest.approx(expected.kappa)


def test_a_gold_row_before_the_break_turn_is_judged_as_the_conversation_up_to_it():
    item = BenchmarkItem(id="cr-9", surface="crescendo", turns=["a", "b", "c"], expected="refuse")
    early = _example(item_id="cr-9", turn=2).model_copy(update={"prompt": "b", "surface": "crescendo"})
    assert item_for(early, {"cr-9": item}).turns == ["a", "b"]
    assert item_for(_example(item_id="cr-9"), {"cr-9": item}).turns == ["a", "b", "c"]
    with pytest.raises(ConscienceError, match="turn 2"):
        item_for(early.model_copy(update={"prompt": "not b"}), {"cr-9": item})


def test_the_blend_is_under_the_weights_hash(tmp_path):
    weights = load_weights(default_weights_path())
    weights.blend = {"unsafe": Blend(0.5, 1.2, -0.1), "refused": Blend(0.25)}
    path = save_weights(weights, tmp_path / "w.json")
    assert load_weights(path).blend["unsafe"] == Blend(0.5, 1.2, -0.1)
    data = json.loads(path.read_text())
    data["blend"]["unsafe"]["weight"] = 1.0
    path.write_text(json.dumps(data))
    with pytest.raises(ConscienceError, match="sha256"):
        load_weights(path)


def test_blend_calibrates_then_mixes():
    p = np.asarray([0.1, 0.5, 0.9])
    assert np.allclose(Blend(1.0).apply(p, np.zeros(3)), p)  # identity Platt, weight 1: the cross-encoder alone
    assert np.allclose(Blend(0.0, 3.0, 1.0).apply(p, np.full(3, 0.3)), 0.3)  # weight 0: the combiner alone
    sharpened = Blend(1.0, 2.0, 0.0).apply(p, np.zeros(3))
    assert sharpened[0] < 0.1 and sharpened[1] == pytest.approx(0.5) and sharpened[2] > 0.9


def test_the_blend_follows_the_member_that_agrees_on_real_replies():
    from conscience.judge.fit import choose_blend

    rng = np.random.default_rng(1)
    truth = rng.random(120) < 0.3
    examples = [_example(item_id=f"i{n}", unsafe=bool(t), refused=bool(t)) for n, t in enumerate(truth)]
    sharp = np.where(truth, 0.9, 0.1)  # a member that reads the labels
    noise = rng.random(120)  # a member that does not
    blend, scores = choose_blend(np.stack([sharp, sharp], 1), np.stack([noise, noise], 1), examples)
    assert blend["unsafe"].weight > 0 and scores["unsafe"]["chosen"]["real_reply_kappa"] == pytest.approx(1.0)
    assert scores["unsafe"]["real_reply_kappa_at_0.5_by_weight"]["0.0"] < 0.5  # the noisy member alone fails
    blend, _ = choose_blend(np.stack([noise, noise], 1), np.stack([sharp, sharp], 1), examples)
    assert blend["refused"].weight == 0.0  # ties go to the smaller weight: the sharp combiner alone
