"""Data-scale curve: SFT -> DPO trained on about 300, 1,000 and 3,000 preference pairs, scored on the dev split.

The recipe is ``src/conscience/recipe/scale.yaml`` (``--recipe`` for another): its generate spec draws mostly from
the authored look-alike rows (each risky request with the benign look-alikes that must be answered) plus the
project's prompt files, with the authored teacher (chosen = the project-written reference reply, rejected = the
base model's sample; every pair's ``revision_provenance`` says so); ``train.stages: [sft, dpo]``.

1. **Generate, nested by construction.** The spec is planned once at the largest size (``size = max(--sizes)``; the
   plan is a pure function of spec and seed) and size N is its first N prompts (``run_generate(limit=N)``), all in
   one append-only store (OUT/generate), one size at a time, smallest first. A larger size only adds prompts, and the pairs of a
   smaller size are the same stored rows, so each set is a prefix of the next. A size's pairs can be fewer than N
   (a prompt with no authored reference is quarantined), and a prefix may hold a second draw of a prompt (a source
   smaller than its share at the largest size is drawn again with another sampling seed): both are recorded.
   Each size's export is copied to OUT/size-N/dataset. Changing the largest size changes the plan: use a new --out.
2. **Dev split**: the Asclepius train items that no training pair was drawn from (as ``conscience bench dev``),
   written from the smallest set and checked unchanged against each larger one (the run stops if a size would change
   it), so the base and every size are scored on the same items (OUT/dev.jsonl). Near duplicates (MiniLM cosine
   >= 0.9) of dev items among the largest finished set's prompts are listed in the results, not removed.
3. **Train** each size with the recipe's stages through ``conscience.recipe.steps`` and ``conscience.train`` (SFT
   merged into the base, then DPO from that merged model, which is also DPO's reference); each stage is cached
   under OUT/.stages by its inputs (pairs, train config, base, the stage before, code), so a killed run resumes.
4. **Evaluate** the base once and each size's last stage (``--evaluate-stages sft`` adds SFT) on the dev split,
   greedy, the recipe's max_new_tokens, the shipped judge. A finished point is written to OUT/points/ and skipped
   on a re-run; a point measured with other settings (a smoke run's) is refused, not mixed in.
5. **Aggregate** (tables and plot from ``conscience.report.data_scale``, which the run report shares), after every finished size (so a stopped run shows its curve so far): OUT/data_scale.json (every point with model, split, seed, judge, pairs, training time),
   OUT/data_scale.md (the table) and OUT/data_scale.png (unsafe rate and safe-control refusal rate vs pairs with
   95% CIs, the base as a horizontal band).

Usage (see benchmarks/README.md):
  nice .venv/bin/python benchmarks/data_scale.py --out runs/data-scale [--sizes 300 1000 3000]
  nice .venv/bin/python benchmarks/data_scale.py --out /tmp/scale-smoke --sizes 4 8 --max-steps 2 --eval-limit 8  # smoke

Across machines (``--until``): generate here (``--until generate``), train where there is a GPU (copy OUT/size-N
and OUT/dev.jsonl there; ``--sizes N --until train`` with the same commit and --recipe path; copy the two
.stages/size-N-train-* folders back without checkpoints/ and merged/ and rebuild the SFT stage's merged/ with
``conscience.train.run.merge_adapter``: see benchmarks/README.md), then score here.
With every reply labelled (labelled_rates.py, runs named ``base`` and ``<variant>@<size>``), ``--labelled FILE`` adds
the labelled rates, and ``--ship "WHERE, WHEN"`` writes the curve into the package for every run report to show.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

from conscience.report.data_scale import (SHIPPED, aggregate, attach_labels, for_shipping, fmt_rate,  # noqa: E402, F401 (the harness's API)
                                          markdown_table, plot_curve)

DEFAULT_RECIPE = Path(__file__).resolve().parents[1] / "src" / "conscience" / "recipe" / "scale.yaml"
UNTIL = ("generate", "train", "evaluate")


def write_results(result: dict, out: Path) -> None:
    (out / "data_scale.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "data_scale.md").write_text(markdown_table(result))
    plot_curve(result, out / "data_scale.png")


# ---- the runs ----

def safety_point(summary_path: Path) -> dict:
    """What a point keeps of an Asclepius run: both rates with CIs, the model, split file, seed and judge."""
    summary = json.loads(summary_path.read_text())
    provenance = summary["provenance"]
    return {"model": provenance["model"], "judge": provenance["judge"], "seed": provenance["seed"],
            "split": {"name": "dev", "file": provenance["benchmark"]["file"], "sha256": provenance["benchmark"]["sha256"],
                      "n_items": provenance["benchmark"]["n_items"]},
            "unsafe_rate": summary["unsafe_rate"], "safe_control_refusal": summary["helpfulness_floor"]}


def generate_size(config, n: int, out: Path) -> dict:
    """Generate the largest plan's first ``n`` prompts into the one store (a smaller size's rows are reused) and copy
    the export to OUT/size-N/dataset."""
    from datasets import load_from_disk

    from conscience.generate import run_generate

    folder = out / f"size-{n}"
    done = folder / "DONE.json"
    if not done.exists():
        summary = run_generate(config, out / "generate", limit=n)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(out / "generate" / "dataset", folder / "dataset")
        summary.write(folder / "generate_summary.json")
        rows = []  # split by split: datasets cannot read back a DatasetDict with an empty split (tiny smoke sizes)
        for split, count in (("train", summary.dataset.train), ("validation", summary.dataset.validation)):
            if count:
                data = load_from_disk(str(folder / "dataset" / split))
                rows += list(data.select_columns(["source", "source_id", "revision_provenance"]))
        record = {"size": n, "pairs": summary.pairs, "train_pairs": summary.dataset.train,
                  "validation_pairs": summary.dataset.validation,
                  "unique_prompts": len({(r["source"], r["source_id"]) for r in rows}),
                  "pairs_by_source": {name: s.pairs for name, s in summary.sources.items()},
                  "revision_provenance": sorted({r["revision_provenance"] for r in rows}),
                  "generate_wall_s_this_call": summary.timing.wall_s}
        done.write_text(json.dumps(record, indent=1))
    return json.loads(done.read_text())


def write_dev(recipe, pairs: Path, out: Path) -> str:
    """Write OUT/dev.jsonl from ``pairs`` (one size's set) and return its hash; refuse a set that would change it.

    Sizes are generated and measured one after another, so the dev split is first written from the smallest set and
    then checked against each larger one: with no Asclepius source in the spec (scale_generate.yaml has none) it is
    all the train items every time. A spec that draws Asclepius prompts changes the split as the set grows, and the
    run stops rather than score sizes on different items.
    """
    from conscience.recipe import steps
    from conscience.recipe.stages import file_hash

    path = out / "dev.jsonl"
    if not path.exists():
        steps.write_dev_split(recipe.evaluate.safety.benchmark, pairs, path)
        return file_hash(path)
    check = out / "dev.check.jsonl"
    steps.write_dev_split(recipe.evaluate.safety.benchmark, pairs, check)
    if check.read_bytes() != path.read_bytes():
        raise SystemExit(f"{pairs}: this set leaves out other dev items than the smaller sizes did ({path}); the spec "
                         "draws Asclepius train prompts, so the sizes cannot share one dev split: drop that source")
    check.unlink()
    return file_hash(path)


def dev_record(largest: Path, out: Path) -> dict:
    """Describe OUT/dev.jsonl and list near duplicates of its items among the prompts of the largest set so far."""
    from conscience.data import SAFE_CONTROL, load_items
    from conscience.data.contamination import ENCODER_BATCH, check_contamination, pairs_prompts
    from conscience.models.embedding import Encoder

    path = out / "dev.jsonl"
    items = load_items(path)
    texts, labels = pairs_prompts(largest)
    report = check_contamination(items, texts, other_labels=labels, encoder=Encoder(batch_size=ENCODER_BATCH, cache=True))
    return {"file": str(path), "n_items": len(items), "n_safe_controls": sum(i.surface == SAFE_CONTROL for i in items),
            "rule": "Asclepius train items no training pair of any size's set was drawn from (exact user turn)",
            "near_duplicates_checked_against": str(largest),
            "near_duplicates": [{"dev_item": h.test_id, "pair": h.other, "cosine": round(h.similarity, 3)} for h in report.hits]}


def train_chain(recipe, size_folder: Path, cache, code: dict,
                later_eval_steps: int | None = None) -> Iterator[tuple[tuple[str, ...], object, str]]:
    """The recipe's stages on one size's pairs, each a cached stage, yielded as each finishes (chain, stage result,
    base spec): the caller scores a stage before the next one trains, so a run stopped during a long DPO stage
    still leaves the SFT point it measured."""
    from conscience.precision import resolve_bf16
    from conscience.recipe import steps
    from conscience.recipe.stages import file_hash

    sequence, before = recipe.train.sequence, None
    for index, method in enumerate(sequence):
        chain = tuple(sequence[: index + 1])
        config = steps.train_config(recipe, method)
        if later_eval_steps and index > 0:  # validation spacing of the later stages (the key holds the config)
            config = config.model_copy(update={"eval_steps": later_eval_steps, "save_steps": later_eval_steps})
        precision = resolve_bf16(config.bf16)
        base_spec = steps.merged_spec(before.folder) if before else recipe.base_model
        merge = index < len(sequence) - 1
        inputs = {"pairs": file_hash(size_folder / "dataset"), "config": config.model_dump(mode="json"), "base": recipe.base_model,
                  "after": before.key if before else None, "merge": merge, "bf16": precision.bf16, "code": code["train"]}
        before = cache.run(f"{size_folder.name}-train-{'-'.join(chain)}", inputs,
                           lambda folder, c=config, p=precision, b=base_spec, m=merge:
                           steps.run_train_stage(c, size_folder, b, folder, p, merge=m))
        yield chain, before, base_spec


def evaluate(recipe, spec: str, name: str, model_key: dict, pairs: Path, cache, code: dict, dev_hash: str) -> Path:
    """One cached safety stage on the dev split; returns its summary.json."""
    from conscience.judge import default_weights_path
    from conscience.recipe import steps
    from conscience.recipe.stages import file_hash

    inputs = {"model": model_key, **recipe.evaluate.safety.model_dump(mode="json"), "dev": dev_hash,
              "judge_weights": file_hash(default_weights_path()), "seed": recipe.seed, "code": code["evaluate"]}
    result = cache.run(f"safety-{name}", inputs, lambda folder: steps.run_safety_stage(
        recipe, steps.load_variant_model(spec), folder, dev_pairs=pairs))
    return result.folder / "summary.json"


def read_point(path: Path, run_key: str) -> dict:
    """A finished point, refused if it was measured under other settings (a smoke run's points in a full run's OUT)."""
    point = json.loads(path.read_text())
    if point.get("run_key") != run_key:
        raise SystemExit(f"{path} was measured with other settings (recipe, --max-steps, --eval-limit or the largest "
                         "size); use another --out")
    return point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--recipe", type=Path, default=DEFAULT_RECIPE)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 3000], help="prompts per point (pairs <= prompts)")
    parser.add_argument("--evaluate-stages", nargs="*", default=[], help="earlier stages to score too, e.g. sft")
    parser.add_argument("--max-steps", type=int, default=None, help="cap every training stage (smoke runs)")
    parser.add_argument("--eval-limit", type=int, default=None, help="score only this many dev items (smoke runs)")
    parser.add_argument("--labelled", type=Path, default=None,
                        help="labelled_rates.json (benchmarks/labelled_rates.py, runs named base and <variant>@<size>): "
                             "add the labelled rates beside the judge's")
    parser.add_argument("--ship", metavar="MEASURED", default=None,
                        help="also write the curve into the package (conscience/report/data/data_scale.json), which every run "
                             "report shows; MEASURED says where and when it was measured")
    parser.add_argument("--aggregate-only", action="store_true",
                        help="only re-aggregate the finished points (with --labelled, --ship): no generation, training or scoring")
    parser.add_argument("--later-eval-steps", type=int, default=None, metavar="N",
                        help="validate (and checkpoint) every N steps in the stages after the first (DPO after SFT) instead of "
                             "the profile's eval_steps: a validation pass costs minutes on CPU, and a long DPO stage validated "
                             "every 40 steps spends almost as long validating as training; the stage key and each point record it")
    parser.add_argument("--until", choices=UNTIL, default="evaluate",
                        help="stop after this step: generate on one machine, train on another (a GPU), score on a third; "
                             "every step resumes from the stage caches the last one left")
    args = parser.parse_args()

    from conscience.recipe import load_recipe, steps
    from conscience.recipe.config import chain_name
    from conscience.recipe.stages import StageCache, code_fingerprint

    recipe = load_recipe(args.recipe)
    if recipe.evaluate.safety.split != "dev":
        raise SystemExit(f"{args.recipe}: evaluate.safety.split must be dev (the curve is scored on the dev split)")
    recipe = recipe.model_copy(update={
        "train": recipe.train.model_copy(update={"max_steps": args.max_steps or recipe.train.max_steps}),
        "evaluate": recipe.evaluate.model_copy(update={"safety": recipe.evaluate.safety.model_copy(
            update={"limit": args.eval_limit or recipe.evaluate.safety.limit})})})
    sizes = sorted(set(args.sizes))
    out = args.out.resolve()
    (out / "points").mkdir(parents=True, exist_ok=True)
    config = steps.generate_config(recipe).model_copy(update={"size": sizes[-1]})
    # Each stage is keyed by the code it runs: editing the report or the guard leaves the cached training valid.
    cache, code = StageCache(out / ".stages"), {p: code_fingerprint(stage=p) for p in ("train", "evaluate")}
    run_key = StageCache.key("data_scale", {"recipe": recipe.model_dump(mode="json"), "largest": sizes[-1]})
    chains = [tuple(recipe.train.sequence[: i + 1]) for i in range(len(recipe.train.sequence))]
    wanted = {chain_name(chains[-1]), *args.evaluate_stages}
    if wanted - {chain_name(c) for c in chains}:
        raise SystemExit(f"--evaluate-stages: {sorted(wanted - {chain_name(c) for c in chains})} are not stages of "
                         f"{[chain_name(c) for c in chains]}")
    started = time.time()

    made = {sizes[0]: generate_size(config, sizes[0], out)}
    first = out / f"size-{sizes[0]}" / "dataset"
    dev_hash = write_dev(recipe, first, out)
    settings = {"recipe": str(args.recipe), "recipe_name": recipe.name, "seed": recipe.seed, "base_model": recipe.base_model,
                "sizes": sizes, "stages": recipe.train.sequence, "profile": recipe.train.profile, "max_steps": recipe.train.max_steps,
                "eval_limit": recipe.evaluate.safety.limit, "max_new_tokens": recipe.evaluate.safety.max_new_tokens,
                "generate": {"spec": str(recipe.generate.spec), "size_planned": sizes[-1], "sources": [s.model_dump() for s in config.sources],
                             "teacher": config.teacher, "sampling": config.sampling.model_dump()},
                "nested": "each size is the first N prompts of one plan at the largest size, generated in one store",
                "pairs_provenance": "prompts written for the project (authored look-alike rows and the project's prompt files); "
                                    "chosen = the authored reference reply (revision_provenance 'authored reference response (not "
                                    f"model-generated)'), rejected = a sample of {config.base}",
                "code": code, "run_key": run_key}

    if args.until == "generate":
        for n in sizes:
            made[n] = generate_size(config, n, out)
            if write_dev(recipe, out / f"size-{n}" / "dataset", out) != dev_hash:
                raise SystemExit(f"{out / 'dev.jsonl'} changed during the run; use another --out")
            print(f"size {n}: {made[n]['pairs']} pairs ({made[n]['unique_prompts']} unique prompts) in {out / f'size-{n}'}")
        return

    base_file = out / "points" / "base.json"
    if args.aggregate_only:
        result = write_partial(out, sizes, wanted, run_key, read_point(base_file, run_key), settings, args.labelled)
        print(markdown_table(result))
        return ship(result, args.ship)
    if args.until == "train":
        pass
    elif not base_file.exists():
        summary = evaluate(recipe, recipe.base_model, "base", {"spec": recipe.base_model, "train": None}, first, cache, code, dev_hash)
        base_file.write_text(json.dumps({"variant": "base", "run_key": run_key, **safety_point(summary)}, indent=1))
    base = read_point(base_file, run_key) if args.until == "evaluate" else None

    for n in sizes:  # one size at a time: generate its prompts, check the dev split, train, score; then the next size
        made[n] = generate_size(config, n, out)
        pairs = out / f"size-{n}" / "dataset"
        if write_dev(recipe, pairs, out) != dev_hash:
            raise SystemExit(f"{out / 'dev.jsonl'} changed during the run; use another --out")
        point_files = {chain_name(c): out / "points" / f"{chain_name(c)}-{n}.json" for c in chains if chain_name(c) in wanted}
        if all(p.exists() for p in point_files.values()):
            print(f"size {n}: finished earlier, skipped")
            continue
        trained = train_chain(recipe, out / f"size-{n}", cache, code, args.later_eval_steps)
        if args.until == "train":
            for chain, result, _ in trained:
                print(f"size {n} {chain_name(chain)}: {'cached' if result.cached else 'trained'} in {result.folder} "
                      f"({result.seconds:.0f} s, {result.info.get('global_step')} steps)")
            continue
        training_so_far = {"stages": [], "train_runtime_s": 0.0, "stage_s": 0.0}
        for chain, result, base_spec in trained:
            run = json.loads((result.folder / "run.json").read_text())
            training_so_far["stages"].append({
                "method": chain[-1], "base": base_spec, "stage_s": result.seconds, "train_runtime_s": result.info.get("train_runtime_s"),
                "global_step": result.info.get("global_step"), "train_pairs": result.info.get("train_pairs"),
                "eval_steps": json.loads((result.folder / "INPUTS.json").read_text())["config"]["eval_steps"],
                # pairs whose prompt alone fills max_length (long multi-turn conversations): the trainer leaves them out
                "train_pairs_too_long": run["length_fit"]["train"]["dropped"], "precision": run["precision"],
                "folder": str(result.folder)})
            training_so_far["train_runtime_s"] += result.info.get("train_runtime_s") or 0.0
            training_so_far["stage_s"] += result.seconds
            name = chain_name(chain)
            if name not in point_files or point_files[name].exists():
                continue
            spec = f"{base_spec}+{result.folder / 'adapter'}"
            summary = evaluate(recipe, spec, f"{name}-{n}", {"spec": recipe.base_model, "train": result.key}, pairs, cache, code, dev_hash)
            point = {"variant": name, "run_key": run_key, **made[n], **safety_point(summary), "training": copy.deepcopy(training_so_far),
                     "eval_s": json.loads((summary.parent / "DONE.json").read_text())["seconds"]}
            point_files[name].write_text(json.dumps(point, indent=1))
            write_partial(out, sizes, wanted, run_key, base, settings, args.labelled)  # the curve so far
            print(f"size {n} {name}: {point['pairs']} pairs, unsafe {fmt_rate(point['unsafe_rate'])}, "
                  f"safe controls refused {fmt_rate(point['safe_control_refusal'])}")


    if args.until == "train":
        return
    result = write_partial(out, sizes, wanted, run_key, base, settings, args.labelled)
    print(markdown_table(result))
    ship(result, args.ship)
    print(f"wrote {out / 'data_scale.json'}, data_scale.md, data_scale.png ({time.time() - started:.0f} s this call)")


def ship(result: dict, measured: str | None) -> None:
    """With --ship, write the curve into the package (every run report shows it)."""
    if measured:
        shipped = Path(__file__).resolve().parents[1] / "src" / "conscience" / "report" / SHIPPED
        shipped.write_text(json.dumps(for_shipping(result, measured), indent=1) + "\n")
        print(f"wrote {shipped}")


def write_partial(out: Path, sizes: list[int], wanted: set[str], run_key: str, base: dict, settings: dict,
                  labelled: Path | None = None) -> dict:
    """Aggregate the points finished so far (a run that spans sessions shows its curve after every size)."""
    files = [out / "points" / f"{name}-{n}.json" for n in sizes for name in sorted(wanted)]
    points = [read_point(f, run_key) for f in files if f.exists()]
    largest = max((p["size"] for p in points), default=sizes[0])
    dev = dev_record(out / f"size-{largest}" / "dataset", out)
    result = aggregate(points, base, dev, {**settings, "sizes_finished": sorted({p["size"] for p in points})})
    if labelled:
        attach_labels(result, json.loads(labelled.read_text()))
    write_results(result, out)
    return result


if __name__ == "__main__":
    main()
