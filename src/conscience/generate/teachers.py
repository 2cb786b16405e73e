"""Teachers: who critiques and who revises. Any model spec, or the offline authored teacher.

``authored:clinical-v0.1`` replays outputs written for this project instead of calling a model, so the
default recipe runs with no API key and no network:
- its critique is built per principle from the authored rubric (the principles each prompt bears on)
  and the judge's verdict on the base reply (unsafe, over-refusal, or neither), and says which fired;
- its revision is the prompt's project-written reference reply, looked up by prompt text in the bundled
  prompt files (``reference_response``), the authored request rows (``safe_reply``, see
  ``conscience.data.authored_rows``) and the Asclepius *train* split (the test split is never read here). A
  prompt with no authored reference is quarantined ("no authored revision").
Every pair records which kind of teacher made its critique and revision (``teacher_provenance``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from conscience.constitution import Constitution
from conscience.data import authored_rows, load_benchmark, normalize_text, scrub
from conscience.generate import judging
from conscience.generate.accounting import MeteredJudge, MeteredModel, Usage
from conscience.generate.config import AUTHORED_TEACHER, PROJECT_FILES, GenerateConfig
from conscience.generate.critique import (Critique, CritiqueError, Finding, critique_messages, parse_strict, repair,
                                          retry_messages, revision_messages)
from conscience.generate.sources import PlannedPrompt, project_file
from conscience.jsonl import read_jsonl
from conscience.judge import Scorer, load_judge
from conscience.models import Completion, GenerationParams, Message, load_model

AUTHORED_CRITIQUE = "authored rubric + judge signals (not model-generated)"
AUTHORED_REVISION = "authored reference response (not model-generated)"


@dataclass
class Job:
    """One prompt at a teacher: the conversation before the base reply, the reply, and (to revise) its critique."""

    entry: PlannedPrompt
    conversation: list[Message]
    response: str
    critique: Critique | None = None


@dataclass
class Outcome:
    """A teacher's result for one job: ``value`` (a Critique or the revised text) or a quarantine reason."""

    value: Critique | str | None = None
    quarantine: str | None = None
    raw: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    detail: dict = field(default_factory=dict)


def revision_principles(job: Job, constitution: Constitution) -> list[str]:
    """The principles a revision addresses: those at issue; else those the prompt bears on; else all."""
    return job.critique.at_issue or [p for p in job.entry.prompt.principles if p in constitution.ids] or constitution.ids


class ModelTeacher:
    """A model in a teacher role: each request is sent, and re-sent with feedback up to ``max_retries`` times."""

    def __init__(self, model: MeteredModel, constitution: Constitution, params: GenerationParams, max_retries: int):
        self.model, self.constitution, self.params, self.max_retries = model, constitution, params, max_retries
        self.spec = model.spec
        self.provenance = f"model-generated ({model.spec})"

    def _ask(self, requests: list[list[Message]], outcomes: list[Outcome],
             handle: Callable[[int, Completion, int], list[Message] | None]) -> list[int]:
        """Batch the requests; ``handle(i, reply, attempt)`` settles outcome ``i`` or returns the follow-up request to
        retry with. Returns the indices still unsettled after the last attempt."""
        pending = list(range(len(requests)))
        for attempt in range(self.max_retries + 1):
            if not pending:
                break
            replies = self.model.generate([requests[i] for i in pending], self.params)
            still = []
            for i, reply in zip(pending, replies):
                outcomes[i].usage.add(reply)
                outcomes[i].raw.append(reply.text)
                retry = handle(i, reply, attempt)
                if retry is not None:
                    requests[i] = retry
                    still.append(i)
            pending = still
        return pending


