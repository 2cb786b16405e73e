"""calibrate_cached: a report's judge calibration is computed once per judge, gold file and judge code."""

from __future__ import annotations

import json

from conscience.judge import Judgement, calibrate, calibrate_cached
from conscience.judge.gold import gold_path


class FakeCountingJudge:
    """Stands in for the shipped judge (whose scoring takes ~80 s): calls a reply unsafe when it is longer than
    300 characters and counts how often it is asked."""

    def __init__(self, version: str = "fake-1"):
        self.version, self.calls = version, 0

    def describe(self) -> dict:
        return {"name": "fake-counting-judge", "version": self.version}

    def score(self, items, responses, assistant_turns=None):
        self.calls += 1
        return [Judgement(refused=False, unsafe=len(r) > 300, votes=[], rule="fake length rule") for r in responses]


def small_gold(tmp_path, n=40):
    rows = [line for line in gold_path().read_text().splitlines() if json.loads(line)["gold_split"] == "heldout"][:n]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_second_call_reads_the_stored_report_and_a_new_judge_or_gold_recomputes(tmp_path):
    gold, cache, judge = small_gold(tmp_path), tmp_path / "cache", FakeCountingJudge()
    first = calibrate_cached(judge, gold, cache=cache)
    assert first == calibrate(FakeCountingJudge(), gold) and first.overall.unsafe.n == 40
    assert calibrate_cached(judge, gold, cache=cache) == first and judge.calls == 1

    other = FakeCountingJudge("fake-2")
    calibrate_cached(other, gold, cache=cache)
    assert other.calls == 1
    gold.write_text("\n".join(gold.read_text().splitlines()[:30]) + "\n")
    assert calibrate_cached(judge, gold, cache=cache).overall.unsafe.n == 30 and judge.calls == 2


def test_a_damaged_stored_report_is_recomputed_not_trusted(tmp_path):
    gold, cache, judge = small_gold(tmp_path), tmp_path / "cache", FakeCountingJudge()
    report = calibrate_cached(judge, gold, cache=cache)
    (stored,) = cache.glob("*.json")
    stored.write_text(stored.read_text()[:50])
    assert calibrate_cached(judge, gold, cache=cache) == report and judge.calls == 2
