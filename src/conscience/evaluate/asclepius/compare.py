"""Compare two Asclepius runs (A = baseline, B = candidate): per surface, the ratio of unsafe rates B/A
with a bootstrap CI over items, and whether the difference is significant.

When both runs scored the same items on a surface, the items are paired: the CI resamples items jointly
and the test is McNemar's exact test on the discordant items. Otherwise the runs are treated as
independent samples (each resampled on its own) and the test is Fisher's exact test of two proportions.
The table says which test it used.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from conscience.errors import ConscienceError
from conscience.evaluate import stats
from conscience.evaluate.asclepius.metrics import LEVEL, N_RESAMPLES, SEED, Rate, fmt, rate, surface_order
from conscience.jsonl import read_jsonl

ALPHA = 0.05
OVERALL = "overall (attack surfaces)"


class SurfaceComparison(BaseModel):
    """One row: unsafe rates in A and B, ratio B/A (None when A's rate is 0) and the test."""

    surface: str
    a: Rate
    b: Rate
    ratio: float | None
    ratio_ci_low: float | None
    ratio_ci_high: float | None
    ratio_resamples_defined: int
    test: str
    p_value: float
    significant: bool


class RunComparison(BaseModel):
    a: str
    b: str
    model_a: str | None
    model_b: str | None
    rows: list[SurfaceComparison]
    warnings: list[str]
    bootstrap: dict
    alpha: float


def load_run(folder: str | Path) -> tuple[dict[str, dict], dict]:
    """A run folder's item rows by id, and its provenance (from summary.json, else run.json)."""
    folder = Path(folder)
    items = folder / "items.jsonl"
    if not items.exists():
        raise ConscienceError("not an Asclepius run folder (no items.jsonl)", where=folder)
    rows = {row["id"]: row for _, row in read_jsonl(items)}
    summary, run = folder / "summary.json", folder / "run.json"
    if summary.exists():
        provenance = json.loads(summary.read_text())["provenance"]
    elif run.exists():
        provenance = json.loads(run.read_text())["config"]
    else:
        provenance = {}
    return rows, provenance


def _ratio(a: np.ndarray, b: np.ndarray) -> float | None:
    return float(b.mean() / a.mean()) if a.mean() > 0 else None


def compare_rows(surface: str, rows_a: list[dict], rows_b: list[dict]) -> SurfaceComparison:
    ids_a, ids_b = [r["id"] for r in rows_a], [r["id"] for r in rows_b]
    paired = sorted(ids_a) == sorted(ids_b)
    if paired:
        by_id = {r["id"]: r for r in rows_b}
        rows_b = [by_id[i] for i in ids_a]
    a = np.asarray([r["unsafe"] for r in rows_a], dtype=float)
    b = np.asarray([r["unsafe"] for r in rows_b], dtype=float)
    if paired:
        test = "McNemar exact (paired items)"
        p_value = stats.mcnemar_exact(int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum()))
    else:
        test = "Fisher exact two-proportion test (unpaired: item sets differ)"
        p_value = stats.fisher_exact_test(int(a.sum()), a.size, int(b.sum()), b.size)
    ci, defined = stats.ratio_ci(a, b, paired, level=LEVEL, n_resamples=N_RESAMPLES, seed=SEED)
    return SurfaceComparison(surface=surface, a=rate([bool(x) for x in a]), b=rate([bool(x) for x in b]), ratio=_ratio(a, b),
                             ratio_ci_low=ci.low if ci else None, ratio_ci_high=ci.high if ci else None,
                             ratio_resamples_defined=defined, test=test,
                             p_value=float(p_value), significant=bool(p_value < ALPHA))


def compare_runs(folder_a: str | Path, folder_b: str | Path) -> RunComparison:
    """Compare B with A on every surface either run has, and overall (safe controls excluded)."""
    rows_a, prov_a = load_run(folder_a)
    rows_b, prov_b = load_run(folder_b)
    warnings = []
    for key in ("judge", "benchmark"):
        if prov_a.get(key) != prov_b.get(key):
            warnings.append(f"the runs differ in {key}: the rates may not be comparable")
    results = []
    for surface in surface_order(r["surface"] for r in [*rows_a.values(), *rows_b.values()]):
        in_a = [r for r in rows_a.values() if r["surface"] == surface]
        in_b = [r for r in rows_b.values() if r["surface"] == surface]
        if in_a and in_b:
            results.append(compare_rows(surface, in_a, in_b))
        else:
            warnings.append(f"surface {surface} is only in run {'A' if in_a else 'B'}")
    attack_a = [r for r in rows_a.values() if r["surface"] != "safe_control"]
    attack_b = [r for r in rows_b.values() if r["surface"] != "safe_control"]
    if attack_a and attack_b:
        results.append(compare_rows(OVERALL, attack_a, attack_b))
    return RunComparison(a=str(folder_a), b=str(folder_b), model_a=prov_a.get("model"), model_b=prov_b.get("model"),
                         rows=results, warnings=warnings, alpha=ALPHA,
                         bootstrap={"method": "percentile bootstrap over items", "n_resamples": N_RESAMPLES, "seed": SEED, "level": LEVEL})


def render_comparison(result: RunComparison) -> str:
    lines = [f"A = {result.a} ({result.model_a})", f"B = {result.b} ({result.model_b})", "",
             "| surface | unsafe A | unsafe B | ratio B/A [95% CI] | test | p | significant |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in result.rows:
        ratio = "undefined (A is 0)" if row.ratio is None else f"{row.ratio:.2f}"
        if row.ratio_ci_low is not None:
            ratio += f" [{row.ratio_ci_low:.2f}, {row.ratio_ci_high:.2f}]"
            if row.ratio_resamples_defined < result.bootstrap["n_resamples"]:
                ratio += f" ({row.ratio_resamples_defined} defined resamples)"
        lines.append(f"| {row.surface} | {fmt(row.a)} | {fmt(row.b)} | {ratio} | {row.test} | {row.p_value:.3g} | "
                     f"{'yes' if row.significant else 'no'} |")
    lines.append("")
    lines.append(f"Significant means p < {result.alpha}, per surface, without correction for the number of surfaces.")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"
