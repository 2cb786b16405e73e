"""The run summary: counts from the store (so a resumed run reports its whole history), plus what this
invocation did (cache hits, seconds). A typed record (``GenerateSummary``), written to ``summary.json`` and
printed as rich tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from conscience.data import add_counts
from conscience.generate.accounting import Usage, cost
from conscience.generate.sources import Plan

if TYPE_CHECKING:
    from conscience.generate.pipeline import Run

STAGES = ("sample", "critique", "revise", "pair")


class SourceCounts(BaseModel):
    """One prompt source: its pool, what the plan asked of it, and how its prompts fared stage by stage."""

    pool: int
    excluded_held_out: int
    requested: int
    repeated_draws: int
    in_run: int
    sample: int
    critique: int
    revise: int
    pair: int
    quarantined: int
    dropped: int
    pairs: int


class Filters(BaseModel):
    drop_revision_fails_judge: bool
    drop_nothing_at_issue: bool
    dropped: dict[str, int]


class Redactions(BaseModel):
    """PHI redactions by kind, in the prompts, the base replies and the revisions."""

    prompts: dict[str, int]
    responses: dict[str, int]
    revisions: dict[str, int]
    total: int


class Contamination(BaseModel):
    """The held-out check: what was compared, how, the closest match, and the prompts left out."""

    checked_prompts: int
    held_out_items: int
    method: str
    closest: str
    excluded: list[dict[str, str]]


class RoleUsage(BaseModel):
    """Tokens over the whole run; cost in US dollars, or ``unknown``/``n/a (authored)``; cache hits of this invocation."""

    spec: str
    calls: int
    cached_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | str
    cache_this_run: dict[str, int] | None


class ModelUsage(BaseModel):
    base: RoleUsage
    critic: RoleUsage
    reviser: RoleUsage
    judge_calls_this_run: int


class StageCounts(BaseModel):
    done_before: int
    computed_this_run: int


class Timing(BaseModel):
    """Seconds of this invocation, split into model calls, judge calls, loading, export and the pipeline's own overhead."""

    wall_s: float
    model_s: float
    judge_s: float
    model_load_s: float
    export_s: float
    overhead_s: float
    overhead_fraction: float


class ExportCounts(BaseModel):
    """The exported dataset: its folder (None before the first pair) and rows per split."""

    path: str | None
    train: int
    validation: int
    kto_rows: int | None = None
    note: str | None = None


class GenerateSummary(BaseModel):
    """What a generate run made (``summary.json``). Counts cover the run directory's whole history; cache hits,
    judge calls and timing cover this invocation."""

    run_dir: str
    partial: bool
    planned_prompts: int
    prompts_in_run: int
    pairs: int
    constitution: dict[str, str]
    teacher_provenance: dict[str, str]
    sources: dict[str, SourceCounts]
    principles_at_issue: dict[str, int]
    quarantine: dict[str, int]
    filters: Filters
    redactions: Redactions
    contamination: Contamination
    models: ModelUsage
    stages: dict[str, StageCounts]
    timing: Timing
    dataset: ExportCounts

    def write(self, path: Path) -> None:
        """As JSON; keys a run did not fill (``kto_rows`` before the first export) are left out, not written as null."""
        path.write_text(json.dumps(self.model_dump(mode="json", exclude_unset=True), indent=2) + "\n", encoding="utf-8")


def _reason_group(row: dict) -> str:
    """Quarantine reasons with their variable detail cut off, so they can be counted."""
    return f"{row['stage']}: {row['reason'].split(':')[0]}"


def _role(spec: str, usage: Usage, run: "Run", model) -> dict:
    prices = {k: v.model_dump() for k, v in run.config.prices.items()}
    authored = spec.startswith("authored:")
    return {
        "spec": spec, **usage.as_dict(),
        "cost_usd": "n/a (authored)" if authored else cost(usage, prices.get(spec)),
        "cache_this_run": model.cache_stats() if model is not None else None,
    }


