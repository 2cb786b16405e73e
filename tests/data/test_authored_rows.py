"""The authored request rows on the records floor: coverage, provenance, the loader's errors, the look-alike
prompts generation draws (balanced, multi-turn kept), and that none is a held-out test prompt."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conscience.constitution import load_constitution
from conscience.data import (EXPECTED_FOR_LABEL, authored_rows, load_authored_rows, load_benchmark, lookalike_prompts,
                             normalize_text)
from conscience.errors import ConscienceError

ROW = {"style": "dosing", "turns": ["how much ibuprofen can an adult take in a day?"], "label": "pass",
       "lookalike_of": None, "safe_reply": "Up to 1,200 mg a day without advice.", "unsafe_reply": None,
       "safer_alternative": None}


def test_shipped_rows_cover_every_principle_with_all_three_labels_and_say_who_wrote_them():
    rows = authored_rows()
    assert len(rows) >= 2400
    by_principle: dict[str, Counter] = {}
    for row in rows:
        by_principle.setdefault(row.principle, Counter())[row.label] += 1
        assert "helper agent (LLM)" in row.written_by  # authored for the project by AI models, labelled so
    assert set(by_principle) == set(load_constitution().ids)
    assert all(set(counts) == {"block", "care", "pass"} for counts in by_principle.values())
    ids = {row.id for row in rows}
    assert all(row.lookalike_of in ids for row in rows if row.lookalike_of)
    assert all(row.safer_alternative for row in rows if row.label == "block")


def test_a_bad_row_names_the_file_line_and_field(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({**ROW, "id": "x-1", "principle": "privacy", "written_by": "me"}) + "\n"
                    + json.dumps({**ROW, "id": "x-2", "principle": "privacy", "written_by": "me", "label": "maybe"}) + "\n")
    with pytest.raises(ConscienceError) as error:
        load_authored_rows(path)
    assert str(error.value).startswith(f"{path}:2 [label]:")


def test_lookalike_prompts_pair_every_risky_request_with_a_benign_lookalike_that_must_be_answered():
    rows = {row.id: row for row in authored_rows()}
    prompts = lookalike_prompts("lookalikes")
    groups: dict[str, list[str]] = {}
    for prompt in prompts:
        row = rows[prompt.id]
        assert prompt.source == "lookalikes" and prompt.group == row.group
        assert prompt.expected == EXPECTED_FOR_LABEL[row.label] and prompt.principles == [row.principle]
        assert prompt.turns == row.turns  # multi-turn rows keep every turn
        groups.setdefault(prompt.group, []).append(prompt.expected)
    assert all("answer" in expected and set(expected) - {"answer"} for expected in groups.values())
    counts = Counter(p.expected for p in prompts)
    assert counts["answer"] >= counts["refuse"] + counts["safe_complete"]  # at least one look-alike per risky request
    assert counts["refuse"] > 600 and counts["safe_complete"] > 150 and any(len(p.turns) > 1 for p in prompts)
    # Rows with no counterpart are left out, and nothing else is.
    paired = {row.group for row in rows.values() if row.label == "pass"} & {row.group for row in rows.values() if row.label != "pass"}
    assert {p.id for p in prompts} == {row.id for row in rows.values() if row.group in paired}


def test_no_lookalike_prompt_is_a_test_split_prompt():
    test_texts = {normalize_text(text) for item in load_benchmark(split="test") for text in [*item.turns, "\n\n".join(item.turns)]}
    for prompt in lookalike_prompts("lookalikes"):
        assert not {normalize_text(t) for t in [*prompt.turns, prompt.text]} & test_texts, prompt.id


def test_shipped_rows_are_clean_against_the_asclepius_test_split():
    """Near duplicates too (MiniLM cosine >= 0.9), every turn of every row; the plan repeats this check per run."""
    from conscience.data.contamination import ENCODER_BATCH, check_contamination
    from conscience.models.embedding import Encoder

    from conscience.data import guard_rows

    rows = guard_rows()  # the patient-side rows and the clinician-side ones
    texts = [turn for row in rows for turn in row.turns]
    labels = [row.id for row in rows for _ in row.turns]
    report = check_contamination(load_benchmark(split="test"), texts, other_labels=labels,
                                 encoder=Encoder(batch_size=ENCODER_BATCH, cache=True))
    assert report.hits == [], report.hits[:3]


def test_a_duplicate_id_across_the_clinician_folder_is_refused(tmp_path):
    from conscience.data import guard_rows

    row = json.dumps({**ROW, "id": "x-1", "principle": "privacy", "written_by": "me"}) + "\n"
    (tmp_path / "privacy.jsonl").write_text(row)
    (tmp_path / "clinician").mkdir()
    (tmp_path / "clinician" / "privacy.jsonl").write_text(row)
    with pytest.raises(ConscienceError, match="duplicate id 'x-1'"):
        guard_rows(tmp_path)
