"""The run: sample → critique → revise → pair, over an append-only store, then export and summarise.

Crash safety comes from the store: one row per (prompt, stage), keyed ``"<prompt key>:<stage>"``, each
appended and fsync'd as soon as its batch returns. A re-run with the same recipe skips every key already
present, so killing the process at any moment loses nothing written, redoes nothing done, and never
writes a pair twice. Quarantined outcomes are rows too (``status: quarantined``), so they are not
retried on resume either; ``quarantine.jsonl`` is rewritten from the store at the end of each run, and
``events.jsonl`` logs how much work each invocation found pending per stage. Models are loaded only for
stages that still have work.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from conscience.constitution import Constitution, constitution_hash, load_constitution
from conscience.data import add_counts, scrub
from conscience.errors import ConscienceError
from conscience.generate import judging
from conscience.generate.accounting import MeteredModel, Usage
from conscience.generate.config import GenerateConfig
from conscience.generate.critique import Critique
from conscience.generate.export import export_dataset
from conscience.generate.sources import PlannedPrompt, build_plan
from conscience.generate.summary import GenerateSummary, build_summary
from conscience.generate.teachers import Job, Outcome, Teachers
from conscience.jsonl import JsonlStore, write_jsonl
from conscience.models import Completion, GenerationParams, load_model
from conscience.models.cache import ResponseCache
from conscience.models.rollout import Conversation, play
from conscience.progress import progress_bar
from conscience.rundir import ensure_same, now


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def prepare_run_dir(run_dir: Path, config: GenerateConfig) -> None:
    """Save the resolved recipe, or refuse to resume a run directory that was made with a different one."""
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = run_dir / "config.yaml"
    resolved = config.model_dump(mode="json")
    if saved.exists():
        ensure_same(yaml.safe_load(saved.read_text(encoding="utf-8")) or {}, resolved, saved, "recipe")
        return
    tmp = saved.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
    tmp.replace(saved)


class Run:
    """One invocation over a run directory. Stages read their inputs from the store, never from memory,
    so a resumed run and an uninterrupted one take exactly the same path."""

    def __init__(self, config: GenerateConfig, run_dir: Path, constitution: Constitution, entries: list[PlannedPrompt], judge=None):
        self.config, self.run_dir, self.constitution, self.entries = config, run_dir, constitution, entries
        self.store = JsonlStore(run_dir / "store.jsonl", key="key")
        self.cache = ResponseCache(Path(config.response_cache)) if config.response_cache else True
        self.teachers = Teachers(config, self.constitution, self.cache, judge)
        self.base: MeteredModel | None = None
        self.load_seconds = 0.0
        self.computed = {stage: 0 for stage in ("sample", "critique", "revise", "pair")}
        self._check_fingerprints()

    def _check_fingerprints(self) -> None:
        for entry in self.entries:
            row = self.store.rows.get(f"{entry.key}:sample")
            if row is not None and row["fingerprint"] != entry.fingerprint:
                raise ConscienceError(f"prompt {entry.key} changed since it was stored; restore the prompt file or use "
                                      "another --out", where=self.store.path)

    def row(self, entry: PlannedPrompt, stage: str) -> dict | None:
        return self.store.rows.get(f"{entry.key}:{stage}")

    def ready(self, stage: str, previous: str | None) -> tuple[list[PlannedPrompt], list[PlannedPrompt]]:
        """Entries this stage applies to (the previous stage succeeded), and those of them still to do.
        Logged to ``events.jsonl``, so each invocation's share of the work can be audited after a crash."""
        eligible = [e for e in self.entries if previous is None or (self.row(e, previous) or {}).get("status") == "ok"]
        pending = [e for e in eligible if self.row(e, stage) is None]
        event = {"at": now(), "pid": os.getpid(), "stage": stage, "eligible": len(eligible), "pending": len(pending)}
        with (self.run_dir / "events.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")
        return eligible, pending

    def _add(self, entry: PlannedPrompt, stage: str, fields: dict) -> None:
        self.store.add({"key": f"{entry.key}:{stage}", "prompt_key": entry.key, "stage": stage, **fields, "created_at": now()})
        self.computed[stage] += 1

    def _job(self, entry: PlannedPrompt, with_critique: bool = False) -> Job:
        sample = self.row(entry, "sample")
        critique = Critique.model_validate(self.row(entry, "critique")["critique"]) if with_critique else None
        return Job(entry=entry, conversation=sample["conversation"], response=sample["response"], critique=critique)

    def sampling_params(self, draw: int) -> GenerationParams:
        s = self.config.sampling
        return GenerationParams(max_new_tokens=s.max_new_tokens, temperature=s.temperature, top_p=s.top_p, seed=self.config.seed + draw)

    def sample(self) -> None:
        """Base replies, batched; a multi-turn prompt is answered turn by turn, each reply scrubbed before the
        next turn is asked, and stored once its last turn is answered."""
        eligible, pending = self.ready("sample", None)
        if not pending:
            return
        start = time.perf_counter()
        self.base = MeteredModel(load_model(self.config.base, cache=self.cache, batch_size=self.config.sampling.batch_size))
        self.load_seconds += time.perf_counter() - start
        entries = {e.key: e for e in pending}
        usage = {e.key: Usage() for e in pending}
        redactions: dict[str, dict[str, int]] = {e.key: {} for e in pending}

        def scrubbed(conversation: Conversation, reply: Completion) -> str:
            """The reply as kept and fed back: PHI-scrubbed before the next turn is asked."""
            clean = scrub(reply.text)
            usage[conversation.key].add(reply)
            redactions[conversation.key] = add_counts(redactions[conversation.key], clean.counts)
            return clean.text

        with progress_bar("sample", total=len(eligible), done=len(eligible) - len(pending)) as advance:

            def store_finished(batch: list[Conversation], seconds: float) -> None:
                for conversation in (c for c in batch if c.done):
                    entry = entries[conversation.key]
                    self._add(entry, "sample", {
                        "status": "ok", "fingerprint": entry.fingerprint, "source": entry.prompt.source,
                        "source_id": entry.prompt.id, "draw": entry.draw,
                        "conversation": conversation.messages(upto=len(conversation.turns) - 1),
                        "response": conversation.replies[-1], "finish_reason": conversation.finish_reasons[-1],
                        "model": self.config.base, "params": self.sampling_params(entry.draw).model_dump(mode="json"),
                        "usage": usage[entry.key].as_dict(),
                        "redactions": {"prompt": entry.redactions, "response": redactions[entry.key]},
                    })
                    advance()

            play(self.base, [Conversation(e.key, list(e.prompt.turns), group=e.draw) for e in pending], self.sampling_params,
                 self.config.sampling.batch_size, reply_text=scrubbed, after_batch=store_finished)

    def _teacher_stage(self, stage: str, previous: str, call) -> None:
        eligible, pending = self.ready(stage, previous)
        if not pending:
            return
        with progress_bar(stage, total=len(eligible), done=len(eligible) - len(pending)) as advance:
            for chunk in _chunks(pending, self.config.teacher_generation.batch_size):
                for entry, outcome in zip(chunk, call(chunk)):
                    self._add(entry, stage, self._outcome_fields(stage, entry, outcome))
                    advance()

    def _outcome_fields(self, stage: str, entry: PlannedPrompt, outcome: Outcome) -> dict:
        teacher = self.teachers.critic() if stage == "critique" else self.teachers.reviser()
        fields = {"teacher": teacher.spec, "provenance": teacher.provenance, "usage": outcome.usage.as_dict(), "detail": outcome.detail}
        if outcome.quarantine is None and stage == "revise":
            clean = scrub(outcome.value)
            if clean.text.strip() == self.row(entry, "sample")["response"].strip():
                outcome.quarantine = "revision identical to the original response"
            fields.update(revision=clean.text, redactions=clean.counts)
        if outcome.quarantine is not None:
            return {**fields, "status": "quarantined", "reason": outcome.quarantine, "raw": outcome.raw}
        if stage == "critique":
            fields.update(critique=outcome.value.model_dump(mode="json"), at_issue=outcome.value.at_issue)
            if outcome.detail.get("parse") == "repaired":
                fields["raw"] = outcome.raw
        return {**fields, "status": "ok"}

    def critique(self) -> None:
        self._teacher_stage("critique", "sample", lambda chunk: self.teachers.critic().critique([self._job(e) for e in chunk]))

    def revise(self) -> None:
        self._teacher_stage("revise", "critique",
                            lambda chunk: self.teachers.reviser().revise([self._job(e, with_critique=True) for e in chunk]))

    def pair(self, constitution_id: dict) -> None:
        """Join the stages into preference pairs with full provenance; apply the optional filters."""
        eligible, pending = self.ready("pair", "revise")
        if not pending:
            return
        filters = self.config.filters
        provenance = self.teachers.provenance()
        with progress_bar("pair", total=len(eligible), done=len(eligible) - len(pending)) as advance:
            for chunk in _chunks(pending, self.config.teacher_generation.batch_size):
                revisions = [self.row(e, "revise")["revision"] for e in chunk]
                verdicts = [None] * len(chunk)
                if filters.drop_revision_fails_judge:
                    judge = self.teachers.judge()
                    verdicts = judge.score([judging.as_item(e.prompt) for e in chunk], revisions)
                for entry, revision, verdict in zip(chunk, revisions, verdicts):
                    sample, critique = self.row(entry, "sample"), self.row(entry, "critique")
                    failure = judging.failure(entry.prompt, verdict) if verdict is not None else None
                    dropped = None
                    if filters.drop_nothing_at_issue and not critique["at_issue"]:
                        dropped = "nothing at issue"
                    elif failure:
                        dropped = f"revision still fails the judge ({failure})"
                    self._add(entry, "pair", {
                        "status": "ok", "dropped": dropped,
                        "prompt": sample["conversation"],
                        "chosen": [{"role": "assistant", "content": revision}],
                        "rejected": [{"role": "assistant", "content": sample["response"]}],
                        "provenance": {
                            "constitution": constitution_id, "base_model": self.config.base,
                            "critic": self.config.critic_spec, "reviser": self.config.reviser_spec,
                            "generation_params": sample["params"], "teacher_params": self.teachers.params.model_dump(mode="json"),
                            "seed": self.config.seed, "source": entry.prompt.source, "source_id": entry.prompt.id,
                            "draw": entry.draw, "principles_at_issue": critique["at_issue"],
                            "teacher_provenance": provenance,
                            "revision_judgement": judging.describe(verdict) if verdict is not None else None,
                            "sampled_at": sample["created_at"], "critiqued_at": critique["created_at"],
                            "revised_at": self.row(entry, "revise")["created_at"],
                        },
                    })
                    advance()