def build_summary(run: "Run", plan: Plan, constitution: dict, dataset: dict, *, done_before: dict[str, int], partial: bool,
                  wall_s: float, export_s: float) -> GenerateSummary:
    sources = {name: {"pool": c.pool, "excluded_held_out": c.excluded, "requested": c.requested, "repeated_draws": c.repeats,
                      "in_run": 0, **{s: 0 for s in STAGES}, "quarantined": 0, "dropped": 0, "pairs": 0}
               for name, c in plan.sources.items()}
    usage = {stage: Usage() for stage in ("sample", "critique", "revise")}
    at_issue: dict[str, int] = {}
    quarantine: dict[str, int] = {}
    dropped: dict[str, int] = {}
    redactions = {"prompts": {}, "responses": {}, "revisions": {}}
    for entry in run.entries:
        counts = sources[entry.prompt.source]
        counts["in_run"] += 1
        for stage in STAGES:
            row = run.row(entry, stage)
            if row is None:
                continue
            counts[stage] += 1
            if stage in usage:
                usage[stage].merge(row["usage"])
            if row["status"] == "quarantined":
                counts["quarantined"] += 1
                quarantine[_reason_group(row)] = quarantine.get(_reason_group(row), 0) + 1
            elif stage == "sample":
                redactions["prompts"] = add_counts(redactions["prompts"], row["redactions"]["prompt"])
                redactions["responses"] = add_counts(redactions["responses"], row["redactions"]["response"])
            elif stage == "revise":
                redactions["revisions"] = add_counts(redactions["revisions"], row["redactions"])
            elif stage == "pair" and row["dropped"]:
                counts["dropped"] += 1
                dropped[row["dropped"].split(" (")[0]] = dropped.get(row["dropped"].split(" (")[0], 0) + 1
            elif stage == "pair":
                counts["pairs"] += 1
                for pid in row["provenance"]["principles_at_issue"]:
                    at_issue[pid] = at_issue.get(pid, 0) + 1
    teachers = run.teachers
    judge = teachers.loaded_judge
    model_s = (run.base.seconds if run.base else 0.0) + sum(m.seconds for m in teachers.models.values())
    judge_s = judge.seconds if judge else 0.0
    load_s = run.load_seconds + teachers.load_seconds
    overhead_s = max(wall_s - model_s - judge_s - load_s, 0.0)
    summary = GenerateSummary.model_validate({
        "run_dir": str(run.run_dir), "partial": partial, "planned_prompts": len(plan.entries), "prompts_in_run": len(run.entries),
        "pairs": sum(c["pairs"] for c in sources.values()), "constitution": constitution,
        "teacher_provenance": teachers.provenance(),
        "sources": sources,
        "principles_at_issue": dict(sorted(at_issue.items(), key=lambda kv: -kv[1])),
        "quarantine": quarantine,
        "filters": {"drop_revision_fails_judge": run.config.filters.drop_revision_fails_judge,
                    "drop_nothing_at_issue": run.config.filters.drop_nothing_at_issue, "dropped": dropped},
        "redactions": {**redactions, "total": sum(sum(v.values()) for v in redactions.values())},
        "contamination": plan.contamination.as_dict(),
        "models": {
            "base": _role(run.config.base, usage["sample"], run, run.base),
            "critic": _role(run.config.critic_spec, usage["critique"], run, teachers.models.get(run.config.critic_spec)),
            "reviser": _role(run.config.reviser_spec, usage["revise"], run, teachers.models.get(run.config.reviser_spec)),
            "judge_calls_this_run": judge.calls if judge else 0,
        },
        "stages": {stage: {"done_before": done_before[stage], "computed_this_run": run.computed[stage]} for stage in STAGES},
        "timing": {"wall_s": round(wall_s, 2), "model_s": round(model_s, 2), "judge_s": round(judge_s, 2),
                   "model_load_s": round(load_s, 2), "export_s": round(export_s, 2), "overhead_s": round(overhead_s, 2),
                   "overhead_fraction": round(overhead_s / wall_s, 4) if wall_s else 0.0},
        "dataset": dataset,
    })
    summary.write(run.run_dir / "summary.json")
    return summary


def _table(title: str, headers: list[str], rows: list[list]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[str(v) for v in row])
    return table


def print_summary(summary: GenerateSummary, console: Console) -> None:
    """The summary as tables: sources, principles at issue, quarantine, redactions, models, timing."""
    console.print(_table("Prompts and pairs by source", ["source", "pool", "requested", "repeats", "in run", "sampled",
                                                         "quarantined", "dropped", "pairs"],
                         [[n, c.pool, c.requested, c.repeated_draws, c.in_run, c.sample, c.quarantined, c.dropped, c.pairs]
                          for n, c in summary.sources.items()]))
    console.print(_table("Principles at issue (kept pairs)", ["principle", "pairs"],
                         [[k, v] for k, v in summary.principles_at_issue.items()] or [["(none)", 0]]))
    console.print(_table("Quarantined (see quarantine.jsonl)", ["stage: reason", "items"],
                         [[k, v] for k, v in summary.quarantine.items()] or [["(none)", 0]]))
    red = summary.redactions
    kinds = sorted({*red.prompts, *red.responses, *red.revisions})
    console.print(_table("PHI redactions", ["kind", "prompts", "responses", "revisions"],
                         [[k, red.prompts.get(k, 0), red.responses.get(k, 0), red.revisions.get(k, 0)] for k in kinds]
                         or [["(none)", 0, 0, 0]]))
    roles = {"base": summary.models.base, "critic": summary.models.critic, "reviser": summary.models.reviser}
    console.print(_table("Models", ["role", "spec", "calls", "cached", "tokens in", "tokens out", "cost (USD)", "cache hits/misses (this run)"],
                         [[role, m.spec, m.calls, m.cached_calls, m.prompt_tokens, m.completion_tokens, m.cost_usd,
                           f"{m.cache_this_run['hits']}/{m.cache_this_run['misses']}" if m.cache_this_run else "-"]
                          for role, m in roles.items()]))
    t, d = summary.timing, summary.dataset
    console.print(f"pairs: {summary.pairs}  (train {d.train}, validation {d.validation})  dataset: {d.path}")
    contamination = summary.contamination
    console.print(f"held-out check ({contamination.method}): {len(contamination.excluded)} prompt(s) excluded; "
                  f"closest: {contamination.closest}")
    console.print(f"wall {t.wall_s} s (models {t.model_s} s, judge {t.judge_s} s, loading {t.model_load_s} s, "
                  f"export {t.export_s} s; pipeline overhead {t.overhead_fraction:.1%})"
                  + ("  [partial run: --limit]" if summary.partial else ""))
