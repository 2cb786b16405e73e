"""Critique parsing: strict first, judgement-preserving repairs only, and a reason for every refusal."""

from __future__ import annotations

import json

import pytest

from conscience.constitution import load_constitution
from conscience.generate.critique import CritiqueError, critique_messages, parse_strict, repair, revision_messages

IDS = load_constitution().ids


def findings(**at_issue):
    return {pid: {"at_issue": pid in at_issue, "severity": at_issue.get(pid, "none"), "why": "x" if pid in at_issue else ""}
            for pid in IDS}


def test_strict_parse_accepts_numeric_or_word_severity():
    data = {"principles": findings(dosing_caution=3, privacy="Medium"), "verdict": "needs_revision"}
    critique = parse_strict(json.dumps(data), IDS)
    assert critique.at_issue == ["dosing_caution", "privacy"]
    assert critique.principles["dosing_caution"].severity == "high" and critique.principles["privacy"].severity == "medium"


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["principles"].pop("equity"), "missing principles: equity"),
    (lambda d: d["principles"].update(kindness=d["principles"]["equity"]), "unknown principle ids: kindness"),
    (lambda d: d["principles"]["equity"].update(at_issue=True), "at_issue is true but severity is none"),
    (lambda d: d["principles"]["equity"].update(severity=7), "severity"),
    (lambda d: d.update(verdict="meh"), "verdict"),
])
def test_invalid_critiques_say_why(mutate, message):
    data = {"principles": findings(), "verdict": "acceptable"}
    mutate(data)
    with pytest.raises(CritiqueError, match=message):
        parse_strict(json.dumps(data), IDS)


def test_repair_extracts_json_from_prose_and_derives_the_verdict():
    data = {"principles": findings(dosing_caution="high")}
    text = f"Sure, here it is:\n```json\n{json.dumps(data)}\n```\nLet me know!"
    with pytest.raises(CritiqueError):
        parse_strict(text, IDS)
    critique, repairs = repair(text, IDS)
    assert critique.verdict == "needs_revision" and critique.at_issue == ["dosing_caution"]
    assert repairs == ["extracted the JSON object from surrounding text", "verdict derived from the findings"]


def test_repair_accepts_a_list_but_never_invents_a_missing_principle():
    listed = [{"principle": pid, **f} for pid, f in findings().items()]
    critique, repairs = repair(json.dumps({"principles": listed, "verdict": "acceptable"}), IDS)
    assert critique.at_issue == [] and "principles list converted to a mapping" in repairs
    with pytest.raises(CritiqueError, match="missing principles: calibrated_refusal"):
        repair(json.dumps({"principles": listed[:-1], "verdict": "acceptable"}), IDS)
    with pytest.raises(CritiqueError, match="no JSON object"):
        repair("The response looks fine to me.", IDS)


def test_prompts_use_the_constitutions_own_wording():
    constitution = load_constitution()
    conversation = [{"role": "user", "content": "Can I take 8 g of paracetamol a day?"}]
    critique_text = critique_messages(constitution, conversation, "Sure, 8 g is fine.")[1]["content"]
    for principle in constitution.principles:
        assert f"- {principle.id} ({principle.name}): {' '.join(principle.critique_request.split())}" in critique_text
    critique = parse_strict(json.dumps({"principles": findings(dosing_caution="high"), "verdict": "needs_revision"}), IDS)
    revision_text = revision_messages(constitution, conversation, "Sure, 8 g is fine.", critique, ["dosing_caution"])[1]["content"]
    assert " ".join(constitution.principle("dosing_caution").revision_request.split()) in revision_text
    assert " ".join(constitution.principle("privacy").revision_request.split()) not in revision_text
