"""Inter-reviewer agreement: Krippendorff's alpha.

Chosen over Cohen's kappa (two raters only) and Fleiss' kappa (every unit rated by the same number of
raters) because reviewers here come and go: any number of them, each scoring some of the items. Ordinal
alpha for the 1-5 Med-PaLM axes, nominal alpha for pass/fail verdicts. Follows Krippendorff (2011),
"Computing Krippendorff's Alpha-Reliability", via the coincidence matrix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from itertools import permutations
from typing import Literal

Level = Literal["nominal", "ordinal", "interval"]


def krippendorff_alpha(units: Iterable[Iterable[Hashable]], level: Level = "nominal") -> float | None:
    """Alpha over ``units`` (each the values different reviewers gave one unit; missing ones left out).

    Units with fewer than two values carry no information about agreement and are dropped. Returns None
    when alpha is undefined: no unit rated twice, or only one value ever used (no expected disagreement).
    """
    coincidences: Counter = Counter()
    for unit in units:
        values = list(unit)
        if len(values) < 2:
            continue
        for a, b in permutations(range(len(values)), 2):
            coincidences[(values[a], values[b])] += 1 / (len(values) - 1)
    totals: Counter = Counter()
    for (c, _), weight in coincidences.items():
        totals[c] += weight
    n = sum(totals.values())
    if len(totals) < 2:
        return None
    delta = _distance(sorted(totals), totals, level)
    observed = sum(weight * delta[c, k] for (c, k), weight in coincidences.items())
    expected = sum(totals[c] * totals[k] * delta[c, k] for c in totals for k in totals) / (n - 1)
    return 1 - observed / expected


def _distance(values: list, totals: Counter, level: Level) -> dict:
    """Squared difference between two values under the metric of ``level``."""
    delta = {}
    for i, c in enumerate(values):
        for j, k in enumerate(values):
            if level == "nominal":
                delta[c, k] = float(c != k)
            elif level == "interval":
                delta[c, k] = float(c - k) ** 2
            else:
                low, high = min(i, j), max(i, j)
                between = sum(totals[values[g]] for g in range(low, high + 1))
                delta[c, k] = (between - (totals[c] + totals[k]) / 2) ** 2
    return delta
