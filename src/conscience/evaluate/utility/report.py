"""Turn per-question rows into the chance-aware :class:`UtilitySummary` and its short Markdown page."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from conscience import __version__
from conscience.evaluate import stats
from conscience.evaluate.utility.questions import LETTERS
from conscience.evaluate.utility.records import (
    AT_CHANCE_MEANING,
    ChanceReport,
    CircularReport,
    GroupAccuracy,
    UtilitySummary,
)
from conscience.rundir import now

ALPHA = 0.05


def _above(successes: int, probs: list[float]) -> float:
    """One-sided exact p-value of ``successes`` against per-item chance rates (binomial when all equal)."""
    if len(set(probs)) == 1:
        return stats.binomial_test(successes, len(probs), probs[0], alternative="greater")
    return stats.poisson_binomial_sf(successes, probs)


def chance_report(rows: list[dict[str, Any]]) -> ChanceReport:
    """Chance level, the constant-answer baseline and the tests against both (see :class:`ChanceReport`)."""
    n = len(rows)
    correct = sum(bool(r["correct"]) for r in rows)
    chance_probs = [1.0 / r["k"] for r in rows]
    gold = Counter(r["gold"] for r in rows)
    letter = min(gold, key=lambda lt: (-gold[lt], lt))
    baseline = gold[letter] / n
    p_chance = _above(correct, chance_probs)
    p_baseline = stats.binomial_test(correct, n, baseline, alternative="greater")
    informative = p_chance < ALPHA and p_baseline < ALPHA
    accuracy = correct / n
    if informative:
        explanation = (
            f"Accuracy {accuracy:.3f} is significantly above chance ({sum(chance_probs) / n:.3f}, p={p_chance:.2g}) "
            f"and above always answering {letter} ({baseline:.3f}, p={p_baseline:.2g}): the score reflects "
            "more than answer-position bias."
        )
    else:
        explanation = (
            f"AT CHANCE: accuracy {accuracy:.3f} vs chance {sum(chance_probs) / n:.3f} (p={p_chance:.2g}) and vs "
            f"always answering {letter} {baseline:.3f} (p={p_baseline:.2g}). " + AT_CHANCE_MEANING
        )
    return ChanceReport(
        chance_level=sum(chance_probs) / n,
        constant_answer_letter=letter,
        constant_answer_baseline=baseline,
        p_value_vs_chance=p_chance,
        p_value_vs_constant_baseline=p_baseline,
        alpha=ALPHA,
        status="informative" if informative else "at chance",
        explanation=explanation,
    )


def circular_correct(row: dict[str, Any]) -> int:
    """How many of the question's k rotations (shift 0 included) were answered right."""
    return int(bool(row["correct"])) + sum(bool(r["correct"]) for r in row["rotations"])


def circular_report(rows: list[dict[str, Any]]) -> CircularReport:
    shares = [circular_correct(r) / r["k"] for r in rows]
    strict = sum(circular_correct(r) == r["k"] for r in rows)
    total = sum(circular_correct(r) for r in rows)
    probs = [1.0 / r["k"] for r in rows for _ in range(r["k"])]
    p_value = _above(total, probs)
    return CircularReport(
        rotations=max(r["k"] for r in rows),
        mean_accuracy=sum(shares) / len(shares),
        mean_accuracy_ci=stats.bootstrap_ci(shares).as_list(),
        strict_accuracy=strict / len(rows),
        strict_accuracy_ci=stats.wilson_ci(strict, len(rows)).as_list(),
        p_value_vs_chance=p_value,
        status="informative" if p_value < ALPHA else "at chance",
    )


def _groups(rows: list[dict[str, Any]], field: str) -> dict[str, GroupAccuracy]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        groups[r[field]].append(bool(r["correct"]))
    return {
        name: GroupAccuracy(n=len(hits), accuracy=sum(hits) / len(hits), ci=stats.wilson_ci(sum(hits), len(hits)).as_list())
        for name, hits in sorted(groups.items())
    }


