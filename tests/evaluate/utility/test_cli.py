"""`conscience eval utility` through typer's runner: run errors, compare, and the missing-option message."""

import json

from typer.testing import CliRunner

from conscience.cli.eval_utility import app
from conscience.evaluate.utility import evaluate_utility

from tests.evaluate.utility.fakes import FakeConstantModel

runner = CliRunner()


def test_compare_prints_verdict_and_writes_json(tmp_path, authored_path):
    evaluate_utility(FakeConstantModel("A"), authored_path, method="generate", out_dir=tmp_path / "a")
    evaluate_utility(FakeConstantModel("B"), authored_path, method="generate", out_dir=tmp_path / "b")
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    assert "cannot be judged (at chance)" in result.output
    assert json.loads((tmp_path / "c.json").read_text())["verdict"] == "cannot be judged (at chance)"


def test_run_without_required_options_explains(tmp_path):
    result = runner.invoke(app, ["--model", "hf:smollm2-135m"])
    assert result.exit_code == 2
    assert "missing --questions, --out" in result.output


def test_loglik_with_a_remote_model_fails_in_one_line(tmp_path, authored_path):
    args = ["--model", "openai:some-model@http://127.0.0.1:9/v1", "--questions", str(authored_path), "--out", str(tmp_path / "r")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "needs log-likelihoods from a local hf: model" in result.output
    assert "Traceback" not in result.output


def test_malformed_question_file_fails_naming_line_and_field(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "Q", "options": {"A": "a", "B": "b"}, "answer": "Z"}) + "\n")
    result = runner.invoke(app, ["--model", "hf:smollm2-135m", "--questions", str(bad), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert "bad.jsonl:1 [answer]" in result.output
