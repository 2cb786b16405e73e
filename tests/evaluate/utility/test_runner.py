"""The run end to end with fake models: chance-aware summary, circular figures, resume, subsets, compare."""

import json

import pytest

from conscience.errors import ConscienceError
from conscience.evaluate.utility import compare_runs, evaluate_utility, runner
from conscience.evaluate.utility.report import chance_report
from conscience.evaluate.utility.systems import SYSTEM_KEYWORDS, body_system, stratified_subset

from tests.evaluate.utility.fakes import FakeConstantModel, FakeFailingModel, FakeKnowingModel


def _knowing(authored, wrong=()):
    answers = {q.question: q.options[q.answer] for q in authored.questions}
    return FakeKnowingModel(answers, frozenset(q.question for q in authored.questions if q.id in wrong))


def test_constant_letter_predictor_is_at_chance_with_its_baseline(tmp_path, authored_path):
    summary = evaluate_utility(FakeConstantModel("A"), authored_path, method="generate", out_dir=tmp_path)
    assert summary.accuracy == pytest.approx(8 / 30)
    assert summary.prediction_distribution == {"A": 30, "B": 0, "C": 0, "D": 0}
    assert summary.chance.constant_answer_letter == "A"
    assert summary.chance.constant_answer_baseline == pytest.approx(8 / 30)
    assert summary.chance.status == "at chance" and "AT CHANCE" in summary.chance.explanation
    assert summary.unparseable_fraction == 0.0 and summary.acc_norm is None
    for name in ("summary.json", "summary.md", "predictions.jsonl", "ids.txt", "run.json"):
        assert (tmp_path / name).exists()
    assert "at chance" in (tmp_path / "summary.md").read_text()
    row = json.loads((tmp_path / "predictions.jsonl").read_text().splitlines()[0])
    assert {"id", "gold", "predicted", "logliks", "response", "system", "step"} <= set(row)


def test_letter_bias_that_beats_one_over_k_is_still_at_chance():
    # 100 questions, 40 with gold A: always answering A scores 0.40, far above 1/4 (p < 0.001) but no
    # better than the constant-answer baseline, so it must not be called informative.
    rows = [{"correct": i < 40, "gold": "A" if i < 40 else "BCD"[i % 3], "k": 4} for i in range(100)]
    report = chance_report(rows)
    assert report.p_value_vs_chance < 0.001
    assert report.constant_answer_baseline == pytest.approx(0.40)
    assert report.status == "at chance"


def test_knowing_model_is_informative_and_circular_strict(tmp_path, authored, authored_path):
    summary = evaluate_utility(_knowing(authored), authored_path, method="generate", circular=True, out_dir=tmp_path)
    assert summary.accuracy == 1.0 and summary.chance.status == "informative"
    c = summary.circular_report
    assert (c.rotations, c.mean_accuracy, c.strict_accuracy, c.status) == (4, 1.0, 1.0, "informative")
    row = json.loads((tmp_path / "predictions.jsonl").read_text().splitlines()[0])
    assert [r["shift"] for r in row["rotations"]] == [1, 2, 3]
    assert all(r["correct"] for r in row["rotations"])


def test_constant_predictor_under_rotation_scores_exactly_one_over_k(tmp_path, authored_path):
    summary = evaluate_utility(FakeConstantModel("C"), authored_path, method="generate", circular=True, out_dir=tmp_path)
    c = summary.circular_report
    assert c.mean_accuracy == pytest.approx(0.25) and c.strict_accuracy == 0.0 and c.status == "at chance"


def test_resume_skips_done_questions_and_keeps_partial_rows(tmp_path, authored_path, monkeypatch):
    monkeypatch.setattr(runner, "QUESTIONS_PER_CHUNK", 10)
    with pytest.raises(RuntimeError, match="simulated crash"):
        evaluate_utility(FakeFailingModel(ok_calls=1), authored_path, method="generate", out_dir=tmp_path)
    assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == 10
    second = FakeConstantModel()
    summary = evaluate_utility(second, authored_path, method="generate", out_dir=tmp_path)
    assert second.questions_seen == 20 and summary.n == 30
    assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == 30


