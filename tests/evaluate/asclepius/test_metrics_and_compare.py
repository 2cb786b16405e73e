"""Metrics pinned on synthetic item rows, and `eval compare` on two synthetic run folders."""

import json

import pytest
from typer.testing import CliRunner

from conscience.cli.eval_safety import app
from conscience.evaluate.asclepius import compare_runs
from conscience.evaluate.asclepius.metrics import render_markdown, summarise
from conscience.jsonl import write_jsonl

runner = CliRunner()


def row(id_, surface, unsafe=False, refused=False, correct=None, twin_correct=None, first_unsafe=None, break_turn=None, turns=1):
    twin = None if twin_correct is None else {"correct": twin_correct}
    return {"id": id_, "surface": surface, "unsafe": unsafe or first_unsafe is not None, "refused": refused, "correct": correct,
            "twin": twin, "first_unsafe_turn": first_unsafe, "break_turn": break_turn, "turns": ["u"] * turns}


def synthetic_rows():
    rows = [row(f"dh-{i}", "direct_harm", unsafe=i < 3) for i in range(10)]
    rows += [row(f"cr-{i}", "crescendo", first_unsafe=t, break_turn=3, turns=4) for i, t in enumerate([2, 3, None, 4])]
    rows += [row(f"sy-{i}", "sycophancy", correct=i < 3, twin_correct=i < 8) for i in range(10)]
    rows += [row(f"sc-{i}", "safe_control", refused=i == 0) for i in range(5)]
    return rows


def test_rates_cis_delta_and_crescendo_are_pinned():
    summary = summarise(synthetic_rows(), {"model": "synthetic"})
    harm = summary.per_surface["direct_harm"]
    assert (harm.rate, harm.k, harm.n) == (0.3, 3, 10)
    assert harm.ci_low < 0.3 < harm.ci_high and harm.wilson_low < 0.3 < harm.wilson_high
    assert list(summary.per_surface) == ["direct_harm", "sycophancy", "crescendo", "safe_control"]
    assert (summary.unsafe_rate.k, summary.unsafe_rate.n) == (6, 24)  # safe controls excluded
    assert summary.unsafe_rate.ci_low < summary.unsafe_rate.rate < summary.unsafe_rate.ci_high
    assert (summary.helpfulness_floor.k, summary.helpfulness_floor.n) == (1, 5)
    delta = summary.sycophancy_delta
    assert delta.delta == pytest.approx(0.5) and 0 < delta.ci_low < 0.5 < delta.ci_high
    assert (delta.accuracy_neutral.rate, delta.accuracy_asserted.rate) == (0.8, 0.3)
    assert delta.mcnemar_p == pytest.approx(0.0625)
    cres = summary.crescendo
    assert (cres.success.k, cres.success.n) == (3, 4)
    assert cres.first_unsafe_turn == {"2": 1, "3": 1, "4": 1}
    assert cres.vs_break_turn == {"before": 1, "at": 1, "after": 1, "no_break_turn": 0, "never": 1}
    assert summary.bootstrap == {"method": "percentile bootstrap over items", "n_resamples": 10_000, "seed": 0, "level": 0.95}
    text = render_markdown(summary)
    assert "| direct_harm | 0.300 [" in text and "**Sycophancy delta**" in text and "+0.500" in text


def test_all_zero_rate_keeps_an_informative_wilson_interval():
    summary = summarise([row(f"dh-{i}", "direct_harm") for i in range(32)], {})
    harm = summary.unsafe_rate
    assert (harm.rate, harm.ci_low, harm.ci_high) == (0.0, 0.0, 0.0) and harm.wilson_high > 0.05
    assert summary.helpfulness_floor is None and summary.sycophancy_delta is None and summary.crescendo is None


def write_run(folder, unsafe_ids, ids):
    write_jsonl(folder / "items.jsonl", [row(i, "direct_harm", unsafe=i in unsafe_ids) for i in ids])
    return folder


def test_compare_paired_runs_uses_mcnemar_and_a_ratio_ci(tmp_path):
    ids = [f"dh-{i}" for i in range(20)]
    a = write_run(tmp_path / "a", set(ids[:10]), ids)
    b = write_run(tmp_path / "b", set(ids[:2]), ids)
    result = compare_runs(a, b)
    overall = result.rows[-1]
    assert [r.surface for r in result.rows] == ["direct_harm", "overall (attack surfaces)"]
    assert overall.test.startswith("McNemar") and overall.p_value == pytest.approx(2 * 0.5**8)
    assert overall.significant and overall.ratio == pytest.approx(0.2)
    assert overall.ratio_ci_low < 0.2 < overall.ratio_ci_high < 1.0
    cli = runner.invoke(app, ["compare", str(a), str(b), "--out", str(tmp_path / "cmp.json")])
    assert cli.exit_code == 0 and "McNemar exact (paired items)" in cli.output and "0.20 [" in cli.output
    assert json.loads((tmp_path / "cmp.json").read_text())["rows"][0]["significant"] is True


def test_compare_unpaired_runs_uses_fisher_test_and_zero_baseline_has_no_ratio(tmp_path):
    a = write_run(tmp_path / "a", set(), [f"dh-{i}" for i in range(20)])
    b = write_run(tmp_path / "b", {"dh-x1"}, ["dh-x1", "dh-x2"])
    result = compare_runs(a, b)
    row_ = result.rows[0]
    assert row_.test.startswith("Fisher exact two-proportion") and not row_.significant
    assert row_.p_value == pytest.approx(2 / 22)
    assert row_.ratio is None and row_.ratio_ci_low is None and row_.ratio_resamples_defined == 0
    assert "undefined (A is 0)" in runner.invoke(app, ["compare", str(a), str(b)]).output
    missing = runner.invoke(app, ["compare", str(a), str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "not an Asclepius run folder" in missing.output
