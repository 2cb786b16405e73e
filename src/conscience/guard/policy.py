"""The guard's oversight policy: when to critique, what to do when a principle is at issue, how often.

A YAML file validated with ``extra="forbid"`` so a misspelt key fails loudly instead of silently
turning oversight off. Example::

    critique: cascade        # cascade | always | gated | never
    on_issue: revise         # revise | refuse (refuse-with-alternative)
    max_rounds: 1
    cascade: {pass_below: 0.3, block_above: 0.8, output_above: 0.5, escalate: auto}

The shipped cascade thresholds (``data/cascade/policy.yaml``) were chosen on a validation split by
``conscience guard train``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from conscience.configfile import load_config


class CascadeThresholds(BaseModel):
    """Where the classifier cascade routes a request (scores in [0, 1]).

    - ``pass_below``: the input classifier's risk (1 − P(pass)) under it is a clear pass: the draft is served
      untouched, with no LLM call beyond the draft.
    - ``block_above``: P(block) at or over it is a clear block: no draft; a calibrated refusal with a safer
      reformulation instead.
    - ``output_above``: for everything in between, the output classifier reads (request, draft); P(unsafe)
      at or over it escalates.
    - ``escalate``: what an escalated draft gets: ``critic`` (critique and revise), ``refuse``
      (refusal with a safer alternative), or ``auto``: the critic only when one other than the drafter was
      configured (a small drafter is no judge of its own replies), else refuse.
    - ``redraft_refusals``: a clear pass whose draft declines (``looks_like_refusal``) is drafted once more with
      the constitution's ``calibrated_refusal`` principle as the system prompt, and the new draft is served if
      it answers. A small drafter refuses benign questions by itself (the bundled model about one safe control
      in six); the input classifier has already judged the request benign, so declining it helps no one.
      On the 64 safe controls of the Asclepius train split (greedy, 128 tokens) the shipped cascade refused
      0.156 of them without it and 0.078 with it (``benchmarks/guard.py --benchmark ... --split train``).
    - ``redraft_uncertain``: the same for an *uncertain* request whose draft declines and which the output
      classifier let through: it is drafted once more under ``calibrated_refusal`` (answer what can safely be
      answered), and the new draft is served only if it answers and the output classifier also lets *it*
      through; otherwise the first draft stays. Most safe controls the guard still refused were the drafter's
      own refusals on this route, where nothing redrafted them. ``true`` (every such request) cut safe controls
      refused on the Asclepius train split from 0.094 to 0.062 but raised the unsafe rate from 0.130 to 0.188
      (the bundled drafter's redrafts affirm false claims and invent doses; benchmarks/README.md).
      ``pass_likely``, the shipped setting, redrafts only those uncertain requests whose most likely input label
      is *pass* (the classifier leans benign but not past ``pass_below``): the requests that need care (false
      claims to correct, doses to hedge), where the redrafts did harm, keep their first draft. On the train
      split: safe controls refused 0.094 → 0.062, unsafe rate 0.130 with and without it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_below: float = Field(0.3, ge=0.0, le=1.0)
    block_above: float = Field(0.8, ge=0.0, le=1.0)
    output_above: float = Field(0.5, ge=0.0, le=1.0)
    escalate: Literal["auto", "critic", "refuse"] = "auto"
    redraft_refusals: bool = True
    redraft_uncertain: bool | Literal["pass_likely"] = False


class GuardPolicy(BaseModel):
    """How much oversight each reply gets.

    - ``critique``: ``cascade`` routes by the constitutional classifiers (see :class:`CascadeThresholds`);
      ``always`` critiques every draft; ``gated`` only drafts whose request or draft the embedding screen
      flags; ``never`` serves the drafter as a plain pass-through.
    - ``on_issue``: with a principle at issue, ``revise`` rewrites the reply with the principles'
      revision requests; ``refuse`` replaces it with a short refusal that offers a safe alternative.
    - ``max_rounds``: critique → revise rounds before giving up; a reply still at issue after the last
      round is replaced by the refusal-with-alternative (fail safe, recorded as ``refused``).
    - ``screen_threshold``: a screen signal at or above it marks the exchange risky.
    - ``refuse_on_screen``: skip the critic and refuse whenever the screen fires (the strict offline
      setting, for when no critic is strong enough to trust).
    - ``critic_max_tokens`` / ``revision_max_tokens``: budgets for the critic's JSON and the revision.
    - ``cascade``: the cascade's thresholds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    critique: Literal["cascade", "always", "gated", "never"] = "gated"
    on_issue: Literal["revise", "refuse"] = "revise"
    max_rounds: int = Field(1, ge=1, le=5)
    screen_threshold: float = Field(0.5, ge=0.0, le=1.0)
    refuse_on_screen: bool = False
    critic_max_tokens: int = Field(160, ge=1, le=4096)
    revision_max_tokens: int = Field(256, ge=1, le=4096)
    cascade: CascadeThresholds = CascadeThresholds()

    def describe(self) -> str:
        """A short label for logs and benchmark tables."""
        if self.critique == "never":
            return "never"
        if self.critique == "cascade":
            c = self.cascade
            uncertain = {True: "/redraft-uncertain", "pass_likely": "/redraft-pass-likely"}.get(c.redraft_uncertain, "")
            return (f"cascade/pass<{c.pass_below}/block>={c.block_above}/out>={c.output_above}/{c.escalate}"
                    + ("/redraft" if c.redraft_refusals else "") + uncertain)
        extra = "+refuse_on_screen" if self.refuse_on_screen else ""
        return f"{self.critique}/{self.on_issue}/r{self.max_rounds}{extra}"


def load_policy(path: str | Path) -> GuardPolicy:
    """Read a policy YAML file; errors name the file and the offending field."""
    return load_config(path, GuardPolicy, "guard policy")
