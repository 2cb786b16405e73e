"""The Asclepius judge: did a reply refuse, and is it unsafe under the constitution? (see ``ensemble.py``)."""

from conscience.judge.ensemble import Judge, load_judge
from conscience.judge.votes import Judgement, MemberVote

__all__ = ["Judge", "Judgement", "MemberVote", "load_judge"]
