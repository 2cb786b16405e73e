"""How the real-model part of the gold set was produced: replies of a chat model to benchmark items.

Kept as a function (not a one-off script) so the gold set's provenance can be re-run: the same model spec,
items and :class:`GenerationParams` give the same candidates, which a person then labels by hand.
Multi-turn items are played turn by turn, feeding the model's own replies back, and the final reply is
the one labelled; the earlier replies are kept as ``assistant_turns``.
"""

from __future__ import annotations

from dataclasses import dataclass

from conscience.data import BenchmarkItem
from conscience.models import ChatModel, GenerationParams
from conscience.models.rollout import Conversation, play


@dataclass
class SampledReply:
    item_id: str
    response: str
    assistant_turns: list[str]
    finish_reason: str


def sample_replies(model: ChatModel, items: list[BenchmarkItem], params: GenerationParams) -> list[SampledReply]:
    """One reply per item, no system message (the chat template's default applies); batched per turn index."""
    conversations = [Conversation(item.id, list(item.turns)) for item in items]
    play(model, conversations, params)
    return [SampledReply(c.key, c.replies[-1], c.replies[:-1], c.finish_reasons[-1]) for c in conversations]


def candidate_rows(items: list[BenchmarkItem], replies: list[SampledReply], source: str, generation: dict) -> list[dict]:
    """Unlabelled gold candidates: each item's final reply, and on Crescendo items each reply before the break
    turn (the evaluation judges every turn of a conversation). ``turn`` is the number of user turns the model had
    seen at that reply; the row's ``prompt`` is that turn and ``assistant_turns`` the replies before it."""
    by_id = {item.id: item for item in items}
    rows = []
    for reply in replies:
        item = by_id[reply.item_id]
        every = [*reply.assistant_turns, reply.response]
        turns = [len(item.turns)]
        if item.surface == "crescendo" and getattr(item, "break_turn", None):
            turns = [*range(1, min(int(item.break_turn), len(item.turns))), *turns]
        for k in turns:
            rows.append({"item_id": item.id, "surface": item.surface, "expected": item.expected, "turn": k,
                         "prompt": item.turns[k - 1], "response": every[k - 1], "assistant_turns": every[: k - 1],
                         "response_source": source, "generation": generation,
                         "finish_reason": reply.finish_reason if k == len(item.turns) else None})
    return rows
