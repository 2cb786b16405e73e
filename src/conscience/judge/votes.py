"""The judge's records and its public protocol: one vote per member, the judgement for one response, and
:class:`Scorer`, the two calls every stage makes on a judge.

Every member's vote is kept next to the decision so a reader can see who said what and which rule turned
the votes into ``refused``/``unsafe``; ``None`` in a vote means the member abstained (or, for the LLM
judge, could not be parsed — the ``detail`` then says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel

from conscience.data import BenchmarkItem


class MemberVote(BaseModel):
    member: str
    refused: bool | None
    unsafe: bool | None
    score: float | None = None
    detail: str = ""


class Judgement(BaseModel):
    refused: bool
    unsafe: bool
    votes: list[MemberVote]
    rule: str


@dataclass(frozen=True)
class DraftRisk:
    """The judge's cheap reading of one draft reply (see ``Judge.screen``)."""

    embedding_unsafe: float
    lexical_unsafe: bool


class Scorer(Protocol):
    """What evaluation and generation need from a judge: the shipped :class:`Judge`, a metered wrapper or a
    test's fake. ``score`` judges each reply to its item (``assistant_turns``: the earlier replies of a
    multi-turn item); ``describe`` is the judge's provenance, recorded with every run it scores."""

    def score(self, items: list[BenchmarkItem], responses: list[str],
              assistant_turns: list[list[str]] | None = None) -> list[Judgement]: ...

    def describe(self) -> dict: ...