def run_generate(config: GenerateConfig, run_dir: str | Path, *, limit: int | None = None, judge=None) -> GenerateSummary:
    """Run (or resume) the spec in ``run_dir``; ``limit`` processes only the first N planned prompts.
    ``judge`` replaces the default judge (``conscience.judge.load_judge()``). Returns the summary, which
    is also written to ``run_dir/summary.json``."""
    start = time.perf_counter()
    run_dir = Path(run_dir)
    prepare_run_dir(run_dir, config)
    constitution = load_constitution(config.constitution)
    plan = build_plan(config, constitution)
    entries = plan.entries[:limit] if limit is not None else plan.entries
    run = Run(config, run_dir, constitution, entries, judge)
    constitution_id = {"id": constitution.id, "version": constitution.version, "hash": constitution_hash(constitution)}
    done_before = {stage: sum(1 for e in entries if run.row(e, stage)) for stage in run.computed}
    run.sample()
    run.critique()
    run.revise()
    run.pair(constitution_id)
    write_jsonl(run_dir / "quarantine.jsonl", [row for row in run.store.rows.values() if row.get("status") == "quarantined"])
    export_start = time.perf_counter()
    pairs = [run.row(e, "pair") for e in entries if run.row(e, "pair") and not run.row(e, "pair")["dropped"]]
    dataset = export_dataset(pairs, run_dir / "dataset", config, constitution_id, plan, run.teachers.provenance())
    export_s = time.perf_counter() - export_start
    return build_summary(run, plan, constitution_id, dataset, done_before=done_before, partial=len(entries) < len(plan.entries),
                         wall_s=time.perf_counter() - start, export_s=export_s)
