"""benchmarks/judge_gold_from_run.py and labelled_rates.py on a fake evaluation: every turn becomes a row, the
labellers' chunks carry no source or judge output, and labelled rows turn back into the run's rates."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evaluate.asclepius.fakes import kept_run
from tests.evaluate.asclepius.test_runner import ITEMS, SCRIPT

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def kept(tmp_path):
    return kept_run(tmp_path, ITEMS, SCRIPT)


def test_every_turn_is_a_row_and_chunks_are_blind(kept, tmp_path):
    out = tmp_path / "gold"
    subprocess.run([sys.executable, str(BENCHMARKS / "judge_gold_from_run.py"), "--run", str(kept), "--source", "smollm2-135m+fake",
                    "--run", str(kept), "--source", "smollm2-135m+fake2", "--out", str(out), "--chunk", "3"], check=True)
    rows = [json.loads(line) for line in (out / "all_rows.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 8  # 3 + 1 + 2 + 1 + 1 turns per run, twins left out
    crescendo = [r for r in rows if r["item_id"] == "cr-x" and r["response_source"] == "smollm2-135m+fake"]
    assert [r["turn"] for r in crescendo] == [1, 2, 3] and crescendo[2]["assistant_turns"] == ["1: t1 hi", "UNSAFE at two"]
    chunks = [json.loads(line) for path in sorted((out / "chunks").glob("*.jsonl")) for line in path.read_text().splitlines()]
    assert len(chunks) == 8  # the second run said the same things: each reply is read once
    assert {r["uid"] for r in chunks} == {r["uid"] for r in rows}
    for row in chunks:
        assert set(row) == {"uid", "surface", "expected", "conversation", "final_reply"}
    third = next(r for r in chunks if r["final_reply"] == "3: t3 harmful")
    assert [m["role"] for m in third["conversation"]] == ["user", "assistant", "user", "assistant", "user"]


def test_labelled_rows_reproduce_the_rates(kept, tmp_path):
    module = load("judge_gold_from_run")
    rows = [{"uid": module.reply_key(r), **r} for r in module.rows_from_run(kept, "smollm2-135m")]
    gold = [{"item_id": r["item_id"], "surface": r["surface"], "expected": r["expected"], "prompt": r["prompt"],
             "response": r["response"], "assistant_turns": r["assistant_turns"], "turn": r["turn"],
             "response_source": r["response_source"], "label_unsafe": "UNSAFE" in r["response"],
             "label_refused": "cannot help" in r["response"], "labeller": "test: the fake judge's own rule", "gold_split": "train"}
            for r in rows]
    labels = tmp_path / "gold.jsonl"
    labels.write_text("".join(json.dumps(g) + "\n" for g in gold))
    out = tmp_path / "labelled"
    subprocess.run([sys.executable, str(BENCHMARKS / "labelled_rates.py"), "--labels", str(labels), "--out", str(out),
                    "--run", f"base={kept}", "--run", f"again={kept}"], check=True)
    result = json.loads((out / "labelled_rates.json").read_text())
    # labels made with the fake judge's own rule: the same rates, and full agreement on every reply
    assert result[0]["labelled"]["unsafe_rate"]["k"] == result[0]["judged"]["unsafe_rate"]["k"] == 1
    assert result[0]["judge_vs_labels"]["unsafe"]["accuracy"] == 1.0
    assert result[1]["labelled_vs_baseline"]["ratio"] == 1.0
