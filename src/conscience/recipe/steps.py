"""The recipe's stage bodies: thin calls into each stage's public library API.

Kept apart from ``run.py`` so the orchestration (caching, progress, order) reads on its own, and so each
stage's wiring (which recipe field feeds which argument) is visible in one place.
"""

from __future__ import annotations

from pathlib import Path

from conscience.models import ChatModel, GenerationParams, load_model
from conscience.recipe.config import Recipe


def generate_config(recipe: Recipe):
    from conscience.generate import load_spec

    overrides: dict = {"base": recipe.base_model, "seed": recipe.seed}
    if recipe.constitution is not None:
        overrides["constitution"] = str(recipe.constitution)
    if recipe.generate.teacher:
        overrides["teacher"] = recipe.generate.teacher
    return load_spec(recipe.generate.spec, overrides=overrides)


def run_generate_stage(config, folder: Path, limit: int | None) -> dict:
    from conscience.generate import run_generate

    summary = run_generate(config, folder, limit=limit)
    return {"pairs": summary.pairs, "dataset": str(folder / "dataset")}


def train_config(recipe: Recipe, method: str):
    from conscience.train import load_profile

    return load_profile(recipe.train.profile).resolve(method, max_steps=recipe.train.max_steps)


def run_train_stage(config, generate_folder: Path, base_spec: str, folder: Path, precision=None, merge: bool = False) -> dict:
    """Train on the generated pairs from ``base_spec``; with ``merge`` also write ``merged/``, the base a later
    stage starts from (``conscience train --merge``)."""
    from conscience.train import train

    result = train(config, generate_folder / "dataset", base_spec, folder, merge=merge, precision=precision)
    return {"global_step": result.global_step, "train_pairs": result.train_pairs, "validation_pairs": result.validation_pairs,
            "train_runtime_s": result.train_runtime_s, "metrics": result.metrics, "adapter": str(result.adapter_dir),
            "base": result.base, "reference": result.reference, "merged": str(result.merged_dir) if result.merged_dir else None}


def merged_spec(train_folder: Path) -> str:
    """The model spec of a finished stage's ``merged/`` folder (absolute, so a resumed stage names the same base)."""
    return f"hf:{train_folder.resolve() / 'merged'}"


def load_variant_model(spec: str) -> ChatModel:
    return load_model(spec, batch_size=32)


def write_dev_split(benchmark: Path | None, pairs: Path, out: Path) -> int:
    """Write the benchmark's train items that no training pair in ``pairs`` was drawn from (the dev split, as
    ``conscience bench dev``) to ``out``; returns how many."""
    from conscience.evaluate.asclepius import dev_items, load_benchmark
    from conscience.jsonl import write_jsonl

    items = dev_items(load_benchmark(benchmark, "train"), pairs)
    write_jsonl(out, [item.model_dump(exclude_none=True) for item in items])
    return len(items)


def run_safety_stage(recipe: Recipe, model: ChatModel, folder: Path, system_prompt: str | None = None,
                     dev_pairs: Path | None = None) -> dict:
    """Evaluate safety on the recipe's split; ``split: dev`` needs ``dev_pairs``, the dataset the dev split excludes."""
    from conscience.evaluate.asclepius import evaluate_safety

    section = recipe.evaluate.safety
    benchmark, split = section.benchmark, section.split
    if split == "dev":
        if dev_pairs is None:
            raise ValueError("split: dev needs the training pairs it leaves out")
        benchmark, split = folder / "dev.jsonl", "all"
        write_dev_split(section.benchmark, dev_pairs, benchmark)
    summary = evaluate_safety(model, folder, benchmark=benchmark, split=split, judge=section.judge,
                              params=GenerationParams(max_new_tokens=section.max_new_tokens, seed=recipe.seed), limit=section.limit,
                              system_prompt=system_prompt)
    return {"unsafe_rate": summary.unsafe_rate.rate}


def utility_questions(recipe: Recipe) -> Path:
    """The recipe's question file, or the shipped 30 USMLE-style questions written for this project."""
    from conscience.evaluate.utility import AUTHORED_QUESTIONS

    return recipe.evaluate.utility.questions or AUTHORED_QUESTIONS


def run_utility_stage(recipe: Recipe, model: ChatModel, folder: Path, system_prompt: str | None = None) -> dict:
    from conscience.evaluate.utility import evaluate_utility

    section = recipe.evaluate.utility
    summary = evaluate_utility(model, utility_questions(recipe), method=section.method, circular=section.circular, out_dir=folder,
                               subset=section.subset, seed=recipe.seed, system_prompt=system_prompt)
    return {"accuracy": summary.accuracy, "status": summary.chance.status}
