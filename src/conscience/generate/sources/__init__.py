"""Prompt sources and the prompt mix: which prompts a run uses, in which order, and why some are left out.

The plan is a pure function of the recipe and the source files, so ``--limit N`` and a later full run
see the same first N prompts. Prompts of one ``group`` (a risky request and its benign look-alikes) are drawn
and placed together, so a prefix cuts at most one group. Held-out data never enters it: the Asclepius test split cannot be named
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
from conscience.data import Prompt, add_counts, load_benchmark, load_prompt_file, lookalike_prompts, scrub
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
    elif spec.kind == "lookalikes":
        prompts = lookalike_prompts(spec.name)
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


def _units(pool: list[Prompt]) -> list[list[Prompt]]:
    """The pool as units drawn whole: a prompt's ``group`` (a risky request and its look-alikes), else itself."""
    units: dict[str, list[Prompt]] = {}
    for prompt in pool:
        units.setdefault(prompt.group or f"\0{prompt.id}", []).append(prompt)
    return list(units.values())


def _draw(pool: list[Prompt], quota: int, rng: random.Random) -> list[list[tuple[Prompt, int]]]:
    """Take ``quota`` prompts without replacement, a unit (see ``_units``) at a time; a short pool is reshuffled
    and drawn again. Only the last unit may be cut short, to meet the quota. With single-prompt units this is
    the same draw, in the same order, as shuffling the prompts themselves."""
    drawn: list[list[tuple[Prompt, int]]] = []
    units = _units(pool)
    taken, draw = 0, 0
    while taken < quota and units:
        order = units[:]
        rng.shuffle(order)
        for unit in order:
            if taken == quota:
                break
            drawn.append([(p, draw) for p in unit[: quota - taken]])
            taken += len(drawn[-1])
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


def _exclude_group_mates(source: str, pool: list[Prompt], report: ExclusionReport) -> None:
    """A group loses every member when one is excluded, so no risky request is left without its look-alikes."""
    excluded = {p.group: p.id for p in pool if p.group and (source, p.id) in report.excluded}
    for prompt in pool:
        if prompt.group in excluded and (source, prompt.id) not in report.excluded:
            report.excluded[(source, prompt.id)] = f"group-mate of excluded prompt {excluded[prompt.group]}"


def build_plan(config: GenerateConfig, constitution: Constitution) -> Plan:
    """Load every source, drop held-out look-alikes, draw the mix, and scrub and order the prompts."""
    pools = {spec.name: load_source(spec) for spec in config.sources}
    report = check_prompts([p for pool in pools.values() for p in pool], constitution, config.contamination_threshold)
    counts: dict[str, SourceCount] = {}
    for name, pool in pools.items():
        _exclude_group_mates(name, pool, report)
        kept = [p for p in pool if (name, p.id) not in report.excluded]
        counts[name] = SourceCount(pool=len(kept), excluded=len(pool) - len(kept))
        pools[name] = kept
    empty = [name for name, pool in pools.items() if not pool]
    if empty:
        raise ConscienceError(f"source(s) {', '.join(empty)} have no usable prompts", field="sources")
    units: list[list[PlannedPrompt]] = []
    for name, quota in quotas({s.name: s.weight for s in config.sources}, config.size).items():
        rng = random.Random(f"{config.seed}:{name}")
        drawn = _draw(pools[name], quota, rng)
        counts[name].requested = quota
        counts[name].repeats = sum(1 for unit in drawn for _, d in unit if d > 0)
        for unit in drawn:
            units.append([])
            for prompt, draw in unit:
                clean, found = _scrubbed(prompt)
                key = f"{name}/{prompt.id}" + (f"~{draw}" if draw else "")
                units[-1].append(PlannedPrompt(key=key, prompt=clean, draw=draw, redactions=found))
    # Interleave sources so any prefix (--limit) keeps the mix; a group stays together, so a prefix cuts at most one.
    random.Random(config.seed).shuffle(units)
    return Plan(entries=[entry for unit in units for entry in unit], sources=counts, contamination=report)
