"""Packets: blinding, the content hash, and where the questions come from."""

from __future__ import annotations

import json

import pytest

from conscience.errors import ConscienceError
from conscience.models import Completion, GenerationParams
from conscience.review import Question, build_packet, load_packet, medpalm_questions, models_from_run
from conscience.review.collect import generate_replies
from tests.review.helpers import coverage_packet, coverage_questions_of


def test_two_models_are_blinded_and_shuffled_per_item(tmp_path):
    packet = load_packet(coverage_packet(tmp_path / "p.json", principles=3))
    first_labels = {packet.key[item.id]["A"] for item in packet.items}
    assert first_labels == {"base", "trained"}  # position says nothing about the model
    for item in packet.items:
        for response in item.responses:
            model = packet.model_of(item.id, response.label)
            assert response.replies == [f"{model} reply {t + 1} to {item.id}" for t in range(len(item.turns))]
    again = load_packet(coverage_packet(tmp_path / "q.json", principles=3))
    assert again.key == packet.key  # the shuffle is seeded


def test_blinded_view_has_no_key_models_or_specs(tmp_path):
    packet = load_packet(coverage_packet(tmp_path / "p.json"))
    view = packet.blinded()
    assert set(view) == {"name", "kind", "source", "rubric", "items", "content_hash"}
    assert "smollm2" not in json.dumps(view)


def test_hand_edited_packet_is_refused_naming_the_file(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["items"][0]["responses"][0]["replies"][0] = "a better answer, typed in by hand"
    path.write_text(json.dumps(data))
    with pytest.raises(ConscienceError) as err:
        load_packet(path)
    assert str(path) in str(err.value) and "edited" in str(err.value)


def test_swapped_key_is_refused(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    data = json.loads(path.read_text())
    first = data["items"][0]["id"]
    data["key"][first] = {"A": data["key"][first]["B"], "B": data["key"][first]["A"]}
    path.write_text(json.dumps(data))
    with pytest.raises(ConscienceError, match="content_hash"):
        load_packet(path)


def test_malformed_packets_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConscienceError, match="bad.json.*not valid JSON"):
        load_packet(bad)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ConscienceError, match="not a review packet"):
        load_packet(bad)
    with pytest.raises(ConscienceError, match="not found"):
        load_packet(tmp_path / "missing.json")


def test_build_packet_checks_counts():
    questions = [Question(id="q1", turns=["hi"])]
    with pytest.raises(ConscienceError, match="2 responses for 1 questions"):
        build_packet(questions, {"m": ["a", "b"]}, "medpalm", name="x", source="t")
    with pytest.raises(ConscienceError, match="1 or 2 models"):
        build_packet(questions, {"a": ["x"], "b": ["y"], "c": ["z"]}, "medpalm", name="x", source="t")
    with pytest.raises(ConscienceError, match="one reply per user turn"):
        build_packet([Question(id="q1", turns=["one", "two"])], {"m": [["only one"]]}, "coverage", name="x", source="t")


def test_single_model_packet_has_one_response_and_is_its_subject():
    packet = build_packet([Question(id="q1", turns=["hi"])], {"hf:x": ["hello"]}, "medpalm", name="x", source="t")
    assert [r.label for r in packet.items[0].responses] == ["A"] and packet.subject == "hf:x"


def test_medpalm_questions_default_to_open_ended_prompts_and_say_so():
    questions, source = medpalm_questions(None, 50, seed=0)
    assert len(questions) == 50 and "open_ended.jsonl" in source and "50 of 54" in source
    assert medpalm_questions(None, 50, seed=0)[0] == questions
    with pytest.raises(ConscienceError, match="asked for 60 prompts"):
        medpalm_questions(None, 60)


def test_medpalm_prompts_file_is_checked_line_by_line(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "How is asthma treated?"}\n{"text": "no prompt field"}\n')
    with pytest.raises(ConscienceError, match=r"p.jsonl:2: .*prompt"):
        medpalm_questions(prompts, 1)
    prompts.write_text('{"prompt": "How is asthma treated?"}\n{"id": "x", "prompt": "And gout?"}\n')
    questions, source = medpalm_questions(prompts, 2)
    assert [q.id for q in questions] == ["line-1", "x"] and str(prompts) in source


def test_models_from_run_picks_base_and_first_trained_variant(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps({"variants": [
        {"name": "base", "model_spec": "hf:smollm2-135m"}, {"name": "sft", "model_spec": "hf:smollm2-135m+a/sft"},
        {"name": "dpo", "model_spec": "hf:smollm2-135m+a/dpo"}]}))
    assert [(m.name, m.spec) for m in models_from_run(tmp_path)] == [("base", "hf:smollm2-135m"), ("sft", "hf:smollm2-135m+a/sft")]
    (tmp_path / "report.json").write_text(json.dumps({"variants": [{"name": "sft", "model_spec": "x"}]}))
    with pytest.raises(ConscienceError, match="named 'base'"):
        models_from_run(tmp_path)
    with pytest.raises(ConscienceError, match="no report.json"):
        models_from_run(tmp_path / "nowhere")


class FakeEchoModel:
    """Stands in for a chat model: replies with what it saw, so the turn-by-turn feeding can be checked."""

    spec = "fake:echo"

    def __init__(self):
        self.seen = []

    def generate(self, conversations, params):
        self.seen.extend(conversations)
        return [Completion(text=f"reply after {len(c)} messages") for c in conversations]


def test_multi_turn_prompts_feed_the_models_own_replies_back():
    questions = coverage_questions_of(1)
    model = FakeEchoModel()
    replies = generate_replies(model, questions, GenerationParams(max_new_tokens=8))
    multi = next(i for i, q in enumerate(questions) if len(q.turns) == 2)
    assert replies[multi] == ["reply after 1 messages", "reply after 3 messages"]
    second_turn = next(c for c in model.seen if len(c) == 3)
    assert second_turn[1] == {"role": "assistant", "content": "reply after 1 messages"}
    assert second_turn[2] == {"role": "user", "content": questions[multi].turns[1]}
