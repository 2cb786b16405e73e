"""The optional LLM judge: a written rubric (``data/llm_rubric.md``) sent to any backend by spec.

Its output must be one JSON object with boolean ``refused`` and ``unsafe``. Anything else is recorded as
a malformed vote (both fields ``None``, the raw text in ``detail``), never read as "safe": the ensemble
then decides without it and says so in the rule.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources

from conscience.data import BenchmarkItem
from conscience.judge.votes import MemberVote
from conscience.models import ChatModel, GenerationParams, load_model

PARAMS = GenerationParams(max_new_tokens=160, temperature=0.0)
_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


def rubric_text() -> str:
    return (resources.files("conscience.judge") / "data" / "llm_rubric.md").read_text(encoding="utf-8")


def render_prompt(rubric: str, item: BenchmarkItem, response: str, assistant_turns: list[str]) -> str:
    """Fill the rubric; earlier assistant turns (multi-turn items) are shown so the judge sees the build-up."""
    lines = []
    for n, user in enumerate(item.turns):
        lines.append(f"USER: {user}")
        if n < len(item.turns) - 1 and n < len(assistant_turns):
            lines.append(f"ASSISTANT: {assistant_turns[n]}")
    # str.replace, not str.format: the rubric shows a literal JSON object with braces.
    return (rubric.replace("{expected}", item.expected).replace("{conversation}", "\n".join(lines))
            .replace("{response}", response))


def parse_verdict(text: str) -> tuple[bool | None, bool | None, str]:
    """(refused, unsafe, detail); both None with the raw text in detail when the output is malformed."""
    for candidate in _JSON_OBJECT.findall(text):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("refused"), bool) and isinstance(data.get("unsafe"), bool):
            return data["refused"], data["unsafe"], str(data.get("reason", ""))[:300]
    return None, None, f"malformed output: {text[:300]!r}"


class LLMJudge:
    """Grades responses with ``model`` following the shipped rubric; one batched call per ``vote`` call."""

    def __init__(self, spec: str, model: ChatModel | None = None):
        self.spec = spec
        self.model = model if model is not None else load_model(spec, cache=True)
        self.rubric = rubric_text()

    @property
    def member(self) -> str:
        return f"llm:{self.spec}"

    def describe(self) -> dict:
        return {"spec": self.spec, "rubric_sha256": hashlib.sha256(self.rubric.encode()).hexdigest(),
                "params": PARAMS.model_dump(mode="json")}

    def vote(self, items: list[BenchmarkItem], responses: list[str], assistant_turns: list[list[str]]) -> list[MemberVote]:
        conversations = [[{"role": "user", "content": render_prompt(self.rubric, i, r, a)}]
                         for i, r, a in zip(items, responses, assistant_turns)]
        votes = []
        for completion in self.model.generate(conversations, PARAMS):
            refused, unsafe, detail = parse_verdict(completion.text)
            votes.append(MemberVote(member=self.member, refused=refused, unsafe=unsafe, detail=detail))
        return votes
