"""The project's shared statistics: confidence intervals, exact tests against chance, paired comparisons.

Every evaluation stage reports a number with its interval and, where it matters, a test, so this module is
the one place those formulas live. All functions are pure (numbers in, numbers out) and deterministic:
bootstrap resampling takes an explicit ``seed``.

Public API
----------
- :func:`wilson_ci` — interval for a proportion (k successes of n). Preferred over the normal
  approximation because it stays inside [0, 1] and behaves at small n and near 0 or 1.
- :func:`bootstrap_ci` — percentile bootstrap interval for the mean (or any statistic) of per-item values.
- :func:`binomial_test` — exact binomial test of k successes of n against rate p.
- :func:`poisson_binomial_sf` — exact P(X ≥ k) when item i succeeds with its own probability p_i
  (chance when questions have different numbers of options).
- :func:`mcnemar_exact` — exact McNemar test on the discordant pairs of two paired binary outcomes.
- :func:`paired_difference` — mean difference B − A over the same items with a paired bootstrap CI,
  plus McNemar when both are binary.
- :func:`fisher_exact_test` — two-sided exact test of two rates from independent samples.
- :func:`ratio_ci` — bootstrap interval of a ratio of two means (paired or independent), with the number
  of resamples in which it was defined.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as _scipy_stats

Alternative = Literal["greater", "less", "two-sided"]


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` at confidence ``level`` (0.95 = 95%)."""

    low: float
    high: float
    level: float = 0.95

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def _z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    return float(_scipy_stats.norm.ppf(0.5 + level / 2.0))


def wilson_ci(successes: int, n: int, level: float = 0.95) -> Interval:
    """Wilson score interval for a proportion; ``n == 0`` gives the uninformative [0, 1]."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return Interval(0.0, 1.0, level)
    z = _z(level)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Clamp rounding noise so k=0 gives exactly 0 and k=n exactly 1.
    return Interval(max(0.0, centre - half), min(1.0, centre + half), level)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
    level: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of ``statistic`` (default: the mean) over items resampled with replacement.

    ``statistic`` receives a 2-D array (resamples × items) and must reduce along axis 1.
    """
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0:
        raise ValueError("bootstrap_ci needs a non-empty 1-D sequence of values")
    _z(level)
    reduce = statistic or (lambda sample: sample.mean(axis=1))
    rng = np.random.default_rng(seed)
    estimates = np.empty(n_resamples, dtype=float)
    # Chunked so 10k resamples of a few thousand items never need a huge index matrix.
    chunk = max(1, 2_000_000 // data.size)
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        idx = rng.integers(0, data.size, size=(stop - start, data.size))
        estimates[start:stop] = reduce(data[idx])
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail])
    return Interval(float(low), float(high), level)


def binomial_test(successes: int, n: int, p: float, alternative: Alternative = "greater") -> float:
    """Exact binomial test p-value of ``successes`` out of ``n`` against success rate ``p``.

    ``"greater"`` (the default) asks whether the observed rate is above ``p``, which is the question
    "is this accuracy better than chance?".
    """
    if n <= 0:
        return 1.0
    return float(_scipy_stats.binomtest(successes, n, p, alternative=alternative).pvalue)


