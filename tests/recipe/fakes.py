"""Test doubles for the recipe tests: a finished generate stage's record, a chat model that records what it is
sent, and a trainer that writes a finished run's files without training."""

from __future__ import annotations

import json
from pathlib import Path

from conscience.generate import GenerateSummary
from conscience.models import Completion


def write_generate_summary(folder: Path) -> None:
    """The summary.json of a finished generate stage (the report reads it; nothing else does)."""
    role = {"spec": "authored:clinical-v0.1", "calls": 0, "cached_calls": 0, "prompt_tokens": 0, "completion_tokens": 0,
            "cost_usd": "n/a (authored)", "cache_this_run": None}
    summary = GenerateSummary.model_validate({
        "run_dir": str(folder), "partial": False, "planned_prompts": 0, "prompts_in_run": 0, "pairs": 0,
        "constitution": {"id": "clinical-constitution", "version": "0.1.0", "hash": "x"}, "teacher_provenance": {},
        "sources": {}, "principles_at_issue": {}, "quarantine": {},
        "filters": {"drop_revision_fails_judge": False, "drop_nothing_at_issue": False, "dropped": {}},
        "redactions": {"prompts": {}, "responses": {}, "revisions": {}, "total": 0},
        "contamination": {"checked_prompts": 0, "held_out_items": 0, "method": "exact", "closest": "", "excluded": []},
        "models": {"base": role, "critic": role, "reviser": role, "judge_calls_this_run": 0},
        "stages": {}, "timing": dict.fromkeys(("wall_s", "model_s", "judge_s", "model_load_s", "export_s", "overhead_s",
                                               "overhead_fraction"), 0.0),
        "dataset": {"path": None, "train": 0, "validation": 0, "note": "no pairs to export yet"},
    })
    folder.mkdir(parents=True, exist_ok=True)
    summary.write(folder / "summary.json")


class RecordingChatModel:
    """Fake chat model: answers "Answer: A" to everything (a MedQA letter, and a reply the fake judge finds safe)
    and keeps every conversation it is sent in ``seen``."""

    def __init__(self, spec: str):
        self.spec = spec
        self.seen: list[list[dict]] = []

    def generate(self, conversations, params):
        self.seen += [list(c) for c in conversations]
        return [Completion(text="Answer: A") for _ in conversations]


class FakeTrain:
    """Fake of ``conscience.train.train``: writes what a finished run leaves (adapter/, run.json with base and
    reference, merged/ when asked) and records each call as ``(method, base_spec, merge)``. ``fail_on`` makes
    the call for that method raise once, as an interrupted run would."""

    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple[str, str, bool]] = []
        self.fail_on = fail_on

    def __call__(self, config, pairs, base_spec, out_dir, *, merge=False, callbacks=(), precision=None):
        from conscience.train import TrainResult

        method, out = config.method, Path(out_dir)
        self.calls.append((method, base_spec, merge))
        (out / "adapter").mkdir(parents=True, exist_ok=True)
        if method == self.fail_on:
            self.fail_on = None
            raise KeyboardInterrupt
        reference = None if method in ("sft", "simpo") else base_spec
        (out / "run.json").write_text(json.dumps({"base": base_spec, "reference": reference}))
        if merge:
            (out / "merged").mkdir(exist_ok=True)
            (out / "merged" / "config.json").write_text("{}")
        return TrainResult(method=method, profile=config.name, base=base_spec, base_folder="fake", reference=reference, out_dir=out,
                           adapter_dir=out / "adapter", data_source=str(pairs), data_hash="fake", train_pairs=2, validation_pairs=1,
                           held_out=True, global_step=1, max_steps=1, resumed_from_step=None, best_checkpoint=None,
                           train_runtime_s=0.0, merged_dir=out / "merged" if merge else None)


def fixed_calibration() -> dict:
    """Stands in for the shipped judge's calibration (tens of seconds, nothing to do with assembly)."""
    return {"part": "heldout", "n": 1, "gold_sha256": "x", "unsafe_kappa": 1.0, "refused_kappa": 1.0, "unsafe_accuracy": 1.0,
            "headline": {"all": {"n": 1, "unsafe_kappa": 1.0, "ci": [None, None], "labeller_kappa": None}}}
