"""The one multi-turn rollout: play conversations turn by turn against a chat model, batched per turn.

A multi-turn prompt is answered one user turn at a time, the model's own reply fed back before the next turn,
because that is how a conversation (and a Crescendo attack) unfolds. All conversations at turn k go to the
model together, split into batches; conversations in different ``group``s get their own parameters (a
generation run samples each repeat of a prompt with its own seed). Evaluation, generation, the gold set's
sampling and ``conscience sample`` all play through here, so batching and feeding back are done one way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from conscience.models.protocol import ChatModel, Completion, GenerationParams, Message


@dataclass
class Conversation:
    """One conversation being played: the user ``turns`` (after an optional ``prefix`` of earlier messages, such
    as a system message) and the replies so far. ``replies`` are what is fed back (see ``play``'s ``reply_text``)."""

    key: str
    turns: list[str]
    prefix: list[Message] = field(default_factory=list)
    group: int = 0
    replies: list[str] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return len(self.replies) == len(self.turns)

    @property
    def finish_reasons(self) -> list[str]:
        return [c.finish_reason for c in self.completions]

    def messages(self, upto: int | None = None) -> list[Message]:
        """What the model is sent for reply number ``upto`` (default: the next one): the prefix, each earlier turn
        with its reply, then that user turn."""
        upto = len(self.replies) if upto is None else upto
        messages = list(self.prefix)
        for user, reply in zip(self.turns[:upto], self.replies[:upto]):
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
        return messages + [{"role": "user", "content": self.turns[upto]}]


def play(model: ChatModel, conversations: list[Conversation], params: GenerationParams | Callable[[int], GenerationParams],
         batch_size: int | None = None, *, longest_first: bool = False,
         reply_text: Callable[[Conversation, Completion], str] | None = None,
         after_batch: Callable[[list[Conversation], float], None] | None = None) -> None:
    """Play every conversation to its last turn.

    ``params`` is one set for all, or a function of the conversation's group. ``batch_size`` caps a
    ``generate`` call (None: all conversations of a turn and group in one call). ``longest_first`` sorts each
    turn's conversations by length, which keeps padding low. ``reply_text`` turns a completion into the reply
    that is kept and fed back (default: its text; generation scrubs PHI here). ``after_batch(batch, seconds)``
    runs after each call, so callers can store finished conversations as they come (resumable runs).
    """
    for turn in range(max((len(c.turns) for c in conversations), default=0)):
        active = [c for c in conversations if len(c.turns) > turn]
        if longest_first:
            active.sort(key=lambda c: -sum(len(m["content"]) for m in c.messages()))
        for group in sorted({c.group for c in active}):
            members = [c for c in active if c.group == group]
            group_params = params(group) if callable(params) else params
            size = batch_size or len(members)
            for start in range(0, len(members), size):
                batch = members[start : start + size]
                began = time.time()
                completions = model.generate([c.messages() for c in batch], group_params)
                seconds = time.time() - began
                for conversation, completion in zip(batch, completions):
                    conversation.completions.append(completion)
                    conversation.replies.append(reply_text(conversation, completion) if reply_text else completion.text)
                if after_batch is not None:
                    after_batch(batch, seconds)
