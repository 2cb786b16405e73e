"""``compare_runs``: is run B no worse than run A minus a margin, on the same questions — or can't we tell?"""

from __future__ import annotations

from pathlib import Path

from conscience.errors import ConscienceError
from conscience.evaluate import stats
from conscience.evaluate.utility.records import AT_CHANCE_MEANING, UtilityComparison
from conscience.evaluate.utility.report import circular_correct
from conscience.evaluate.utility.runner import load_run

DEFAULT_MARGIN = 0.05


def compare_runs(a_dir: str | Path, b_dir: str | Path, margin: float = DEFAULT_MARGIN, seed: int = 0) -> UtilityComparison:
    """Paired comparison of two finished runs (B − A) and the verdict on "B ≥ A − margin".

    Both runs must have scored the same question file (same sha256), the same ids and the same method.
    When both are circular the per-question score is the share of rotations right (immune to letter bias);
    otherwise it is right/wrong on the original order, with an exact McNemar test beside the CI.
    """
    a, a_rows = load_run(a_dir)
    b, b_rows = load_run(b_dir)
    if a.question_sha256 != b.question_sha256:
        raise ConscienceError("the two runs scored different question files (sha256 differs)", where=b_dir, field="question_sha256")
    if set(a.ids) != set(b.ids):
        raise ConscienceError(
            f"the two runs scored different questions ({len(set(a.ids) - set(b.ids))} only in A, "
            f"{len(set(b.ids) - set(a.ids))} only in B); rerun B with --ids {Path(a_dir) / 'ids.txt'}",
            where=b_dir,
            field="ids",
        )
    if a.method != b.method:
        raise ConscienceError(f"the runs used different methods ({a.method} vs {b.method}); compare like with like", where=b_dir, field="method")
    use_circular = a.circular_report is not None and b.circular_report is not None
    if use_circular:
        metric = "circular mean accuracy"
        a_scores = [circular_correct(a_rows[i]) / a_rows[i]["k"] for i in a.ids]
        b_scores = [circular_correct(b_rows[i]) / b_rows[i]["k"] for i in a.ids]
        a_status, b_status = a.circular_report.status, b.circular_report.status  # type: ignore[union-attr]
    else:
        metric = "accuracy"
        a_scores = [float(bool(a_rows[i]["correct"])) for i in a.ids]
        b_scores = [float(bool(b_rows[i]["correct"])) for i in a.ids]
        a_status, b_status = a.chance.status, b.chance.status
    diff = stats.paired_difference(a_scores, b_scores, seed=seed)
    low, high = diff.ci.as_list()
    if "at chance" in (a_status, b_status):
        verdict = "cannot be judged (at chance)"
        which = " and ".join(name for name, status in (("A", a_status), ("B", b_status)) if status == "at chance")
        explanation = f"Run {which} is at chance on {metric}, so the difference cannot be judged. " + AT_CHANCE_MEANING
    elif low >= -margin:
        verdict = "pass"
        explanation = (
            f"B − A = {100 * diff.difference:+.1f} points (95% CI {100 * low:+.1f} to {100 * high:+.1f}); the lower "
            f"bound is above −{100 * margin:g} points, so B ≥ A − {100 * margin:g} points is shown."
        )
    else:
        verdict = "fail"
        explanation = (
            f"B − A = {100 * diff.difference:+.1f} points (95% CI {100 * low:+.1f} to {100 * high:+.1f}); the lower "
            f"bound is below −{100 * margin:g} points, so B ≥ A − {100 * margin:g} points is not shown."
        )
    return UtilityComparison(
        a_dir=str(a_dir),
        b_dir=str(b_dir),
        a_model=a.model,
        b_model=b.model,
        metric=metric,
        n=diff.n,
        a_score=diff.mean_a,
        b_score=diff.mean_b,
        difference=diff.difference,
        difference_ci=[low, high],
        mcnemar_p=diff.mcnemar_p,
        only_a_correct=diff.only_a,
        only_b_correct=diff.only_b,
        margin=margin,
        a_status=a_status,
        b_status=b_status,
        verdict=verdict,
        explanation=explanation,
    )