def build_summary(rows: list[dict[str, Any]], provenance: dict[str, Any]) -> UtilitySummary:
    """Aggregate rows (one per question, in id order) into the summary; ``provenance`` fills the run fields."""
    n = len(rows)
    correct = sum(bool(r["correct"]) for r in rows)
    has_norm = all(r.get("correct_norm") is not None for r in rows)
    correct_norm = sum(bool(r["correct_norm"]) for r in rows) if has_norm else None
    letters = sorted({LETTERS[i] for r in rows for i in range(r["k"])})
    predictions = Counter(r["predicted"] or "none" for r in rows)
    distribution = {letter: predictions.get(letter, 0) for letter in letters}
    if predictions.get("none"):
        distribution["none"] = predictions["none"]
    gold = Counter(r["gold"] for r in rows)
    generate = provenance["method"] == "generate"
    return UtilitySummary(
        **provenance,
        n=n,
        accuracy=correct / n,
        accuracy_ci=stats.wilson_ci(correct, n).as_list(),
        acc_norm=correct_norm / n if correct_norm is not None else None,
        acc_norm_ci=stats.wilson_ci(correct_norm, n).as_list() if correct_norm is not None else None,
        prediction_distribution=distribution,
        gold_distribution={letter: gold.get(letter, 0) for letter in letters},
        unparseable_fraction=predictions.get("none", 0) / n if generate else None,
        chance=chance_report(rows),
        circular_report=circular_report(rows) if provenance["circular"] else None,
        by_system=_groups(rows, "system"),
        by_step=_groups(rows, "step"),
        created_at=now(),
        conscience_version=__version__,
    )


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def render_markdown(s: UtilitySummary) -> str:
    """A one-screen summary: the number, its CI, the chance check in words, bias and circular figures."""
    ci = f"{_pct(s.accuracy_ci[0])}–{_pct(s.accuracy_ci[1])}"
    lines = [
        f"# Utility: {s.model}",
        "",
        f"- Questions: {s.n} from `{s.question_file}` (sha256 {s.question_sha256[:12]}…), method `{s.method}`"
        + (", circular" if s.circular else "")
        + (f", subset {s.subset} (seed {s.seed})" if s.subset else ""),
        f"- Accuracy: **{_pct(s.accuracy)}** (95% CI {ci})"
        + (f"; acc_norm {_pct(s.acc_norm)}" if s.acc_norm is not None else ""),
        f"- Chance status: **{s.chance.status}**. {s.chance.explanation}",
        f"- Chance level {_pct(s.chance.chance_level)}; always-{s.chance.constant_answer_letter} baseline "
        f"{_pct(s.chance.constant_answer_baseline)}.",
        "- Predicted letters: " + ", ".join(f"{k} {v}" for k, v in s.prediction_distribution.items())
        + " (gold: " + ", ".join(f"{k} {v}" for k, v in s.gold_distribution.items()) + ")",
    ]
    if s.unparseable_fraction is not None:
        lines.append(f"- Unparseable replies: {_pct(s.unparseable_fraction)}")
    if s.circular_report:
        c = s.circular_report
        lines.append(
            f"- Circular ({c.rotations} rotations): mean accuracy {_pct(c.mean_accuracy)} "
            f"(CI {_pct(c.mean_accuracy_ci[0])}–{_pct(c.mean_accuracy_ci[1])}), strict {_pct(c.strict_accuracy)}, "
            f"status **{c.status}** (p={c.p_value_vs_chance:.2g})"
        )
    lines += ["", "| body system | n | accuracy |", "| --- | --- | --- |"]
    lines += [f"| {name} | {g.n} | {_pct(g.accuracy)} |" for name, g in s.by_system.items()]
    lines += ["", s.prompt_note, ""]
    if s.system_prompt:
        lines += [f"A system prompt of {len(s.system_prompt)} characters came before every question (`system_prompt` in "
                  "summary.json).", ""]
    return "\n".join(lines)
