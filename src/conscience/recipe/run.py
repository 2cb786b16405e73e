"""`conscience run`: constitution → generate → train → evaluate (base and every variant) → verdict → report.

Each stage is cached by its inputs (see ``stages.py``); the run directory links to the stage folders it
used, so a run is a small folder of pointers plus its report. Models are loaded once per variant and
shared by the safety and utility evaluations.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from conscience.constitution import constitution_hash, load_constitution
from conscience.judge import default_weights_path
from conscience.recipe.config import Recipe
from conscience.precision import resolve_bf16
from conscience.recipe.stages import StageCache, StageResult, code_fingerprint, file_hash

# Rough seconds per stage on 2 CPU cores for the default sizes; only used for the ETA column.
STAGE_WEIGHTS = {"generate": 420, "train": 420, "safety": 420, "utility": 60, "report": 10}


@dataclass
class Variant:
    name: str
    model_spec: str
    adapter: Path | None = None
    train: StageResult | None = None
    safety: StageResult | None = None
    utility: StageResult | None = None
    extra: dict = field(default_factory=dict)


class StageProgress:
    """One bar across all stages, weighted by expected duration, with elapsed and remaining time."""

    def __init__(self, stages: list[str]):
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[done]}/{task.fields[total_stages]} stages"),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
        total = sum(STAGE_WEIGHTS[s.split(":")[0]] for s in stages)
        self.task = self.progress.add_task("recipe", total=total, done=0, total_stages=len(stages))
        self.done = 0

    def start(self, stage: str) -> None:
        self.progress.update(self.task, description=f"recipe · {stage}")

    def finish(self, stage: str) -> None:
        self.done += 1
        self.progress.update(self.task, advance=STAGE_WEIGHTS[stage.split(":")[0]], done=self.done)


def _run_dir(root: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"{stamp}-{name}"
    path.mkdir(parents=True, exist_ok=False)
    latest = root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(path.name)
    return path


def run_recipe(recipe: Recipe, runs_root: Path = Path("runs"), console=None) -> Path:
    """Run the recipe end to end and return the run directory (``runs/latest`` points at it)."""
    from conscience.recipe import steps

    constitution = load_constitution(recipe.constitution)
    c_id = {"id": constitution.id, "version": constitution.version, "hash": constitution_hash(constitution)}
    cache = StageCache(runs_root / ".stages")
    run_dir = _run_dir(runs_root, recipe.name)
    (run_dir / "recipe.json").write_text(recipe.model_dump_json(indent=1))
    (run_dir / "stages").mkdir()
    plan = ["generate"] + [f"train:{m}" for m in recipe.methods] + [f"safety:{v}" for v in ["base", *recipe.methods]] \
        + [f"utility:{v}" for v in ["base", *recipe.methods]] + ["report"]
    bar = StageProgress(plan)
    code = code_fingerprint()

    def stage(label: str, name: str, inputs: dict, work) -> StageResult:
        bar.start(label)
        if console:
            console.log(f"stage {label}: starting")
        result = cache.run(name, {**inputs, "code": code}, work)
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
        variants = [Variant("base", recipe.base_model)]
        for method in recipe.methods:
            train_config = steps.train_config(recipe, method)
            # Resolved bf16 keys the stage: an adapter trained in fp32 on one host is not the bf16 one of another.
            precision = resolve_bf16(train_config.bf16)
            if console:
                console.log(f"train:{method} precision: {precision.summary()}")
            result = stage(f"train:{method}", f"train-{method}",
                           {"generate": generated.key, "config": train_config.model_dump(mode="json"), "base": recipe.base_model,
                            "bf16": precision.bf16},
                           lambda folder, tc=train_config, p=precision: steps.run_train_stage(tc, generated.folder,
                                                                                              recipe.base_model, folder, p))
            adapter = result.folder / "adapter"
            variants.append(Variant(method, f"{recipe.base_model}+{adapter}", adapter, train=result))
        # The judge scores every safety reply, so its weights are part of the safety stages' inputs.
        safety_inputs = {**recipe.evaluate.safety.model_dump(mode="json"), "benchmark_hash": file_hash(recipe.evaluate.safety.benchmark),
                         "judge_weights": file_hash(default_weights_path()), "seed": recipe.seed}
        utility_inputs = {**recipe.evaluate.utility.model_dump(mode="json"),
                          "questions_hash": file_hash(steps.utility_questions(recipe)), "seed": recipe.seed}
        for variant in variants:
            model_key = {"spec": recipe.base_model, "train": variant.train.key if variant.train else None}
            holder: dict = {}

            def model(v=variant, h=holder):
                if "model" not in h:
                    h["model"] = steps.load_variant_model(v.model_spec)
                return h["model"]

            variant.safety = stage(f"safety:{variant.name}", f"safety-{variant.name}", {"model": model_key, **safety_inputs},
                                   lambda folder, m=model: steps.run_safety_stage(recipe, m(), folder))
            variant.utility = stage(f"utility:{variant.name}", f"utility-{variant.name}", {"model": model_key, **utility_inputs},
                                    lambda folder, m=model: steps.run_utility_stage(recipe, m(), folder))
            holder.clear()
        bar.start("report")
        from conscience.recipe.assemble import write_report

        write_report(run_dir, recipe, variants, generated, c_id)
        bar.finish("report")
    (run_dir / "DONE").write_text(json.dumps({"finished": time.strftime("%Y-%m-%dT%H:%M:%S")}))
    return run_dir
