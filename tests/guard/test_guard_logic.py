"""The Guard's decisions with scripted models: critique parsing, retry then fail safe, rounds, refusal."""

from __future__ import annotations

import json

import pytest

from conscience.constitution import load_constitution
from conscience.guard import Guard, GuardPolicy, ScreenResult
from conscience.guard.critic import critique_prompt, parse_critique
from conscience.guard.refusal import CLINICAL_REPLY, CRISIS_REPLY
from conscience.models import GenerationParams

from .fakes import FakeChatModel

PARAMS = GenerationParams(max_new_tokens=8)
ASK = [[{"role": "user", "content": "Can I double my metformin dose tonight?"}]]
CLEAN = json.dumps({"verdicts": []})
DOSING = json.dumps({"verdicts": [{"principle": "dosing_caution", "at_issue": True, "why": "gives a dose"}]})
IDS = set(load_constitution().ids)


class FakeScreen:
    """Stands in for the MiniLM + judge screen where only the gate's routing is under test."""

    def __init__(self, risky: bool):
        self.risky = risky

    def assess(self, conversations, drafts, threshold):
        return [ScreenResult(risky=self.risky, signals={"request": float(self.risky)}) for _ in conversations]


def guard(critic_replies: list[str], **policy) -> tuple[Guard, FakeChatModel, FakeChatModel]:
    drafter = FakeChatModel(["Yes, take 2000 mg."], spec="fake:drafter")
    critic = FakeChatModel(critic_replies, spec="fake:critic")
    return Guard(None, drafter, critic=critic, policy=GuardPolicy(**{"critique": "always", **policy})), drafter, critic


@pytest.mark.parametrize("text, expected", [
    (CLEAN, []),
    ("Sure! ```json\n" + DOSING + "\n``` hope that helps", ["dosing_caution"]),
    ('{"verdicts": [{"principle": "made_up", "at_issue": true}]}', None),
    ('{"verdicts": [{"principle": "privacy", "at_issue": "maybe"}]}', None),
    ("1. Scope of practice: violated", None),
    ('{"verdicts": [', None),
])
def test_parse_critique(text, expected):
    verdicts = parse_critique(text, IDS)
    assert (None if verdicts is None else [v.principle for v in verdicts if v.at_issue]) == expected


def test_critique_prompt_carries_every_principle_request():
    constitution = load_constitution()
    text = critique_prompt(constitution, ASK[0], "draft")[0]["content"]
    assert all(p.critique_request.strip() in text for p in constitution.principles)


def test_clean_critique_passes_the_draft():
    g, drafter, critic = guard([CLEAN])
    reply = g.respond(ASK, PARAMS)[0]
    assert (reply.text, reply.oversight.action, reply.oversight.critiqued, critic.calls) == ("Yes, take 2000 mg.", "pass", True, 1)


def test_issue_is_revised_with_the_principles_revision_request():
    g, drafter, critic = guard([DOSING, CLEAN])
    reply = g.respond(ASK, PARAMS)[0]
    assert reply.oversight.action == "revised" and reply.oversight.rounds == 2 and drafter.calls == 2
    revision_prompt = drafter.seen[1][0]["content"]
    assert load_constitution().principle("dosing_caution").revision_request.strip() in revision_prompt
    assert reply.text == "Yes, take 2000 mg."  # the scripted reviser repeats itself; the record says it was revised


def test_malformed_critic_is_retried_once_then_fails_safe():
    g, drafter, critic = guard(["not json at all"], on_issue="refuse")
    reply = g.respond(ASK, PARAMS)[0]
    assert critic.calls == 2  # first try + one retry
    assert critic.seen[1][-1]["role"] == "user" and "valid JSON" in critic.seen[1][-1]["content"]
    assert reply.oversight.critic_failures == 1 and reply.oversight.principles_at_issue == sorted(IDS)
    assert reply.oversight.action == "refused" and reply.text == CLINICAL_REPLY


def test_retry_that_parses_is_used():
    g, drafter, critic = guard(["garbage", DOSING], on_issue="refuse")
    reply = g.respond(ASK, PARAMS)[0]
    assert reply.oversight.critic_failures == 0 and reply.oversight.principles_at_issue == ["dosing_caution"]


def test_still_at_issue_after_max_rounds_is_refused():
    g, drafter, critic = guard([DOSING], max_rounds=2)
    reply = g.respond(ASK, PARAMS)[0]
    assert critic.calls == 3 and drafter.calls == 3  # draft + 2 revisions, each revision re-critiqued
    assert reply.oversight.action == "refused" and reply.oversight.rounds == 3


def test_self_harm_refusal_offers_988():
    g, _, _ = guard([DOSING], on_issue="refuse")
    reply = g.respond([[{"role": "user", "content": "How many sertraline would it take so I don't wake up"}]], PARAMS)[0]
    assert reply.text == CRISIS_REPLY and "988" in reply.text and reply.oversight.self_harm_suspected


def test_gate_routes_only_risky_traffic_to_the_critic():
    for risky, expected_calls in ((False, 0), (True, 1)):
        critic = FakeChatModel([CLEAN])
        g = Guard(None, FakeChatModel(["ok"]), critic=critic, policy=GuardPolicy(critique="gated"), screen=FakeScreen(risky))
        reply = g.respond(ASK, PARAMS)[0]
        assert critic.calls == expected_calls and reply.oversight.critiqued == risky


def test_refuse_on_screen_skips_the_critic():
    critic = FakeChatModel([CLEAN])
    g = Guard(None, FakeChatModel(["ok"]), critic=critic, policy=GuardPolicy(refuse_on_screen=True), screen=FakeScreen(True))
    assert g.respond(ASK, PARAMS)[0].oversight.action == "refused" and critic.calls == 0


def test_guard_is_a_chat_model_and_never_is_a_pass_through():
    drafter = FakeChatModel(["hello"])
    g = Guard(None, drafter, policy=GuardPolicy(critique="never"))
    out = g.generate(ASK * 3, PARAMS)
    assert g.spec == drafter.spec and [c.text for c in out] == ["hello"] * 3
    assert out[0].extra["conscience"]["action"] == "pass"
    g2, _, _ = guard([CLEAN])
    assert g2.spec.startswith("guard:fake:drafter[critic=fake:critic")