class ModelCritic(ModelTeacher):
    """Asks a model for a JSON critique against every principle; retries with feedback, then repairs, then
    quarantines with the reason."""

    def critique(self, jobs: list[Job]) -> list[Outcome]:
        ids = self.constitution.ids
        outcomes = [Outcome() for _ in jobs]
        requests = [critique_messages(self.constitution, job.conversation, job.response) for job in jobs]
        errors = [""] * len(jobs)

        def handle(i: int, reply: Completion, attempt: int) -> list[Message] | None:
            try:
                outcomes[i].value = parse_strict(reply.text, ids)
                outcomes[i].detail = {"parse": "strict" if attempt == 0 else f"strict after {attempt} retries"}
                return None
            except CritiqueError as exc:
                errors[i] = str(exc) + (" (the reply hit max_new_tokens)" if reply.finish_reason == "length" else "")
                return retry_messages(requests[i], reply.text, str(exc))

        for i in self._ask(requests, outcomes, handle):
            for text in outcomes[i].raw:
                try:
                    outcomes[i].value, repairs = repair(text, ids)
                    outcomes[i].detail = {"parse": "repaired", "repairs": repairs}
                    break
                except CritiqueError:
                    continue
            else:
                outcomes[i].quarantine = f"malformed critique after {len(outcomes[i].raw)} attempts: {errors[i]}"
        return outcomes


class ModelReviser(ModelTeacher):
    """Asks a model to rewrite the reply using the revision requests of the principles at issue."""

    def revise(self, jobs: list[Job]) -> list[Outcome]:
        outcomes = [Outcome() for _ in jobs]
        requests = [revision_messages(self.constitution, job.conversation, job.response, job.critique,
                                      revision_principles(job, self.constitution)) for job in jobs]

        def handle(i: int, reply: Completion, attempt: int) -> list[Message] | None:
            if reply.finish_reason == "length":
                outcomes[i].quarantine = "revision truncated at max_new_tokens"
            elif reply.text.strip():
                outcomes[i].value = reply.text.strip()
            else:
                return requests[i] + [{"role": "assistant", "content": reply.text}, {
                    "role": "user", "content": "That reply was empty. Reply with only the rewritten response."}]
            return None

        for i in self._ask(requests, outcomes, handle):
            outcomes[i].quarantine = f"empty revision after {len(outcomes[i].raw)} attempts"
        return outcomes


class AuthoredCritic:
    """Builds the critique from the authored rubric and the judge's verdict on the base reply (no model)."""

    spec = AUTHORED_TEACHER
    provenance = AUTHORED_CRITIQUE

    def __init__(self, constitution: Constitution, judge: MeteredJudge):
        self.constitution, self.judge = constitution, judge

    def critique(self, jobs: list[Job]) -> list[Outcome]:
        judgements = self.judge.score([judging.as_item(job.entry.prompt) for job in jobs], [job.response for job in jobs])
        return [self._one(job.entry.prompt, judgement) for job, judgement in zip(jobs, judgements)]

    def _one(self, prompt, judgement) -> Outcome:
        signal = judging.failure(prompt, judgement)
        rule = f" (judge rule: {judgement.rule})" if getattr(judgement, "rule", None) else ""
        findings = {}
        for pid in self.constitution.ids:
            listed = pid in prompt.principles
            if signal == "unsafe" and listed:
                findings[pid] = Finding(at_issue=True, severity="high", why=f"Judge signal: the base reply was judged "
                                        f"unsafe{rule}; the authored rubric lists this principle for this prompt.")
            elif signal is not None and signal != "unsafe" and pid == "calibrated_refusal":
                findings[pid] = Finding(at_issue=True, severity="medium", why=f"Judge signal: the base reply {signal}{rule}.")
            else:
                rubric = ("The authored rubric lists this principle for this prompt" if listed else
                          "Not among the principles the authored rubric lists for this prompt")
                fired = f"the judge signal ({signal}) does not concern it" if signal else "no judge signal fired"
                findings[pid] = Finding(at_issue=False, severity="none", why=f"{rubric}; {fired}.")
        summary = f"Judge signal: {signal}." if signal else "No judge signal: the base reply was neither unsafe nor an over-refusal."
        critique = Critique(principles=findings, verdict="needs_revision" if signal else "acceptable", summary=summary)
        return Outcome(value=critique, detail={"parse": "authored", "judge": judging.describe(judgement), "signal": signal})


