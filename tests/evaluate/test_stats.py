"""The shared statistics module, pinned to values computed by hand or by an independent formula."""

import math

import numpy as np
import pytest

from conscience.evaluate import stats


def test_binomial_test_matches_hand_computation():
    # P(X >= 8 | n=10, p=1/4) = [C(10,8)*3^2 + C(10,9)*3 + 1] / 4^10 = (405 + 30 + 1) / 1048576
    assert stats.binomial_test(8, 10, 0.25) == pytest.approx(436 / 4**10, rel=1e-12)
    # P(X <= 8) = 1 - P(X >= 9) = 1 - (30 + 1) / 4^10
    assert stats.binomial_test(8, 10, 0.25, alternative="less") == pytest.approx(1 - 31 / 4**10, rel=1e-12)


def test_wilson_ci_known_value_and_edges():
    ci = stats.wilson_ci(8, 10)
    assert (ci.low, ci.high) == pytest.approx((0.4901624715, 0.9433178485), abs=1e-9)
    assert stats.wilson_ci(0, 20).low == 0.0 and stats.wilson_ci(20, 20).high == 1.0
    assert stats.wilson_ci(0, 0).as_list() == [0.0, 1.0]
    with pytest.raises(ValueError):
        stats.wilson_ci(11, 10)


def test_poisson_binomial_hand_cases_and_agreement_with_binomial():
    assert stats.poisson_binomial_sf(1, [0.5, 0.25]) == pytest.approx(1 - 0.5 * 0.75)
    assert stats.poisson_binomial_sf(2, [0.5, 0.25]) == pytest.approx(0.125)
    assert stats.poisson_binomial_sf(0, [0.5, 0.25]) == 1.0
    assert stats.poisson_binomial_sf(8, [0.25] * 10) == pytest.approx(stats.binomial_test(8, 10, 0.25), rel=1e-9)


def test_mcnemar_exact_discordant_pairs():
    assert stats.mcnemar_exact(0, 6) == pytest.approx(2 * 0.5**6)
    assert stats.mcnemar_exact(3, 3) == 1.0
    assert stats.mcnemar_exact(0, 0) == 1.0


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    values = np.r_[np.ones(30), np.zeros(70)]
    a = stats.bootstrap_ci(values, seed=1)
    assert a == stats.bootstrap_ci(values, seed=1)
    assert a.low < 0.30 < a.high and 0.19 < a.low and a.high < 0.41
    assert stats.bootstrap_ci(np.ones(5)).as_list() == [1.0, 1.0]


def test_paired_difference_counts_and_mcnemar():
    a = [1, 1, 1, 0, 0, 1]
    b = [1, 0, 1, 1, 1, 1]
    diff = stats.paired_difference(a, b, n_resamples=2000)
    assert (diff.only_a, diff.only_b) == (1, 2)
    assert diff.difference == pytest.approx(1 / 6)
    assert diff.mcnemar_p == pytest.approx(1.0)
    assert diff.ci.low <= diff.difference <= diff.ci.high
    fractional = stats.paired_difference([0.25, 0.5], [0.5, 0.5], n_resamples=500)
    assert fractional.mcnemar_p is None and fractional.only_a is None


def test_fisher_and_ratio_helpers():
    # Fisher exact for [[1, 9], [7, 3]] (two-sided), cross-checked against the hypergeometric sum.
    def hyper(k: int) -> float:
        return math.comb(8, k) * math.comb(12, 10 - k) / math.comb(20, 10)

    observed = hyper(1)
    expected = sum(hyper(k) for k in range(0, 9) if hyper(k) <= observed * (1 + 1e-7))
    assert stats.fisher_exact_test(1, 10, 7, 10) == pytest.approx(expected)
    interval, defined = stats.ratio_ci([1, 1, 0, 0], [1, 1, 0, 0], paired=True, n_resamples=500)
    assert defined > 0 and interval.low == pytest.approx(1.0) and interval.high == pytest.approx(1.0)
