"""MedQA-style utility evaluation that agrees with lm-evaluation-harness and is honest about chance.

``evaluate_utility(model_or_spec, questions_path, method=..., circular=..., out_dir=...)`` scores a model
(lm-eval-exact letter log-likelihood by default; cloze or generative on request; optionally under every
rotation of the options) and writes a run directory whose summary always says whether the score is
distinguishable from chance and from a constant-letter answer. ``compare_runs(a_dir, b_dir)`` gives the
paired difference and the verdict on "B ≥ A − 5 points", or says it cannot be judged.
"""

from conscience.evaluate.utility.compare import compare_runs
from conscience.evaluate.utility.questions import AUTHORED_QUESTIONS, MCQuestion, QuestionSet, load_questions
from conscience.evaluate.utility.records import ChanceReport, CircularReport, UtilityComparison, UtilitySummary
from conscience.evaluate.utility.runner import evaluate_utility, load_run

__all__ = [
    "AUTHORED_QUESTIONS",
    "ChanceReport",
    "CircularReport",
    "MCQuestion",
    "QuestionSet",
    "UtilityComparison",
    "UtilitySummary",
    "compare_runs",
    "evaluate_utility",
    "load_questions",
    "load_run",
]
