"""The guard's oversight policy: when to critique, what to do when a principle is at issue, how often.

A YAML file validated with ``extra="forbid"`` so a misspelt key fails loudly instead of silently
turning oversight off. Example::

    critique: gated          # always | gated | never
    on_issue: revise         # revise | refuse (refuse-with-alternative)
    max_rounds: 1
    screen_threshold: 0.5
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from conscience.configfile import load_config


class GuardPolicy(BaseModel):
    """How much oversight each reply gets.

    - ``critique``: ``always`` critiques every draft; ``gated`` only drafts whose request or draft the
      cheap screen flags; ``never`` serves the drafter as a plain pass-through.
    - ``on_issue``: with a principle at issue, ``revise`` rewrites the reply with the principles'
      revision requests; ``refuse`` replaces it with a short refusal that offers a safe alternative.
    - ``max_rounds``: critique → revise rounds before giving up; a reply still at issue after the last
      round is replaced by the refusal-with-alternative (fail safe, recorded as ``refused``).
    - ``screen_threshold``: a screen signal at or above it marks the exchange risky.
    - ``refuse_on_screen``: skip the critic and refuse whenever the screen fires (the strict offline
      setting, for when no critic is strong enough to trust).
    - ``critic_max_tokens`` / ``revision_max_tokens``: budgets for the critic's JSON and the revision.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    critique: Literal["always", "gated", "never"] = "gated"
    on_issue: Literal["revise", "refuse"] = "revise"
    max_rounds: int = Field(1, ge=1, le=5)
    screen_threshold: float = Field(0.5, ge=0.0, le=1.0)
    refuse_on_screen: bool = False
    critic_max_tokens: int = Field(160, ge=1, le=4096)
    revision_max_tokens: int = Field(256, ge=1, le=4096)

    def describe(self) -> str:
        """A short label for logs and benchmark tables."""
        if self.critique == "never":
            return "never"
        extra = "+refuse_on_screen" if self.refuse_on_screen else ""
        return f"{self.critique}/{self.on_issue}/r{self.max_rounds}{extra}"


def load_policy(path: str | Path) -> GuardPolicy:
    """Read a policy YAML file; errors name the file and the offending field."""
    return load_config(path, GuardPolicy, "guard policy")
