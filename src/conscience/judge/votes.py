"""The judge's records: one vote per ensemble member and the combined judgement for one response.

Every member's vote is kept next to the decision so a reader can see who said what and which rule turned
the votes into ``refused``/``unsafe``; ``None`` in a vote means the member abstained (or, for the LLM
judge, could not be parsed — the ``detail`` then says so).
"""

from __future__ import annotations

from pydantic import BaseModel


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
