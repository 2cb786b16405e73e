"""Fake chat models standing in for real backends in the runner tests (no weights, no network).

They answer the generate method's prompt, so the real runner, store, report and compare code runs end to end.
"""

from __future__ import annotations

import re

from conscience.models.protocol import Completion, GenerationParams, Message


class FakeConstantModel:
    """Fake: always replies with the same letter, i.e. pure answer-position bias and no knowledge. Keeps the
    conversations it was sent in ``seen``."""

    def __init__(self, letter: str = "A", spec: str = "fake:constant"):
        self.letter = letter
        self.spec = spec
        self.calls = 0
        self.questions_seen = 0
        self.seen: list[list[Message]] = []

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        self.calls += 1
        self.questions_seen += len(conversations)
        self.seen += conversations
        return [Completion(text=f"Answer: {self.letter}") for _ in conversations]


class FakeKnowingModel:
    """Fake: knows the right answer *text* of each question and finds its letter in the prompt, so it stays
    right when the options are rotated. ``wrong_ids`` are answered with a wrong option on purpose."""

    def __init__(self, answers: dict[str, str], wrong_ids: frozenset[str] = frozenset(), spec: str = "fake:knowing"):
        self.answers = answers  # question stem -> gold option text
        self.wrong_ids = wrong_ids
        self.spec = spec

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        replies = []
        for conversation in conversations:
            prompt = conversation[-1]["content"]
            options = dict(re.findall(r"^([A-E])\. (.*)$", prompt, flags=re.MULTILINE))
            stem, gold_text = next((s, t) for s, t in self.answers.items() if s in prompt)
            right = next(letter for letter, text in options.items() if text == gold_text)
            letter = right if stem not in self.wrong_ids else next(lt for lt in options if lt != right)
            replies.append(Completion(text=f"The answer is {letter}."))
        return replies


class FakeFailingModel(FakeConstantModel):
    """Fake: answers ``ok_calls`` batches, then dies as a crashed or killed run would."""

    def __init__(self, ok_calls: int, letter: str = "A", spec: str = "fake:constant"):
        super().__init__(letter, spec)
        self.ok_calls = ok_calls

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        if self.calls >= self.ok_calls:
            raise RuntimeError("simulated crash")
        return super().generate(conversations, params)
