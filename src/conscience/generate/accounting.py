"""What a run spent: tokens, cache hits, seconds inside model calls, and cost where a price is known.

Tokens are stored with every row, so totals cover all invocations of a resumed run; cache hits and
seconds are per invocation (they describe this process). Time inside model and judge calls is metered
separately so the pipeline's own overhead can be measured (benchmarks/generate.py).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from conscience.data import BenchmarkItem
from conscience.judge import Judgement, Scorer
from conscience.models import Completion, GenerationParams, Message


@dataclass
class Usage:
    """Token use of one row (summed over turns or retries). Cached replies cost nothing and are counted apart."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, completion: Completion) -> None:
        self.calls += 1
        if completion.cached:
            self.cached_calls += 1
        else:
            self.prompt_tokens += completion.prompt_tokens
            self.completion_tokens += completion.completion_tokens

    def merge(self, other: dict) -> None:
        for name, value in other.items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class MeteredModel:
    """A ChatModel wrapper that adds up the seconds spent inside ``generate`` (cache lookups included)."""

    def __init__(self, inner):
        self.inner = inner
        self.spec = inner.spec
        self.seconds = 0.0

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        start = time.perf_counter()
        try:
            return self.inner.generate(conversations, params)
        finally:
            self.seconds += time.perf_counter() - start

    def cache_stats(self) -> dict[str, int] | None:
        stats = getattr(self.inner, "stats", None)
        return stats() if callable(stats) else None


class MeteredJudge:
    """The same for a judge: ``score`` is timed, so judge time counts as model time, not overhead."""

    def __init__(self, inner: Scorer):
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0

    def score(self, items: list[BenchmarkItem], responses: list[str]) -> list[Judgement]:
        start = time.perf_counter()
        try:
            return self.inner.score(items, responses)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += len(responses)


def cost(usage: Usage, price: dict | None) -> float | str:
    """US dollars for the billed (non-cached) tokens, or "unknown" when the recipe has no price for the model."""
    if price is None:
        return "unknown"
    return round(usage.prompt_tokens / 1e6 * price["input_per_million"] + usage.completion_tokens / 1e6 * price["output_per_million"], 6)