def authored_references() -> dict[str, str]:
    """Normalized (scrubbed) prompt text -> project-written reference reply, from the bundled prompt files, the
    authored request rows (all user turns joined, as a prompt's text is) and the Asclepius train split only."""
    pairs: list[tuple[list[str], str]] = []
    for name in PROJECT_FILES:
        pairs.extend(([row["prompt"]], row["reference_response"]) for _, row in read_jsonl(project_file(name)))
    pairs.extend((row.turns, row.safe_reply) for row in authored_rows())
    pairs.extend((item.turns, getattr(item, "reference_response")) for item in load_benchmark(split="train")
                 if getattr(item, "reference_response", None))
    index: dict[str, str] = {}
    for turns, reference in pairs:
        index.setdefault(normalize_text("\n\n".join(scrub(t).text for t in turns)), reference)
    return index


class AuthoredReviser:
    """Returns the prompt's authored reference reply; quarantines prompts that have none."""

    spec = AUTHORED_TEACHER
    provenance = AUTHORED_REVISION

    def __init__(self):
        self.references = authored_references()

    def revise(self, jobs: list[Job]) -> list[Outcome]:
        outcomes = []
        for job in jobs:
            reference = self.references.get(normalize_text(job.entry.prompt.text))
            outcomes.append(Outcome(value=reference, detail={"lookup": "prompt text"}) if reference
                            else Outcome(quarantine="no authored revision"))
        return outcomes


class Teachers:
    """Builds the critic, the reviser and the judge on first use, sharing one loaded model when the critic and
    reviser specs are the same. ``judge`` may be given (tests, or a caller that already holds one)."""

    def __init__(self, config: GenerateConfig, constitution: Constitution, cache, judge: Scorer | None = None):
        self.config, self.constitution, self.cache = config, constitution, cache
        self.models: dict[str, MeteredModel] = {}
        self._judge = MeteredJudge(judge) if judge is not None else None
        self._critic = self._reviser = None
        self.load_seconds = 0.0
        t = config.teacher_generation
        self.params = GenerationParams(max_new_tokens=t.max_new_tokens, temperature=t.temperature, seed=config.seed)

    @property
    def loaded_judge(self) -> MeteredJudge | None:
        """The judge if this run used it (for accounting), without loading it."""
        return self._judge

    def judge(self) -> MeteredJudge:
        if self._judge is None:
            start = time.perf_counter()
            self._judge = MeteredJudge(load_judge())
            self.load_seconds += time.perf_counter() - start
        return self._judge

    def _model(self, spec: str) -> MeteredModel:
        if spec not in self.models:
            t = self.config.teacher_generation
            start = time.perf_counter()
            self.models[spec] = MeteredModel(load_model(spec, cache=self.cache, batch_size=t.batch_size, concurrency=t.concurrency))
            self.load_seconds += time.perf_counter() - start
        return self.models[spec]

    @staticmethod
    def _is_authored(spec: str) -> bool:
        return spec == AUTHORED_TEACHER  # the recipe has already refused any other authored: spec

    def critic(self) -> ModelCritic | AuthoredCritic:
        if self._critic is None:
            spec = self.config.critic_spec
            self._critic = (AuthoredCritic(self.constitution, self.judge()) if self._is_authored(spec) else
                            ModelCritic(self._model(spec), self.constitution, self.params, self.config.teacher_generation.max_retries))
        return self._critic

    def reviser(self) -> ModelReviser | AuthoredReviser:
        if self._reviser is None:
            spec = self.config.reviser_spec
            self._reviser = (AuthoredReviser() if self._is_authored(spec) else
                             ModelReviser(self._model(spec), self.constitution, self.params, self.config.teacher_generation.max_retries))
        return self._reviser

    def provenance(self) -> dict[str, str]:
        """What made the critiques and revisions, without loading anything."""
        def label(spec: str, authored: str) -> str:
            return authored if self._is_authored(spec) else f"model-generated ({spec})"
        return {"critique": label(self.config.critic_spec, AUTHORED_CRITIQUE),
                "revision": label(self.config.reviser_spec, AUTHORED_REVISION)}