def test_resume_refuses_a_directory_from_different_settings(tmp_path, authored_path):
    evaluate_utility(FakeConstantModel(), authored_path, method="generate", out_dir=tmp_path)
    with pytest.raises(ConscienceError, match="different circular"):
        evaluate_utility(FakeConstantModel(), authored_path, method="generate", circular=True, out_dir=tmp_path)


def test_a_system_prompt_reaches_every_question_is_recorded_and_keys_the_run_directory(tmp_path, authored_path):
    model = FakeConstantModel()
    summary = evaluate_utility(model, authored_path, method="generate", out_dir=tmp_path, system_prompt="Follow the constitution.")
    assert len(model.seen) == summary.n and all(c[0]["content"].startswith("Follow the constitution.\n\n") for c in model.seen)
    assert summary.system_prompt == json.loads((tmp_path / "run.json").read_text())["system_prompt"] == "Follow the constitution."
    with pytest.raises(ConscienceError, match="different system_prompt"):
        evaluate_utility(FakeConstantModel(), authored_path, method="generate", out_dir=tmp_path)


def test_loglik_on_a_text_only_backend_is_a_clear_error(tmp_path, authored_path):
    with pytest.raises(ConscienceError, match="needs log-likelihoods from a local hf: model.*--method generate"):
        evaluate_utility(FakeConstantModel(), authored_path, method="loglik", out_dir=tmp_path)
    assert not (tmp_path / "run.json").exists()


def test_stratified_subset_is_fixed_and_reusable_via_ids(tmp_path, authored, authored_path):
    ids = stratified_subset(authored.questions, 12, seed=3)
    assert ids == stratified_subset(authored.questions, 12, seed=3) and len(ids) == 12
    steps = {q.meta_info for q in authored.questions if q.id in ids}
    assert steps == {"step1", "step2&3"}
    first = evaluate_utility(FakeConstantModel(), authored_path, method="generate", subset=12, seed=3, out_dir=tmp_path / "a")
    assert first.ids == ids and (tmp_path / "a" / "ids.txt").read_text().split() == ids
    again = evaluate_utility(FakeConstantModel("B"), authored_path, method="generate", ids_file=tmp_path / "a" / "ids.txt", out_dir=tmp_path / "b")
    assert again.ids == ids
    (tmp_path / "bad_ids.txt").write_text("us30-01\nnope\n")
    with pytest.raises(ConscienceError, match=r"bad_ids.txt:2 \[id\]: id 'nope' is not in the question file"):
        evaluate_utility(FakeConstantModel(), authored_path, method="generate", ids_file=tmp_path / "bad_ids.txt", out_dir=tmp_path / "c")


def test_body_system_tags_are_documented_systems(authored):
    tags = {body_system(q) for q in authored.questions}
    assert tags <= set(SYSTEM_KEYWORDS) | {"other"} and len(tags) >= 6
    by_id = {q.id: body_system(q) for q in authored.questions}
    assert by_id["us30-01"] == "cardiovascular" and by_id["us30-08"] == "respiratory"


def test_compare_cannot_judge_when_a_run_is_at_chance(tmp_path, authored, authored_path):
    evaluate_utility(FakeConstantModel("A"), authored_path, method="generate", out_dir=tmp_path / "base")
    evaluate_utility(_knowing(authored), authored_path, method="generate", out_dir=tmp_path / "trained")
    result = compare_runs(tmp_path / "base", tmp_path / "trained")
    assert result.verdict == "cannot be judged (at chance)" and result.a_status == "at chance"
    assert result.difference == pytest.approx(1 - 8 / 30) and result.only_b_correct == 22


def test_compare_pass_and_fail(tmp_path, authored, authored_path):
    evaluate_utility(_knowing(authored), authored_path, method="generate", out_dir=tmp_path / "a")
    evaluate_utility(_knowing(authored), authored_path, method="generate", out_dir=tmp_path / "same")
    wrong = {q.id for q in authored.questions[::2]}
    worse = evaluate_utility(_knowing(authored, wrong), authored_path, method="generate", out_dir=tmp_path / "worse")
    assert worse.accuracy == 0.5 and worse.chance.status == "informative"
    assert compare_runs(tmp_path / "a", tmp_path / "same").verdict == "pass"
    failed = compare_runs(tmp_path / "a", tmp_path / "worse")
    assert failed.verdict == "fail" and failed.difference == pytest.approx(-0.5) and failed.mcnemar_p < 0.001
