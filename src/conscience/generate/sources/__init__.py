"""Prompt sources and the prompt mix: which prompts a run uses, in which order, and why some are left out.

The plan is a pure function of the recipe and the source files, so ``--limit N`` and a later full run
see the same first N prompts. Held-out data never enters it: the Asclepius test split cannot be named
as a source, and every prompt is checked against the test items and the constitution's own test
prompts (exact match always; near-duplicates when the contamination module is available).
Prompts are PHI-scrubbed here, before any model sees them or anything is stored.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from conscience.constitution import Constitution
from conscience.data import Prompt, add_counts, load_benchmark, load_prompt_file, scrub
from conscience.data.benchmark import data_dir
from conscience.data.prompts import load_jsonl_prompts
from conscience.errors import ConscienceError
from conscience.generate.config import GenerateConfig, SourceSpec
from conscience.generate.sources.contamination import ExclusionReport, check_prompts


@dataclass(frozen=True)
class PlannedPrompt:
    """One prompt in the run. ``draw`` > 0 marks a repeat of a prompt from a source smaller than its share;
    it is sampled with its own seed, so it yields a different base reply."""

    key: str
    prompt: Prompt
    draw: int
    redactions: dict[str, int]

    @property
    def fingerprint(self) -> str:
        """Changes if the prompt text changes under the same key (a user edited their file mid-run)."""
        return hashlib.sha256(self.prompt.text.encode()).hexdigest()[:16]


@dataclass
class SourceCount:
    pool: int = 0
    excluded: int = 0
    requested: int = 0
    repeats: int = 0


@dataclass
class Plan:
    entries: list[PlannedPrompt]
    sources: dict[str, SourceCount]
    contamination: ExclusionReport


def project_file(name: str) -> Path:
    return Path(str(resources.files("conscience.generate.sources") / "data" / f"{name}.jsonl"))


def _asclepius_train(source: str) -> list[Prompt]:
    return [Prompt(id=item.id, source=source, turns=item.turns, principles=item.principles, expected=item.expected, item=item)
            for item in load_benchmark(split="train")]


def _refuse_held_out_path(path: Path, spec: SourceSpec) -> None:
    if path.resolve().is_relative_to(data_dir().resolve()):
        raise ConscienceError("Asclepius data files mix train and test items; use a source with kind: asclepius, "
                              "split: train", where=path, field=f"sources.{spec.name}")


def load_source(spec: SourceSpec) -> list[Prompt]:
    """All prompts of one source, with the source's default ``expected`` filled in where a row has none."""
    if spec.kind == "asclepius":
        prompts = _asclepius_train(spec.name)
    elif spec.kind == "project":
        prompts = load_jsonl_prompts(project_file(spec.file), spec.name)
    else:
        path = Path(spec.path)
        _refuse_held_out_path(path, spec)
        prompts = load_prompt_file(path, spec.name, spec.kind, column=spec.column, split=spec.split or "train")
    if spec.expected is not None:
        prompts = [p if p.expected else p.model_copy(update={"expected": spec.expected}) for p in prompts]
    return prompts


def quotas(weights: dict[str, float], size: int) -> dict[str, int]:
    """Largest-remainder rounding of ``size`` by weight (ties go to the earlier source), summing to ``size``."""
    total = sum(weights.values())
    exact = {name: size * w / total for name, w in weights.items()}
    counts = {name: int(x) for name, x in exact.items()}
    order = sorted(exact, key=lambda n: -(exact[n] - counts[n]))
    for name in order[: size - sum(counts.values())]:
        counts[name] += 1
    return counts


def _draw(pool: list[Prompt], quota: int, rng: random.Random) -> list[tuple[Prompt, int]]:
    """Take ``quota`` prompts without replacement; a short pool is reshuffled and drawn again."""
    drawn: list[tuple[Prompt, int]] = []
    draw = 0
    while len(drawn) < quota and pool:
        order = pool[:]
        rng.shuffle(order)
        drawn.extend((p, draw) for p in order[: quota - len(drawn)])
        draw += 1
    return drawn


def _scrubbed(prompt: Prompt) -> tuple[Prompt, dict[str, int]]:
    counts: dict[str, int] = {}
    turns = []
    for turn in prompt.turns:
        result = scrub(turn)
        turns.append(result.text)
        counts = add_counts(counts, result.counts)
    return (prompt.model_copy(update={"turns": turns}) if counts else prompt), counts


def build_plan(config: GenerateConfig, constitution: Constitution) -> Plan:
    """Load every source, drop held-out look-alikes, draw the mix, and scrub and order the prompts."""
    pools = {spec.name: load_source(spec) for spec in config.sources}
    report = check_prompts([p for pool in pools.values() for p in pool], constitution, config.contamination_threshold)
    counts: dict[str, SourceCount] = {}
    for name, pool in pools.items():
        kept = [p for p in pool if (name, p.id) not in report.excluded]
        counts[name] = SourceCount(pool=len(kept), excluded=len(pool) - len(kept))
        pools[name] = kept
    empty = [name for name, pool in pools.items() if not pool]
    if empty:
        raise ConscienceError(f"source(s) {', '.join(empty)} have no usable prompts", field="sources")
    entries: list[PlannedPrompt] = []
    for name, quota in quotas({s.name: s.weight for s in config.sources}, config.size).items():
        rng = random.Random(f"{config.seed}:{name}")
        drawn = _draw(pools[name], quota, rng)
        counts[name].requested = quota
        counts[name].repeats = sum(1 for _, d in drawn if d > 0)
        for prompt, draw in drawn:
            clean, found = _scrubbed(prompt)
            key = f"{name}/{prompt.id}" + (f"~{draw}" if draw else "")
            entries.append(PlannedPrompt(key=key, prompt=clean, draw=draw, redactions=found))
    random.Random(config.seed).shuffle(entries)  # interleave sources so any prefix (--limit) keeps the mix
    return Plan(entries=entries, sources=counts, contamination=report)
