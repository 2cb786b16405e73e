"""Typed records a utility run writes (``summary.json``) and a comparison returns; other stages read these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ChanceStatus = Literal["informative", "at chance"]
Verdict = Literal["pass", "fail", "cannot be judged (at chance)"]

AT_CHANCE_MEANING = (
    "'at chance' means the accuracy cannot be told apart (one-sided exact binomial test, alpha 0.05) from "
    "guessing or from always answering the single most common gold letter; such a score measures the "
    "model's answer-position bias on this question set, not medical knowledge, and a change in it after "
    "training says nothing about utility."
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChanceReport(_Record):
    """Whether the score says anything about knowledge.

    ``status`` is ``informative`` only if accuracy is significantly above *both* the chance level (mean of
    1/k over questions) and the constant-answer baseline (the best accuracy any single fixed letter gets on
    these questions); with several hundred questions a pure letter bias can beat 1/k on its own.
    """

    chance_level: float
    constant_answer_letter: str
    constant_answer_baseline: float
    p_value_vs_chance: float
    p_value_vs_constant_baseline: float
    alpha: float = 0.05
    status: ChanceStatus
    explanation: str


class CircularReport(_Record):
    """Accuracy when every question is re-asked with its options rotated through all k positions.

    A model that ignores the content and always picks one position scores exactly 1/k on ``mean_accuracy``
    and 0 on ``strict_accuracy`` whatever the gold-letter mix, so these figures cannot be moved by bias.
    ``p_value_vs_chance`` is the exact binomial test of all (question, rotation) answers against 1/k.
    """

    rotations: int
    mean_accuracy: float
    mean_accuracy_ci: list[float]
    strict_accuracy: float
    strict_accuracy_ci: list[float]
    p_value_vs_chance: float
    status: ChanceStatus


class GroupAccuracy(_Record):
    n: int
    accuracy: float
    ci: list[float]


class UtilitySummary(_Record):
    """Everything one run measured, with provenance. Written to ``DIR/summary.json``."""

    model: str
    method: Literal["loglik", "cloze", "generate"]
    circular: bool
    question_file: str
    question_format: str
    question_sha256: str
    seed: int
    subset: int | None
    ids: list[str]
    n: int
    accuracy: float
    accuracy_ci: list[float] = Field(description="95% Wilson interval")
    acc_norm: float | None = Field(None, description="lm-eval acc_norm (log-lik / character length); None for generate")
    acc_norm_ci: list[float] | None = None
    prediction_distribution: dict[str, int] = Field(description="letter -> count; 'none' = unparseable (generate)")
    gold_distribution: dict[str, int]
    unparseable_fraction: float | None = Field(None, description="generate only: replies with no single letter")
    chance: ChanceReport
    circular_report: CircularReport | None = None
    by_system: dict[str, GroupAccuracy]
    by_step: dict[str, GroupAccuracy]
    prompt_note: str
    system_prompt: str | None = Field(None, description="Put before every question (the constitution in context); None: none")
    created_at: str
    conscience_version: str


class UtilityComparison(_Record):
    """Run B against run A on the same questions: is B no worse than A minus ``margin``?

    ``verdict`` is ``pass`` when the lower end of the 95% paired CI of (B − A) is ≥ −margin (non-inferiority
    shown), ``fail`` when it is below, and ``cannot be judged (at chance)`` when either run is at chance,
    because then both numbers measure letter bias and their difference means nothing.
    """

    a_dir: str
    b_dir: str
    a_model: str
    b_model: str
    metric: str
    n: int
    a_score: float
    b_score: float
    difference: float
    difference_ci: list[float]
    mcnemar_p: float | None
    only_a_correct: int | None
    only_b_correct: int | None
    margin: float
    a_status: ChanceStatus
    b_status: ChanceStatus
    verdict: Verdict
    explanation: str
