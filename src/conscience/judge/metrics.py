"""Agreement between the judge and the gold labels: accuracy, Cohen's kappa with a 95% CI, the confusion matrix.

The CI is a percentile bootstrap that resamples benchmark *items* (all replies to one item go in or out
together), because replies to one item are not independent: four models' replies to the same Crescendo
conversation share its difficulty.
"""

from __future__ import annotations

import math

from pydantic import BaseModel


class Agreement(BaseModel):
    """Judge vs gold on one boolean question. ``kappa`` is None when it is undefined (one class only)."""

    n: int
    accuracy: float
    kappa: float | None
    kappa_low: float | None = None
    kappa_high: float | None = None
    tp: int
    fp: int
    fn: int
    tn: int
    gold_positive: int


def _kappa(gold, predicted) -> float | None:
    from sklearn.metrics import cohen_kappa_score  # imported here: `import conscience.judge` stays light for the guard

    if len(set(gold) | set(predicted)) < 2:
        return None
    value = float(cohen_kappa_score(gold, predicted))
    return None if math.isnan(value) else value


def kappa_interval(gold: list[bool], predicted: list[bool], groups: list[str], resamples: int = 1000,
                   seed: int = 0) -> tuple[float | None, float | None]:
    """95% percentile bootstrap interval of kappa, resampling the distinct ``groups`` (item ids) with replacement."""
    import numpy as np

    ids = sorted(set(groups))
    if len(ids) < 2:
        return None, None
    rows_of = {g: [] for g in ids}
    for n, g in enumerate(groups):
        rows_of[g].append(n)
    g_arr, p_arr = np.asarray(gold, dtype=int), np.asarray(predicted, dtype=int)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        rows = np.concatenate([rows_of[ids[k]] for k in rng.integers(0, len(ids), len(ids))])
        a, b = g_arr[rows], p_arr[rows]
        po = float((a == b).mean())
        pe = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
        if pe < 1.0:
            values.append((po - pe) / (1 - pe))
    if not values:
        return None, None
    low, high = np.quantile(values, [0.025, 0.975])
    return float(low), float(high)


def agreement(gold: list[bool], predicted: list[bool], groups: list[str] | None = None) -> Agreement:
    """Agreement of ``predicted`` with ``gold``; with ``groups`` (the item of each row), kappa gets its item-bootstrap CI."""

    tp = sum(g and p for g, p in zip(gold, predicted))
    fp = sum(p and not g for g, p in zip(gold, predicted))
    fn = sum(g and not p for g, p in zip(gold, predicted))
    tn = len(gold) - tp - fp - fn
    kappa = _kappa(gold, predicted)
    low, high = kappa_interval(gold, predicted, groups) if groups is not None and kappa is not None else (None, None)
    return Agreement(n=len(gold), accuracy=(tp + tn) / len(gold) if gold else 0.0, kappa=kappa, kappa_low=low,
                     kappa_high=high, tp=tp, fp=fp, fn=fn, tn=tn, gold_positive=tp + fn)
