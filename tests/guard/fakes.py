"""Small stand-ins for the guard tests. Each Fake says what it replaces and why the real thing is not needed."""

from __future__ import annotations

import time

from conscience.guard.records import GuardedReply, Oversight
from conscience.models import Completion, GenerationParams


class FakeResponder:
    """Stands in for a Guard in tests of the HTTP layer (auth, limits, errors, audit), where the reply's
    content does not matter: it echoes the last user message reversed, optionally after a delay."""

    spec = "fake:echo"

    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.delay = delay
        self.fail = fail
        self.batches: list[int] = []

    def respond(self, conversations, params: GenerationParams) -> list[GuardedReply]:
        self.batches.append(len(conversations))
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("boom")
        return [GuardedReply(text=c[-1]["content"][::-1], draft=c[-1]["content"], prompt_tokens=3, completion_tokens=2,
                             oversight=Oversight(policy="fake")) for c in conversations]


class FakeChatModel:
    """Stands in for a drafter or critic with scripted replies (cycled), counting the conversations it saw."""

    def __init__(self, replies: list[str], spec: str = "fake:scripted"):
        self.replies = replies
        self.spec = spec
        self.calls = 0
        self.seen: list[list[dict]] = []

    def generate(self, conversations, params):
        out = []
        for conversation in conversations:
            out.append(Completion(text=self.replies[self.calls % len(self.replies)], prompt_tokens=5, completion_tokens=4))
            self.calls += 1
            self.seen.append(conversation)
        return out


class CountingModel:
    """A real ChatModel wrapped to count how many conversations reach it (not a fake: it forwards)."""

    def __init__(self, inner):
        self.inner = inner
        self.spec = inner.spec
        self.calls = 0

    def generate(self, conversations, params):
        self.calls += len(conversations)
        return self.inner.generate(conversations, params)
