"""How the real-model part of the gold set was produced: replies of a chat model to benchmark items.

Kept as a function (not a one-off script) so the gold set's provenance can be re-run: the same model spec,
items and :class:`GenerationParams` give the same candidates, which a person then labels by hand.
Multi-turn items are played turn by turn, feeding the model's own replies back, and the final reply is
the one labelled; the earlier replies are kept as ``assistant_turns``.
"""

from __future__ import annotations

from dataclasses import dataclass

from conscience.data import BenchmarkItem
from conscience.models import ChatModel, GenerationParams, Message


@dataclass
class SampledReply:
    item_id: str
    response: str
    assistant_turns: list[str]
    finish_reason: str


def sample_replies(model: ChatModel, items: list[BenchmarkItem], params: GenerationParams) -> list[SampledReply]:
    """One reply per item, no system message (the chat template's default applies); batched per turn index."""
    conversations: list[list[Message]] = [[] for _ in items]
    replies: list[list[str]] = [[] for _ in items]
    finish = ["stop"] * len(items)
    for turn in range(max(len(item.turns) for item in items)):
        active = [i for i, item in enumerate(items) if turn < len(item.turns)]
        for i in active:
            conversations[i].append({"role": "user", "content": items[i].turns[turn]})
        completions = model.generate([conversations[i] for i in active], params)
        for i, completion in zip(active, completions):
            conversations[i].append({"role": "assistant", "content": completion.text})
            replies[i].append(completion.text)
            finish[i] = completion.finish_reason
    return [SampledReply(item.id, r[-1], r[:-1], f) for item, r, f in zip(items, replies, finish)]
