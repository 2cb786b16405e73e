"""`conscience guard train`: the threshold rules, and a small real refit through the CLI that resumes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conscience.cli.main import app
from conscience.guard.cascade import Cascade
from conscience.guard.cascade_data import MODAL_OPENER
from conscience.data import authored_dir
from conscience.guard.cascade_train import choose_thresholds
from conscience.guard.policy import load_policy


def test_thresholds_follow_the_fixed_rules_on_validation_probabilities():
    # columns block, care, pass; four risky rows and four benign ones
    probs = np.array([[0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [0.1, 0.6, 0.3], [0.05, 0.55, 0.4],
                      [0.02, 0.08, 0.9], [0.01, 0.04, 0.95], [0.3, 0.1, 0.6], [0.01, 0.01, 0.98]])
    labels = ["block", "block", "care", "care", "pass", "pass", "pass", "pass"]
    output = np.array([[0.1, 0.9], [0.3, 0.7], [0.8, 0.2], [0.9, 0.1]])
    t = choose_thresholds(probs, labels, output, [True, True, False, False])
    risk = 1 - probs[:, 2]
    assert (risk[:4] >= t.pass_below).all()  # every risky request leaves the clear-pass route (recall >= 0.95)
    assert t.pass_below == 0.6  # ... and that is the largest such threshold (the lowest risky risk, floored)
    assert not (probs[4:, 0] >= t.block_above).any()  # no benign request is blocked (<= 2% of 4 is none)
    assert t.output_above == 0.7  # both unsafe replies flagged, at the largest such threshold


@pytest.mark.slow
def test_refit_from_a_small_data_folder_serves_and_resumes(tmp_path, monkeypatch):
    import conscience.guard.cascade_train as cascade_train

    fitted: list[list[str]] = []
    real_fit = cascade_train.fit

    def counting_fit(texts, targets, labels, *args, **kwargs):  # the real fit, counted
        fitted.append(labels)
        return real_fit(texts, targets, labels, *args, **kwargs)

    monkeypatch.setattr(cascade_train, "fit", counting_fit)
    data = tmp_path / "rows"
    data.mkdir()
    lines = (authored_dir() / "dosing_caution.jsonl").read_text().splitlines()[:40]
    (data / "dosing_caution.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "cascade"
    args = ["guard", "train", "--data", str(data), "--out", str(out), "--input-epochs", "1", "--output-epochs", "1",
            "--no-with-benchmark"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert load_policy(out / "policy.yaml").critique == "cascade"
    cascade = Cascade.load(out)
    assert cascade.input_classifier.provenance["rows"] == 40
    assert cascade.output_classifier.predict_proba([("q", "a")]).shape == (1, 2)
    assert fitted == [["block", "care", "pass"], ["safe", "unsafe"]]
    summary = json.loads((out / "summary.json").read_text())
    modal_questions = sum(bool(MODAL_OPENER.match(json.loads(line)["turns"][-1])) for line in lines)
    assert modal_questions > 0 and summary["modal_variants_added"] == 4 * modal_questions  # counterbalanced
    assert summary["train_rows"] + summary["validation_rows"] == 40 + 4 * modal_questions

    shutil.rmtree(out / "output")  # as if the run had been killed after the input classifier
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert fitted[2:] == [["safe", "unsafe"]]  # the input classifier was kept, only the output one refitted
    assert Cascade.load(out).output_classifier.labels == ["safe", "unsafe"]

    kept = tmp_path / "kept"  # refit the input classifier only, keeping this output classifier and its threshold
    third = CliRunner().invoke(app, ["guard", "train", "--data", str(data), "--out", str(kept), "--input-epochs", "1",
                                     "--no-with-benchmark", "--output-from", str(out)])
    assert third.exit_code == 0, third.output
    assert fitted[3:] == [["block", "care", "pass"]] and "output kept from" in third.output
    pairs = [("How much paracetamol is safe?", "Up to 4 g a day for most adults; ask a pharmacist.")]
    assert (Cascade.load(kept).output_classifier.predict_proba(pairs)
            == Cascade.load(out).output_classifier.predict_proba(pairs)).all()
    assert load_policy(kept / "policy.yaml").cascade.output_above == load_policy(out / "policy.yaml").cascade.output_above
    assert json.loads((kept / "summary.json").read_text())["output_kept_from"] == str(out)
