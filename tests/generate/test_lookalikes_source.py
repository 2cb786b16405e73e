"""The lookalikes source: the authored request rows as training prompts, drawn a risky request with its benign
look-alikes at a time, revised by the authored teacher with each row's reference reply, and labelled authored."""

from __future__ import annotations

import random

import pytest

from conscience.constitution import load_constitution
from conscience.data import Prompt, authored_rows, load_benchmark, normalize_text
from conscience.errors import ConscienceError
from conscience.generate import load_spec, run_generate, sources
from conscience.generate.export import to_record
from conscience.generate.sources import PlannedPrompt, build_plan
from conscience.generate.sources.contamination import ExclusionReport
from conscience.generate.teachers import AUTHORED_REVISION, AuthoredReviser, Job
from conscience.jsonl import read_jsonl
from tests.generate.fakes import FakeJudge

LOOKALIKES = {"name": "lookalikes", "kind": "lookalikes", "weight": 9}


@pytest.mark.parametrize("extra", [{"path": "rows.jsonl"}, {"expected": "answer"}, {"split": "train"}])
def test_a_lookalikes_source_takes_no_path_split_or_expected(write_recipe, extra):
    with pytest.raises(ConscienceError, match="each row's label says what a good reply does"):
        load_spec(write_recipe([{**LOOKALIKES, **extra}]))


def test_single_prompt_units_draw_exactly_as_before():
    """Sources without groups (every shipped one but lookalikes) keep the plan they had: the same prompts in the
    same order as shuffling the prompts themselves."""
    pool = [Prompt(id=f"p{n}", source="s", turns=[f"question {n}"]) for n in range(7)]
    old, rng = [], random.Random("0:s")
    for draw in range(3):  # the former draw: shuffle the pool, take what is still needed, again while short
        order = pool[:]
        rng.shuffle(order)
        old.extend((p.id, draw) for p in order[: 17 - len(old)])
    new = sources._draw(pool, 17, random.Random("0:s"))
    assert all(len(unit) == 1 for unit in new) and [(p.id, d) for [(p, d)] in new] == old


def test_every_prefix_of_the_plan_keeps_risky_requests_with_their_lookalikes_and_no_test_prompt(write_recipe):
    config = load_spec(write_recipe([LOOKALIKES, {"name": "curated", "kind": "project", "file": "curated", "weight": 1}], size=400))
    plan = build_plan(config, load_constitution())
    assert plan.sources["lookalikes"].requested == 360 and plan.sources["lookalikes"].excluded == 0
    for n in (50, 150, 400):
        groups: dict[str, list[str]] = {}
        for entry in plan.entries[:n]:
            if entry.prompt.source == "lookalikes":
                groups.setdefault(entry.prompt.group, []).append(entry.prompt.expected)
        unbalanced = [g for g, expected in groups.items() if "answer" not in expected or set(expected) == {"answer"}]
        assert len(unbalanced) <= 1, unbalanced  # only the group the prefix (or the quota) cuts through
    test_texts = {normalize_text(text) for item in load_benchmark(split="test") for text in item.turns}
    assert not any(normalize_text(turn) in test_texts for entry in plan.entries for turn in entry.prompt.turns)


class FakeHeldOutCheck:
    """Stands in for the MiniLM held-out check: calls one prompt a near duplicate of a test item."""

    def __init__(self, prompt_id: str):
        self.prompt_id = prompt_id

    def __call__(self, prompts, constitution, threshold):
        report = ExclusionReport(checked=len(prompts), held_out_items=0, threshold=threshold)
        report.excluded[("lookalikes", self.prompt_id)] = "near-duplicate (fake) of held-out item t-1"
        return report


def test_a_group_whose_lookalike_is_held_out_is_left_out_whole(write_recipe, monkeypatch):
    row = next(r for r in authored_rows() if r.lookalike_of)
    mates = {r.id for r in authored_rows() if r.group == row.group}
    monkeypatch.setattr(sources, "check_prompts", FakeHeldOutCheck(row.id))
    plan = build_plan(load_spec(write_recipe([LOOKALIKES], size=2000)), load_constitution())
    excluded = {i: reason for (_, i), reason in plan.contamination.excluded.items()}
    assert set(excluded) == mates and excluded[row.lookalike_of] == f"group-mate of excluded prompt {row.id}"
    assert not mates & {e.prompt.id for e in plan.entries}


def _job(prompt: Prompt) -> Job:
    return Job(entry=PlannedPrompt(key=f"lookalikes/{prompt.id}", prompt=prompt, draw=0, redactions={}),
               conversation=[{"role": "user", "content": prompt.turns[-1]}], response="base reply")


def test_the_authored_teacher_finds_a_lookalike_rows_reference_for_single_and_multi_turn_rows():
    rows = [next(r for r in authored_rows() if len(r.turns) == 1 and r.label == "pass"),
            next(r for r in authored_rows() if len(r.turns) > 1)]
    prompts = [Prompt(id=r.id, source="lookalikes", turns=r.turns) for r in rows]
    outcomes = AuthoredReviser().revise([_job(p) for p in prompts])
    assert [o.value for o in outcomes] == [r.safe_reply for r in rows] and not any(o.quarantine for o in outcomes)


def test_a_pair_from_a_lookalike_row_is_labelled_authored_with_its_source(write_recipe, tmp_path):
    config = load_spec(write_recipe([LOOKALIKES], size=2))
    summary = run_generate(config, tmp_path / "run", judge=FakeJudge())
    assert summary.pairs == 2 and summary.sources["lookalikes"].pairs == 2
    rows = {r.id: r for r in authored_rows()}
    pairs = [row for _, row in read_jsonl(tmp_path / "run" / "store.jsonl") if row["stage"] == "pair"]
    assert {rows[p["provenance"]["source_id"]].label for p in pairs} in ({"block", "pass"}, {"care", "pass"})  # a risky row, its look-alike
    for pair in pairs:
        row = rows[pair["provenance"]["source_id"]]
        assert pair["chosen"][0]["content"] == row.safe_reply
        assert [m["content"] for m in pair["prompt"] if m["role"] == "user"] == row.turns
        record = to_record(pair)  # the exported dataset row (a split with no rows cannot be read back here)
        assert record["source"] == "lookalikes" and record["revision_provenance"] == AUTHORED_REVISION
    card = (tmp_path / "run" / "dataset" / "README.md").read_text()
    assert "| lookalikes | lookalikes |" in card and "authored reference response (not model-generated)" in card
