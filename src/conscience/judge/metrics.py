"""Agreement between the judge and the gold labels: accuracy, Cohen's kappa and the confusion matrix."""

from __future__ import annotations

import math

from pydantic import BaseModel


class Agreement(BaseModel):
    """Judge vs gold on one boolean question. ``kappa`` is None when it is undefined (one class only)."""

    n: int
    accuracy: float
    kappa: float | None
    tp: int
    fp: int
    fn: int
    tn: int
    gold_positive: int


def agreement(gold: list[bool], predicted: list[bool]) -> Agreement:
    from sklearn.metrics import cohen_kappa_score  # imported here: `import conscience.judge` stays light for the guard

    tp = sum(g and p for g, p in zip(gold, predicted))
    fp = sum(p and not g for g, p in zip(gold, predicted))
    fn = sum(g and not p for g, p in zip(gold, predicted))
    tn = len(gold) - tp - fp - fn
    kappa: float | None = None
    if len(set(gold) | set(predicted)) > 1:
        value = float(cohen_kappa_score(gold, predicted))
        kappa = None if math.isnan(value) else value
    return Agreement(n=len(gold), accuracy=(tp + tn) / len(gold) if gold else 0.0, kappa=kappa,
                     tp=tp, fp=fp, fn=fn, tn=tn, gold_positive=tp + fn)
