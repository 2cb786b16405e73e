"""`conscience run`: constitution → generate → train → evaluate (base and every variant) → verdict → report.

Each stage is cached by its inputs (see ``stages.py``); the run directory links to the stage folders it
used, so a run is a small folder of pointers plus its report. Training stages run in sequence when the recipe
has ``train.stages``: each starts from the one before merged into the base, and its cache key includes that
stage's key, so changing SFT re-runs DPO. Models are loaded once per variant and shared by the safety and
utility evaluations (and by the base and the constitution in context, which are the same weights).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from conscience.constitution import constitution_hash, load_constitution, system_prompt
from conscience.judge import default_weights_path
from conscience.precision import resolve_bf16
from conscience.recipe.config import IN_CONTEXT, Recipe, chain_name
from conscience.recipe.stages import StageCache, StageResult, code_fingerprint, file_hash

# Rough seconds per stage on 2 CPU cores for the default sizes; only used for the ETA column. The constitution in
# context puts ~1,050 more tokens before every reply, which made generation 7.7x slower on one CPU core.
STAGE_WEIGHTS = {"generate": 420, "train": 420, "safety": 420, "utility": 60, "report": 10,
                 f"safety:{IN_CONTEXT}": 3200, f"utility:{IN_CONTEXT}": 240}


@dataclass
class Variant:
    """One model the report compares. ``role`` is ``candidate`` for what the recipe trains for (the last stage
    and each ablation: the verdict and the gate judge these), ``reference`` for an earlier stage or the
    constitution in context (judged by the same criteria, shown beside, never gated), ``base`` for the base.
    ``trained_from`` is the spec its training started from; ``system_prompt`` opens every conversation."""

    name: str
    model_spec: str
    adapter: Path | None = None
    train: StageResult | None = None
    safety: StageResult | None = None
    utility: StageResult | None = None
    extra: dict = field(default_factory=dict)
    role: Literal["base", "reference", "candidate"] = "candidate"
    trained_from: str | None = None
    system_prompt: str | None = None


class StageProgress:
    """One bar across all stages, weighted by expected duration, with elapsed and remaining time."""

    def __init__(self, stages: list[str]):
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[done]}/{task.fields[total_stages]} stages"),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
        total = sum(_weight(s) for s in stages)
        self.task = self.progress.add_task("recipe", total=total, done=0, total_stages=len(stages))
        self.done = 0

    def start(self, stage: str) -> None:
        self.progress.update(self.task, description=f"recipe · {stage}")

    def finish(self, stage: str) -> None:
        self.done += 1
        self.progress.update(self.task, advance=_weight(stage), done=self.done)


def _weight(stage: str) -> int:
    return STAGE_WEIGHTS.get(stage, STAGE_WEIGHTS[stage.split(":")[0]])


def _run_dir(root: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"{stamp}-{name}"
    path.mkdir(parents=True, exist_ok=False)
    latest = root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(path.name)
    return path


def _train_variants(recipe: Recipe, generated: StageResult, stage, console=None) -> list[Variant]:
    """Train every chain of the recipe (see ``Recipe.chains``) through ``stage``; one variant per trained model."""
    from conscience.recipe import steps

    variants: list[Variant] = []
    trained: dict[tuple[str, ...], StageResult] = {}
    for chain in recipe.chains:
        before = trained.get(chain[:-1])
        # A stage after another starts from that one's merged model, which is also its reference (Bai et al. 2022).
        base_spec = steps.merged_spec(before.folder) if before else recipe.base_model
        continued = any(len(c) > len(chain) and c[: len(chain)] == chain for c in recipe.chains)
        train_config = steps.train_config(recipe, chain[-1])
        # Resolved bf16 keys the stage: an adapter trained in fp32 on one host is not the bf16 one of another.
        precision = resolve_bf16(train_config.bf16)
        name = chain_name(chain)
        if console:
            console.log(f"train:{name} precision: {precision.summary()}")
        # The key of the stage before is an input, so changing an earlier stage re-runs every later one.
        result = stage(f"train:{name}", f"train-{'-'.join(chain)}",
                       {"generate": generated.key, "config": train_config.model_dump(mode="json"), "base": recipe.base_model,
                        "after": before.key if before else None, "merge": continued, "bf16": precision.bf16},
                       lambda folder, tc=train_config, p=precision, b=base_spec, m=continued:
                       steps.run_train_stage(tc, generated.folder, b, folder, p, merge=m))
        trained[chain] = result
        adapter = result.folder / "adapter"
        variants.append(Variant(name, f"{base_spec}+{adapter}", adapter, train=result, trained_from=base_spec,
                                role="reference" if continued else "candidate"))
    return variants


# The package whose code (with everything it imports) each kind of stage runs; it keys the stage's cache.
STAGE_PACKAGES = {"generate": "generate", "train": "train", "safety": "evaluate", "utility": "evaluate"}


def run_recipe(recipe: Recipe, runs_root: Path = Path("runs"), console=None) -> Path:
    """Run the recipe end to end and return the run directory (``runs/latest`` points at it)."""
    from conscience.recipe import steps

    constitution = load_constitution(recipe.constitution)
    c_id = {"id": constitution.id, "version": constitution.version, "hash": constitution_hash(constitution)}
    cache = StageCache(runs_root / ".stages")
    run_dir = _run_dir(runs_root, recipe.name)
    (run_dir / "recipe.json").write_text(recipe.model_dump_json(indent=1))
    (run_dir / "stages").mkdir()
    plan = ["generate", *(f"train:{chain_name(c)}" for c in recipe.chains), *(f"safety:{v}" for v in recipe.variant_names),
            *(f"utility:{v}" for v in recipe.variant_names), "report"]
    bar = StageProgress(plan)
    code: dict[str, dict] = {}

    def stage(label: str, name: str, inputs: dict, work) -> StageResult:
        bar.start(label)
        if console:
            console.log(f"stage {label}: starting")
        # Each stage is keyed by the code it runs (its package and what that imports), not the whole package.
        package = STAGE_PACKAGES[label.split(":")[0]]
        code.setdefault(package, code_fingerprint(stage=package))
        result = cache.run(name, {**inputs, "code": code[package]}, work)
        link = run_dir / "stages" / label.replace(":", "-")
        link.symlink_to(os.path.relpath(result.folder, link.parent))
        if console:
            console.log(f"stage {label}: " + (f"cached (ran {result.seconds:.0f}s)" if result.cached else f"done in {result.seconds:.0f}s") + f" → {result.folder}")
        bar.finish(label)
        return result

    with bar.progress:
        gen_config = steps.generate_config(recipe)
        generated = stage("generate", "generate", {"config": gen_config.model_dump(mode="json"), "constitution": c_id,
                                                   "limit": recipe.generate.limit},
                          lambda folder: steps.run_generate_stage(gen_config, folder, recipe.generate.limit))
        variants = [Variant("base", recipe.base_model, role="base")]
        if recipe.evaluate.constitution_in_context:
            variants.append(Variant(IN_CONTEXT, recipe.base_model, role="reference", system_prompt=system_prompt(constitution)))
        variants += _train_variants(recipe, generated, stage, console)
        # The judge scores every safety reply, so its weights are part of the safety stages' inputs.
        # The dev split is the train items no pair was drawn from, so it depends on the generated pairs.
        dev_pairs = generated.folder / "dataset" if recipe.evaluate.safety.split == "dev" else None
        safety_inputs = {**recipe.evaluate.safety.model_dump(mode="json"), "benchmark_hash": file_hash(recipe.evaluate.safety.benchmark),
                         "judge_weights": file_hash(default_weights_path()), "seed": recipe.seed,
                         **({"pairs": generated.key} if dev_pairs else {})}
        utility_inputs = {**recipe.evaluate.utility.model_dump(mode="json"),
                          "questions_hash": file_hash(steps.utility_questions(recipe)), "seed": recipe.seed}
        loaded: dict = {}

        def model(spec: str):
            """One model in memory at a time, shared by consecutive variants of the same spec (base and base+constitution)."""
            if spec not in loaded:
                loaded.clear()
                loaded[spec] = steps.load_variant_model(spec)
            return loaded[spec]

        for variant in variants:
            model_key = {"spec": recipe.base_model, "train": variant.train.key if variant.train else None,
                         "system_prompt": variant.system_prompt}
            variant.safety = stage(f"safety:{variant.name}", f"safety-{variant.name}", {"model": model_key, **safety_inputs},
                                   lambda folder, v=variant: steps.run_safety_stage(recipe, model(v.model_spec), folder,
                                                                                    v.system_prompt, dev_pairs))
            variant.utility = stage(f"utility:{variant.name}", f"utility-{variant.name}", {"model": model_key, **utility_inputs},
                                    lambda folder, v=variant: steps.run_utility_stage(recipe, model(v.model_spec), folder,
                                                                                      v.system_prompt))
        loaded.clear()
        bar.start("report")
        from conscience.recipe.assemble import write_report

        write_report(run_dir, recipe, variants, generated, c_id)
        bar.finish("report")
    (run_dir / "DONE").write_text(json.dumps({"finished": time.strftime("%Y-%m-%dT%H:%M:%S")}))
    return run_dir
