"""Crash safety, proven the hard way: SIGKILL a real `conscience generate` process mid-sampling, then again
mid-critique, re-run the same command, and check that nothing written was lost, nothing done was redone,
and no row (so no pair) was written twice.

Both the base model and the teacher are served by FakeTeacherServer (slowed down so the kills land
mid-stage): this test is about the store and resume logic, and the real bundled model is exercised by the
other end-to-end tests; serving it over HTTP keeps three process starts affordable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.generate.fake_teacher import FakeTeacherServer

N = 8


def _count(store: Path, stage: str) -> int:
    if not store.exists():
        return 0
    return sum(1 for line in store.read_bytes().split(b"\n") if line.endswith(b"}") and f':{stage}"'.encode() in line[:200])


def _run_until(command: list[str], store: Path, stage: str, rows: int, timeout: float = 90.0) -> bytes:
    """Start the CLI, SIGKILL it once ``rows`` rows of ``stage`` are in the store; return the store's intact lines."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while _count(store, stage) < rows:
        assert process.poll() is None, f"run ended before it could be killed: {process.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, "run too slow to reach the kill point"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    data = store.read_bytes()
    return data[: data.rfind(b"\n") + 1]  # a torn last line is allowed; the store truncates it on reopen


def test_sigkill_mid_run_loses_nothing_and_redoes_nothing(write_recipe, write_prompts, tmp_path):
    prompts = write_prompts([f"Question {n}: how long should a cough last before I see a doctor about it?" for n in range(N)])
    recipe = write_recipe([{"name": "mine", "kind": "jsonl", "path": str(prompts), "weight": 1}], size=N,
                          sampling={"max_new_tokens": 16, "batch_size": 2},
                          teacher_generation={"batch_size": 2, "concurrency": 2})
    run, store = tmp_path / "run", tmp_path / "run" / "store.jsonl"
    with FakeTeacherServer(delay=0.3) as server:
        command = [sys.executable, "-m", "conscience.cli.generate", "--recipe", str(recipe), "--out", str(run),
                   "--base", f"openai:fake-base@{server.base_url}", "--teacher", f"openai:fake-teacher@{server.base_url}"]
        after_first_kill = _run_until(command, store, "sample", 2)
        sampled = _count(store, "sample")
        assert 2 <= sampled < N
        after_second_kill = _run_until(command, store, "critique", 2)
        critiqued = _count(store, "critique")
        assert _count(store, "sample") == N and 2 <= critiqued < N
        teacher_before = sum(r["model"] == "fake-teacher" for r in server.requests)
        finished = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr[-2000:]
        teacher_last_run = sum(r["model"] == "fake-teacher" for r in server.requests) - teacher_before
        base_requests = sum(r["model"] == "fake-base" for r in server.requests)

    final = store.read_bytes()
    assert final.startswith(after_first_kill) and final.startswith(after_second_kill)  # nothing written was lost or rewritten
    keys = [json.loads(line)["key"] for line in final.decode().splitlines()]
    assert len(keys) == len(set(keys)) == 4 * N  # one row per (prompt, stage): no duplicates, no pair twice

    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert [e["pending"] for e in events if e["stage"] == "sample"] == [N, N - sampled, 0]
    # Stored replies are never asked for again; only the batch in flight at the kill may be (2 requests at most).
    assert N <= base_requests <= N + 2

    summary = json.loads((run / "summary.json").read_text())
    assert summary["pairs"] == N
    assert summary["stages"]["sample"] == {"done_before": N, "computed_this_run": 0}
    assert summary["models"]["base"]["cache_this_run"] is None  # base model not even loaded in the last run
    assert summary["stages"]["critique"] == {"done_before": critiqued, "computed_this_run": N - critiqued}
    assert (N - critiqued) + N <= teacher_last_run <= (N - critiqued) + N + 2
