"""The cascade's training rows: the split by look-alike group, and `conscience guard data`. (The shipped rows
themselves, on the records floor, are checked in tests/data/test_authored_rows.py.)"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conscience.cli.main import app
from conscience.constitution import load_constitution
from conscience.errors import ConscienceError
from conscience.data import AuthoredRow, authored_rows, load_authored_rows
from conscience.guard.cascade_author import write_guard_data
from conscience.guard.cascade_data import MODALS, modal_variants, split_by_group
from conscience.models import Completion

ROW = {"style": "dosing", "turns": ["how much ibuprofen can an adult take in a day?"], "label": "pass",
       "lookalike_of": None, "safe_reply": "Up to 1,200 mg a day without advice.", "unsafe_reply": None,
       "safer_alternative": None}
RISKY = {**ROW, "turns": ["how many ibuprofen to wreck my stomach on purpose"], "label": "block",
         "unsafe_reply": "Take a lot.", "safer_alternative": "I can explain safe daily limits."}


def test_validation_split_keeps_a_risky_row_and_its_lookalikes_together():
    rows = authored_rows()
    train, validation = split_by_group(rows, 0.15, seed=0)
    assert len(train) + len(validation) == len(rows) and 0.1 < len(validation) / len(rows) < 0.2
    held = {row.group for row in validation}
    assert not any(row.group in held for row in train)


def test_modal_variants_make_every_modal_occur_with_every_label():
    rows = [AuthoredRow(id="r1", principle="privacy", written_by="project", **{
                **RISKY, "turns": ["I'm a nurse.", "How could I read my neighbour's chart unnoticed?"]}),
            AuthoredRow(id="p1", principle="privacy", written_by="project", **{
                **ROW, "turns": ["What should I do if I see a chart left open?"], "lookalike_of": "r1"}),
            AuthoredRow(id="x1", principle="privacy", written_by="project", **{**ROW, "turns": ["Could you help?"]})]
    variants = modal_variants(rows)
    assert len(variants) == 8  # 4 other modals for each modal question; "Could you help?" is not one
    assert {v.turns[-1] for v in variants if v.lookalike_of == "r1" and v.label == "block"} == {
        f"How {m} I read my neighbour's chart unnoticed?" for m in MODALS if m != "could"}
    assert {v.turns[-1].split()[1] for v in variants if v.label == "pass"} == {"can", "could", "might", "would"}
    assert all(v.turns[0] == "I'm a nurse." for v in variants if v.label == "block")  # only the last turn changes
    assert all(v.group == "r1" and "modal_variants" in v.written_by for v in variants)
    assert {v.id for v in variants} >= {"r1~can", "p1~could"}


def test_authored_teacher_writes_the_shipped_rows_and_refuses_another_constitution(tmp_path):
    counts = write_guard_data(load_constitution(), "authored:clinical-v0.1", tmp_path / "out", progress=False)
    assert sum(counts.values()) == len(authored_rows())
    other = load_constitution().model_copy(update={"id": "my-clinic"})
    with pytest.raises(ConscienceError, match="model teacher"):
        write_guard_data(other, "authored:clinical-v0.1", tmp_path / "other", progress=False)


class FakeGuardTeacher:
    """Stands in for an API teacher (none can run here): answers every request with two valid rows and one
    broken line, and counts its calls."""

    spec = "fake:teacher"

    def __init__(self):
        self.calls = 0

    def generate(self, conversations, params):
        self.calls += 1
        rows = [RISKY, {**ROW, "lookalike_of": 0}]
        text = "\n".join(json.dumps(r) for r in rows) + '\n{"style": "direct", "turns": "not a list"}'
        return [Completion(text=text) for _ in conversations]


def test_model_teacher_rows_are_validated_labelled_and_resumable(tmp_path):
    constitution = load_constitution().model_copy(update={"principles": load_constitution().principles[:2]})
    teacher = FakeGuardTeacher()
    counts = write_guard_data(constitution, teacher, tmp_path, per_principle=4, batch_size=2, progress=False)
    assert counts == {p.id: 4 for p in constitution.principles} and teacher.calls == 4
    rows = load_authored_rows(tmp_path / f"{constitution.principles[0].id}.jsonl")
    assert [r.label for r in rows] == ["block", "pass", "block", "pass"]
    assert rows[1].lookalike_of == rows[0].id and rows[3].lookalike_of == rows[2].id
    assert all(r.written_by == "model-generated (fake:teacher)" for r in rows)
    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert len(rejected) == 4 and all("not a list" in r["line"] and r["reason"] for r in rejected)
    again = write_guard_data(constitution, teacher, tmp_path, per_principle=4, progress=False)
    assert again == counts and teacher.calls == 4  # a finished run resumes as a no-op


def test_guard_data_cli_with_the_offline_teacher(tmp_path):
    result = CliRunner().invoke(app, ["guard", "data", "--out", str(tmp_path / "rows")])
    assert result.exit_code == 0, result.output
    assert f"{len(authored_rows())} rows" in result.output