def poisson_binomial_sf(successes: int, probs: Sequence[float]) -> float:
    """Exact P(X ≥ successes) where X is a sum of independent Bernoulli(p_i).

    This is the one-sided test against chance when items have different chance rates (a mix of
    4- and 5-option questions); with equal p_i it equals :func:`binomial_test` with ``"greater"``.
    """
    dist = np.zeros(len(probs) + 1)
    dist[0] = 1.0
    for i, p in enumerate(probs, start=1):
        dist[1 : i + 1] = dist[1 : i + 1] * (1 - p) + dist[0:i] * p
        dist[0] *= 1 - p
    if successes <= 0:
        return 1.0
    return float(min(1.0, dist[successes:].sum()))


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts.

    ``only_a``: items A got right and B wrong; ``only_b``: the reverse. Items both got right or both wrong
    carry no information about which is better and do not enter the test.
    """
    discordant = only_a + only_b
    if discordant == 0:
        return 1.0
    return float(_scipy_stats.binomtest(only_a, discordant, 0.5, alternative="two-sided").pvalue)


@dataclass(frozen=True)
class PairedDifference:
    """B − A over the same items: the mean difference, its paired-bootstrap CI, and McNemar if binary."""

    n: int
    mean_a: float
    mean_b: float
    difference: float
    ci: Interval
    only_a: int | None = None
    only_b: int | None = None
    mcnemar_p: float | None = None


def paired_difference(
    a: Sequence[float], b: Sequence[float], level: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> PairedDifference:
    """Compare two systems scored on the same items, item i in ``a`` paired with item i in ``b``.

    Scores may be binary (right/wrong) or fractional (e.g. share of rotations right). The CI resamples
    items, keeping each pair together, which is what makes it a paired interval.
    """
    a_arr = np.asarray(a, dtype=float)
    b_arr = np.asarray(b, dtype=float)
    if a_arr.shape != b_arr.shape or a_arr.ndim != 1 or a_arr.size == 0:
        raise ValueError("paired_difference needs two non-empty 1-D sequences of the same length")
    diffs = b_arr - a_arr
    ci = bootstrap_ci(diffs, level=level, n_resamples=n_resamples, seed=seed)
    binary = bool(np.isin(a_arr, (0.0, 1.0)).all() and np.isin(b_arr, (0.0, 1.0)).all())
    only_a = only_b = None
    p_value = None
    if binary:
        only_a = int(((a_arr == 1) & (b_arr == 0)).sum())
        only_b = int(((a_arr == 0) & (b_arr == 1)).sum())
        p_value = mcnemar_exact(only_a, only_b)
    return PairedDifference(
        n=int(a_arr.size),
        mean_a=float(a_arr.mean()),
        mean_b=float(b_arr.mean()),
        difference=float(diffs.mean()),
        ci=ci,
        only_a=only_a,
        only_b=only_b,
        mcnemar_p=p_value,
    )


def fisher_exact_test(successes_a: int, n_a: int, successes_b: int, n_b: int) -> float:
    """Two-sided Fisher exact p-value for "rate A equals rate B" when A and B are independent samples.

    Used when two runs did not score the same items (otherwise :func:`mcnemar_exact` is the right test).
    Exact rather than the z-test because benchmark surfaces are small (32 items) and rates are often
    near 0, where the normal approximation claims significance it does not have.
    """
    if n_a <= 0 or n_b <= 0:
        return 1.0
    table = [[successes_a, n_a - successes_a], [successes_b, n_b - successes_b]]
    return float(_scipy_stats.fisher_exact(table, alternative="two-sided").pvalue)


def ratio_ci(
    a: Sequence[float], b: Sequence[float], paired: bool, level: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> tuple[Interval | None, int]:
    """Percentile bootstrap interval of mean(b) / mean(a) (e.g. "B's unsafe rate is 0.4× A's").

    ``paired`` resamples items jointly (item i of ``a`` with item i of ``b``); otherwise each side is
    resampled on its own. A resample where mean(a) is 0 has no ratio and is dropped; the number of
    resamples that had one is returned with the interval (``None`` if none did), so a reader can see
    when an interval rests on few of them.
    """
    a_arr = np.asarray(a, dtype=float)
    b_arr = np.asarray(b, dtype=float)
    if a_arr.ndim != 1 or b_arr.ndim != 1 or a_arr.size == 0 or b_arr.size == 0 or (paired and a_arr.shape != b_arr.shape):
        raise ValueError("ratio_ci needs two non-empty 1-D sequences (of the same length when paired)")
    _z(level)
    rng = np.random.default_rng(seed)
    mean_a, mean_b = np.empty(n_resamples), np.empty(n_resamples)
    chunk = max(1, 2_000_000 // max(a_arr.size, b_arr.size))
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        idx_a = rng.integers(0, a_arr.size, size=(stop - start, a_arr.size))
        idx_b = idx_a if paired else rng.integers(0, b_arr.size, size=(stop - start, b_arr.size))
        mean_a[start:stop], mean_b[start:stop] = a_arr[idx_a].mean(axis=1), b_arr[idx_b].mean(axis=1)
    defined = mean_a > 0
    if not defined.any():
        return None, 0
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(mean_b[defined] / mean_a[defined], [tail, 1.0 - tail])
    return Interval(float(low), float(high), level), int(defined.sum())
