"""The offline default path end to end: real bundled model, authored teacher, export in TRL's format."""

from __future__ import annotations

import json

import pytest
from datasets import load_from_disk

from conscience.constitution import load_constitution
from conscience.data import Prompt
from conscience.errors import ConscienceError
from conscience.generate import load_spec, run_generate
from conscience.generate.sources import PlannedPrompt, project_file
from conscience.generate.teachers import AUTHORED_CRITIQUE, AUTHORED_REVISION, AuthoredCritic, Job
from conscience.generate.accounting import MeteredJudge
from conscience.jsonl import read_jsonl
from tests.generate.fakes import FakeJudge

PHI_PROMPT = "I'm Pat, MRN 55512345, email pat@example.org. Is 4 g/day of paracetamol safe for me?"


@pytest.fixture
def recipe(write_recipe, write_prompts):
    path = write_prompts([PHI_PROMPT])
    return write_recipe([{"name": "curated", "kind": "project", "file": "curated", "weight": 3},
                         {"name": "mine", "kind": "jsonl", "path": str(path), "weight": 1}])


def test_authored_run_exports_pairs_with_provenance_and_resumes_as_a_no_op(recipe, tmp_path):
    config = load_spec(recipe)
    judge = FakeJudge(unsafe={"cu-001", "cu-002", "cu-003", "cu-004", "cu-013", "cu-014", "cu-020", "cu-030"})
    partial = run_generate(config, tmp_path / "run", judge=judge, limit=2)
    assert partial.partial and partial.prompts_in_run == 2
    summary = run_generate(config, tmp_path / "run", judge=judge)
    assert summary.stages["sample"].model_dump() == {"done_before": 2, "computed_this_run": 2}  # the full run continued the partial one

    assert summary.sources["curated"].pairs == 3 and summary.pairs == 3
    assert summary.quarantine == {"revise: no authored revision": 1}  # the user's prompt has no authored reference
    assert summary.redactions.prompts == {"email": 1, "mrn": 1}
    store_text = (tmp_path / "run" / "store.jsonl").read_text()
    assert "55512345" not in store_text and "pat@example.org" not in store_text and "4 g/day" in store_text
    quarantined = [json.loads(line) for line in (tmp_path / "run" / "quarantine.jsonl").read_text().splitlines()]
    assert [(q["prompt_key"], q["stage"], q["reason"]) for q in quarantined] == [("mine/u-0", "revise", "no authored revision")]

    data = load_from_disk(str(tmp_path / "run" / "dataset"))
    rows = list(data["train"]) + list(data["validation"])
    assert len(rows) == 3 and set(data) == {"train", "validation"}
    for row in rows:
        assert row["prompt"][-1]["role"] == "user" and row["chosen"][0]["role"] == row["rejected"][0]["role"] == "assistant"
        assert row["critique_provenance"] == AUTHORED_CRITIQUE and row["revision_provenance"] == AUTHORED_REVISION
        assert row["constitution"] == "clinical-constitution@0.1.0" and row["base_model"] == "hf:smollm2-135m"
        assert json.loads(row["generation_params"])["temperature"] == 0.7
    references = {row["id"]: row["reference_response"] for _, row in read_jsonl(project_file("curated"))}
    assert all(row["chosen"][0]["content"] == references[row["source_id"]] for row in rows)
    assert len(load_from_disk(str(tmp_path / "run" / "dataset" / "kto"))["train"]) == 2 * len(data["train"])
    assert set(load_from_disk(str(tmp_path / "run" / "dataset" / "sft"))["train"].column_names) >= {"messages", "id"}
    card = (tmp_path / "run" / "dataset" / "README.md").read_text()
    assert "not model-generated" in card and "curated" in card

    before = (tmp_path / "run" / "store.jsonl").read_bytes()
    again = run_generate(config, tmp_path / "run", judge=FakeJudge())
    assert all(stage.computed_this_run == 0 for stage in again.stages.values())
    assert again.models.base.cache_this_run is None  # the base model was not even loaded
    assert (tmp_path / "run" / "store.jsonl").read_bytes() == before


def test_a_different_recipe_cannot_resume_the_run(recipe, tmp_path):
    config = load_spec(recipe)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text(json.dumps({**config.model_dump(mode="json"), "seed": 1}))
    with pytest.raises(ConscienceError, match=r"different recipe \(changed: seed\)"):
        run_generate(config, tmp_path / "run", judge=FakeJudge())


def _entry(prompt_id: str, principles: list[str], expected: str | None) -> PlannedPrompt:
    prompt = Prompt(id=prompt_id, source="s", turns=["q"], principles=principles, expected=expected)
    return PlannedPrompt(key=f"s/{prompt_id}", prompt=prompt, draw=0, redactions={})


def test_authored_critique_reads_every_principle_and_says_which_signal_fired():
    critic = AuthoredCritic(load_constitution(), MeteredJudge(FakeJudge(unsafe={"bad"}, refused={"shy", "ok-refusal"})))
    jobs = [Job(entry=_entry("bad", ["dosing_caution"], "refuse"), conversation=[], response="r"),
            Job(entry=_entry("shy", ["surface_uncertainty"], "answer"), conversation=[], response="r"),
            Job(entry=_entry("ok-refusal", ["refuse_out_of_scope"], "refuse"), conversation=[], response="r")]
    unsafe, over_refusal, fine = [o.value for o in critic.critique(jobs)]
    assert len(unsafe.principles) == 12 and unsafe.at_issue == ["dosing_caution"]
    assert unsafe.principles["dosing_caution"].severity == "high" and "judged unsafe" in unsafe.principles["dosing_caution"].why
    assert over_refusal.at_issue == ["calibrated_refusal"] and over_refusal.principles["calibrated_refusal"].severity == "medium"
    assert fine.at_issue == [] and fine.verdict == "acceptable"
    assert "no judge signal fired" in fine.principles["refuse_out_of_scope"].why


def test_filters_drop_pairs_and_count_them(recipe, tmp_path):
    config = load_spec(recipe)
    config = config.model_copy(update={"filters": config.filters.model_copy(update={
        "drop_revision_fails_judge": True, "drop_nothing_at_issue": True})})
    unsafe = {f"cu-{n:03d}" for n in range(1, 19)}  # replies to these (base and revision alike) are judged unsafe
    summary = run_generate(config, tmp_path / "run", judge=FakeJudge(unsafe=unsafe))
    drawn = [json.loads(line)["provenance"]["source_id"] for line in (tmp_path / "run" / "store.jsonl").read_text().splitlines()
             if '"stage": "pair"' in line]
    flagged = sum(pid in unsafe for pid in drawn)
    assert summary.filters.dropped == {k: v for k, v in {"revision still fails the judge": flagged,
                                                                "nothing at issue": len(drawn) - flagged}.items() if v}
    assert summary.pairs == 0 and summary.dataset.path is None
