"""Typed records the guard hands across its boundary: the reply, and the oversight that shaped it.

``Oversight`` is what goes back to clients in the ``conscience`` extension field and, hashed or with
text by opt-in, into the audit log; keeping it one record keeps those two views from drifting apart.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["pass", "redrafted", "revised", "refused"]


class PrincipleVerdict(BaseModel):
    """One principle the critic judged. ``why`` may restate the conversation, so it is text, not a verdict."""

    model_config = ConfigDict(extra="forbid")

    principle: str
    at_issue: bool
    why: str = ""


class ScreenResult(BaseModel):
    """The cheap screen's decision and the signals behind it (scores in [0, 1], higher = riskier)."""

    model_config = ConfigDict(extra="forbid")

    risky: bool
    route: Literal["pass", "block", "uncertain"] | None = None  # the cascade's stage-1 decision
    signals: dict[str, float] = Field(default_factory=dict)
    reasons: list[str] = Field(default_factory=list)

    @property
    def pass_likely(self) -> bool:
        """The cascade's input classifier found *pass* the most likely of block / care / pass (signals
        ``input_risk`` = 1 − P(pass) and ``input_block``; P(care) is the rest)."""
        if "input_risk" not in self.signals:
            return False
        p_pass, p_block = 1.0 - self.signals["input_risk"], self.signals.get("input_block", 0.0)
        return p_pass >= max(p_block, self.signals["input_risk"] - p_block)


class Oversight(BaseModel):
    """What the guard did to one reply, in order: screen → critique rounds → action."""

    model_config = ConfigDict(extra="forbid")

    policy: str
    action: Action = "pass"
    screen: ScreenResult | None = None
    critiqued: bool = False
    rounds: int = 0
    verdicts: list[PrincipleVerdict] = Field(default_factory=list)
    critic_failures: int = 0
    self_harm_suspected: bool = False
    redrafted: bool = False  # a clear-pass request's draft declined, and was drafted again under calibrated_refusal

    @property
    def principles_at_issue(self) -> list[str]:
        return sorted({v.principle for v in self.verdicts if v.at_issue})


class GuardedReply(BaseModel):
    """The final reply plus its token counts (draft + guard work) and the oversight record."""

    model_config = ConfigDict(extra="forbid")

    text: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    draft: str = ""
    oversight: Oversight
