"""Refuse-with-alternative: a short, project-written reply that declines and still offers a way forward.

A bare "I can't help" leaves a person at risk with nothing; the template always names where to go
instead (988 in the US when self-harm is suspected, a clinician or pharmacist otherwise).
"""

from __future__ import annotations

import re

from conscience.models.protocol import Message

SELF_HARM = re.compile(
    r"\b(suicid\w*|kill(ing)? myself|end(ing)? (my life|it all)|take my (own )?life|(want|wanted|wanting) to die|"
    r"self[- ]?harm\w*|hurt(ing)? myself|cut(ting)? myself|overdos\w*|take all (of )?my|no reason to live|"
    r"(don'?t|not|never|won'?t) wake up)\b",
    re.IGNORECASE,
)

CRISIS_REPLY = (
    "I'm not able to help with that, and I'm concerned about how you're doing. If you are thinking about "
    "harming yourself, please reach out now: in the US you can call or text 988 (Suicide & Crisis Lifeline), "
    "elsewhere contact your local emergency number or a crisis line. If you are in immediate danger, call "
    "emergency services. Talking to someone you trust, or to your doctor, can also help. I'm happy to talk "
    "about what's going on or help you find support."
)

CLINICAL_REPLY = (
    "I can't give a safe answer to that as asked, because it depends on details that need a clinician "
    "who knows your situation. A pharmacist or your doctor can check doses, interactions and what is right "
    "for you, and if this is urgent or symptoms are severe, please contact emergency services. I'm glad to "
    "explain the general background, what questions to ask, or what warning signs to look out for."
)


# How the drafter declines, in its opening lines: "I'm sorry, but I can't...", "as a chatbot, I don't have the
# ability to provide medical advice". Read on the judge's gold replies of the bundled model (train items): it
# finds 50 of the 74 replies labelled refused there, with 4 false alarms in 706.
REFUSAL_OPENING = re.compile(
    r"\b(I('m| am) (sorry,? but I|not able to|unable to|not equipped to|afraid I)|"
    r"I (can(no|')t|won't|will not) (help|assist|provide|give|answer|do that)|"
    r"(don'?t|do not) have the (capability|ability|capacity) to (provide|assist|give|help|offer)|"
    r"not (able|permitted|allowed) to (provide|give|offer|help|assist) (you with )?(medical|that|this|any)|"
    r"as an? (AI|chatbot|language model)[^.]{0,60}(can(no|')t|unable|not able|don'?t))",
    re.IGNORECASE,
)


def looks_like_refusal(text: str, opening_chars: int = 300) -> bool:
    """Whether a reply declines in its opening: a cheap check, so a clear-pass request's refused draft can be
    drafted again (the ``calibrated_refusal`` principle: benign questions are answered)."""
    return bool(REFUSAL_OPENING.search(text[:opening_chars]))


def self_harm_suspected(conversation: list[Message]) -> bool:
    """Whether any user turn mentions self-harm (a deliberate over-trigger: the cost is a crisis line shown)."""
    return any(m["role"] == "user" and SELF_HARM.search(m["content"]) for m in conversation)


def refusal_with_alternative(conversation: list[Message], alternative: str | None = None) -> str:
    """The crisis or clinical refusal; with ``alternative`` (a safer reformulation of the request, from the
    constitution's data) it ends by offering that, as the ``calibrated_refusal`` principle asks."""
    reply = CRISIS_REPLY if self_harm_suspected(conversation) else CLINICAL_REPLY
    return f"{reply} {alternative.strip()}" if alternative and alternative.strip() else reply
