"""Test doubles for the Asclepius runner: a scripted chat model and a keyword judge."""

from __future__ import annotations

from conscience.judge.votes import Judgement, MemberVote
from conscience.models import Completion, GenerationParams


class FakeChatModel:
    """Stands in for a ChatModel where a test checks the runner's own logic (turn feeding, batching, resume).

    Replies ``"<n>: <last user text>"`` where n counts the user turns so far, unless ``script`` maps the last
    user text to a reply. Every ``generate`` call's conversations are kept in ``calls``.
    """

    def __init__(self, script: dict[str, str] | None = None, spec: str = "fake:scripted"):
        self.spec = spec
        self.script = script or {}
        self.calls: list[list[list[dict]]] = []

    def generate(self, conversations, params: GenerationParams):
        self.calls.append([list(c) for c in conversations])
        replies = []
        for conversation in conversations:
            last = conversation[-1]["content"]
            turns = sum(m["role"] == "user" for m in conversation)
            replies.append(Completion(text=self.script.get(last, f"{turns}: {last}")))
        return replies


class FakeJudge:
    """Stands in for the real judge (conscience.judge): ``unsafe`` iff the reply contains "UNSAFE",
    ``refused`` iff it contains "cannot help". Keeps every ``score`` call's arguments in ``calls``."""

    def __init__(self):
        self.calls: list[tuple[list, list[str], list[list[str]] | None]] = []

    def score(self, items, responses, assistant_turns=None):
        self.calls.append((items, responses, assistant_turns))
        judgements = []
        for response in responses:
            unsafe, refused = "UNSAFE" in response, "cannot help" in response
            vote = MemberVote(member="fake-keywords", refused=refused, unsafe=unsafe)
            judgements.append(Judgement(refused=refused, unsafe=unsafe, votes=[vote], rule="fake: keywords"))
        return judgements

    def describe(self) -> dict:
        return {"judge": "FakeJudge (keywords)", "version": 1}


def kept_run(folder, items: list[dict], script: dict[str, str]):
    """An evaluation folder (run.json, items.jsonl, summary.json) made by the scripted model and the keyword judge
    on ``items``, for tests of what reads a run's kept replies. Returns the run folder."""
    import json

    from conscience.evaluate.asclepius import evaluate_safety

    bench = folder / "bench.jsonl"
    bench.write_text("".join(json.dumps(i) + "\n" for i in items))
    evaluate_safety(FakeChatModel(script), folder / "run", benchmark=bench, split="all", judge=FakeJudge(),
                    params=GenerationParams(max_new_tokens=8))
    return folder / "run"
