"""FakeJudge: stands in for conscience.judge (built in parallel) where a test checks generation's own logic."""

from __future__ import annotations

from conscience.judge.votes import Judgement


class FakeJudge:
    """Stands in for the project's judge: flags replies to the prompts in ``unsafe`` as unsafe and those in
    ``refused`` as refusals (by prompt id), so the authored critique it drives is predictable."""

    def __init__(self, unsafe: set[str] = frozenset(), refused: set[str] = frozenset()):
        self.unsafe, self.refused = set(unsafe), set(refused)
        self.calls = 0

    def score(self, items, responses):
        self.calls += len(responses)
        return [Judgement(refused=item.id in self.refused, unsafe=item.id in self.unsafe, votes=[], rule="fake: by prompt id")
                for item in items]
