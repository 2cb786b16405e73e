"""Re-scoring kept replies: another judge or labels, no generation, the evaluation's own aggregation."""

import json

import pytest

from conscience.errors import ConscienceError
from conscience.evaluate.asclepius.rescore import LabelScorer, label_key, rescore
from tests.evaluate.asclepius.fakes import FakeJudge, kept_run
from tests.evaluate.asclepius.test_runner import ITEMS, SCRIPT


class FakeStrictJudge(FakeJudge):
    """A second fake judge that differs from FakeJudge: also calls every reply to turn 1 unsafe."""

    def score(self, items, responses, assistant_turns=None):
        judgements = super().score(items, responses, assistant_turns)
        for item, judgement in zip(items, judgements):
            if len(item.turns) == 1 and not item.id.endswith("#twin"):
                judgement.unsafe = True
        return judgements

    def describe(self) -> dict:
        return {"judge": "FakeStrictJudge", "version": 1}


@pytest.fixture
def kept(tmp_path):
    return kept_run(tmp_path, ITEMS, SCRIPT)


def rows(folder):
    return [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]


def test_rescore_judges_the_kept_replies_again_without_a_model(kept, tmp_path):
    judge = FakeStrictJudge()
    summary = rescore(kept, tmp_path / "again", judge)
    before, after = rows(kept), rows(tmp_path / "again")
    assert [r["responses"] for r in before] == [r["responses"] for r in after]  # the same text, nothing generated
    assert json.loads((kept / "summary.json").read_text())["unsafe_rate"]["k"] == 1
    assert summary.unsafe_rate.k == 4 and summary.unsafe_rate.n == 4  # every turn-1 reply now unsafe
    assert summary.provenance["judge"] == judge.describe()
    assert summary.provenance["rescored"]["judge_before"] == FakeJudge().describe()
    assert summary.provenance["model"] == "fake:scripted"
    assert (tmp_path / "again" / "summary.md").exists()


def label_every_reply(folder, unsafe_if=lambda response: "UNSAFE" in response):
    labels = {}
    for row in rows(folder):
        for k, response in enumerate(row["responses"], start=1):
            labels[label_key(row["id"], row["responses"][: k - 1], response)] = (unsafe_if(response), "cannot help" in response, "test")
    return labels


def test_labels_give_the_rate_with_the_evaluation_aggregation(kept, tmp_path):
    labels = label_every_reply(kept, unsafe_if=lambda response: response.startswith("1: t1"))  # only cr-x's first turn
    summary = rescore(kept, tmp_path / "labelled", LabelScorer(labels, {"name": "labels", "source": "test"}), twins=False)
    by_id = {r["id"]: r for r in rows(tmp_path / "labelled")}
    assert by_id["cr-x"]["unsafe"] and by_id["cr-x"]["first_unsafe_turn"] == 1  # any turn unsafe -> item unsafe
    assert summary.unsafe_rate.k == 1 and summary.helpfulness_floor.k == 1
    assert summary.sycophancy_delta is None and by_id["sy-x"]["twin"] is None
    assert by_id["cr-x"]["judgements"][0]["votes"][0]["member"] == "label"


def test_a_reply_without_a_label_is_an_error_that_counts_them(kept, tmp_path):
    labels = label_every_reply(kept)
    labels.pop(next(k for k in labels if k[0] == "cr-x" and len(k[1]) == 1))
    with pytest.raises(ConscienceError, match=r"1 of 8 replies have no label \(cr-x turn 2\)"):
        rescore(kept, tmp_path / "labelled", LabelScorer(labels, {"name": "labels", "source": "test"}), twins=False)
    assert not (tmp_path / "labelled").exists()  # nothing half-written


def test_not_an_evaluation_folder_is_named(tmp_path):
    with pytest.raises(ConscienceError, match="run.json"):
        rescore(tmp_path, tmp_path / "out", FakeJudge())


def test_cli_rescores_from_a_gold_shaped_labels_file(kept, tmp_path):
    from typer.testing import CliRunner

    from conscience.cli.main import app

    gold = []
    for row in rows(kept):
        for k, response in enumerate(row["responses"], start=1):
            gold.append({"item_id": row["id"], "surface": row["surface"], "expected": row["expected"], "prompt": row["turns"][k - 1],
                         "response": response, "assistant_turns": row["responses"][: k - 1], "response_source": "smollm2-135m",
                         "label_unsafe": "UNSAFE" in response, "label_refused": False, "labeller": "test rows", "gold_split": "train"})
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(g) + "\n" for g in gold))
    result = CliRunner().invoke(app, ["eval", "rescore", str(kept), "--out", str(tmp_path / "labelled"), "--labels", str(path)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "labelled" / "summary.json").read_text())
    assert summary["unsafe_rate"]["k"] == 1 and summary["helpfulness_floor"]["k"] == 0
    assert summary["provenance"]["judge"]["source"] == str(path) and "none generated" in " ".join(result.output.split())
