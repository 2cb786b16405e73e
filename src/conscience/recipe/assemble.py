"""Assemble report.json from the stage folders (their summaries are the source of truth), then plot and render."""

from __future__ import annotations

import json
import platform
import shutil
import time
from pathlib import Path

from pydantic import BaseModel, ValidationError

from conscience.errors import ConscienceError
from conscience.evaluate.asclepius import SafetySummary
from conscience.evaluate.utility import UtilitySummary
from conscience.generate import GenerateSummary
from conscience.recipe.config import Recipe
from conscience.recipe.stages import StageResult
from conscience.report import (Criteria, VariantVerdict, coverage_cell, curve_note, helpfulness_cell, load_shipped, medqa_cell, plot_curve,
                               render_reports, report_view, safety_cells, surface_bars, tradeoff)

SAMPLES_PER_SURFACE = 1


def _read(path: Path, model: type[BaseModel] | None = None) -> dict:
    """A stage's summary, checked against the stage's own record when it has one. A missing or malformed file fails
    naming it: reading it as empty would put blanks (or a false "pass") in the report."""
    if not path.exists():
        raise ConscienceError("stage output not found (did the stage finish?)", where=path)
    data = json.loads(path.read_text())
    if model is not None:
        try:
            model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConscienceError(f"not a {model.__name__}: {first['msg']}", where=path,
                                  field=".".join(str(p) for p in first["loc"]) or None) from None
    return data


def read_summaries(generated: StageResult, variants: list) -> tuple[dict, dict[str, dict], dict[str, dict]]:
    """Every stage summary the report reads (generate's, then each variant's safety and utility), each checked against
    its stage's record before any figure is computed, so a missing one fails naming its file."""
    generate = _read(generated.folder / "summary.json", GenerateSummary)
    safety = {v.name: _read(v.safety.folder / "summary.json", SafetySummary) for v in variants}
    utility = {v.name: _read(v.utility.folder / "summary.json", UtilitySummary) for v in variants}
    return generate, safety, utility


def verdict_criteria(recipe: Recipe) -> Criteria:
    """The recipe's ``criteria`` section as the record the verdict applies."""
    return Criteria(**recipe.criteria.model_dump())


def _items(folder: Path) -> dict[str, dict]:
    rows = {}
    path = folder / "items.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["id"]] = row
    return rows


def _rate(r: dict | None) -> dict:
    r = r or {}
    return {"rate": r.get("rate"), "ci_low": r.get("ci_low"), "ci_high": r.get("ci_high"), "n": r.get("n", 0)}


def _safety_view(summary: dict) -> dict:
    syc = summary.get("sycophancy_delta") or {}
    cres = summary.get("crescendo") or {}
    success = cres.get("success") or {}
    return {
        "unsafe": _rate(summary.get("unsafe_rate")),
        "per_surface": {s: _rate(r) for s, r in (summary.get("per_surface") or {}).items()},
        "helpfulness_floor": _rate(summary.get("helpfulness_floor")),
        "sycophancy_delta": {"delta": syc.get("delta"), "ci_low": syc.get("ci_low"), "ci_high": syc.get("ci_high")},
        "crescendo": {"success_rate": success.get("rate"), "ci_low": success.get("ci_low"), "ci_high": success.get("ci_high"),
                      "broke_at_turn": cres.get("first_unsafe_turn", {})},
    }


def _utility_view(summary: dict) -> dict:
    """The figures the report shows from a utility run's summary.json (``UtilitySummary``)."""
    circular = summary.get("circular_report") or {}
    chance = summary.get("chance") or {}
    ci = summary.get("accuracy_ci") or [None, None]
    return {"acc": summary.get("accuracy"), "ci_low": ci[0], "ci_high": ci[1], "acc_norm": summary.get("acc_norm"),
            "circular_mean": circular.get("mean_accuracy"), "circular_strict": circular.get("strict_accuracy"),
            "status": chance.get("status", "unknown"), "chance": chance.get("chance_level"),
            "constant_answer_baseline": chance.get("constant_answer_baseline"), "n": summary.get("n"),
            "prediction_distribution": summary.get("prediction_distribution", {})}


def _samples(items_by_variant: dict[str, dict[str, dict]]) -> list[dict]:
    base = items_by_variant["base"]
    samples, per_surface = [], {}
    for item_id, row in sorted(base.items()):
        if per_surface.get(row["surface"], 0) >= SAMPLES_PER_SURFACE or not all(item_id in v for v in items_by_variant.values()):
            continue
        per_surface[row["surface"]] = per_surface.get(row["surface"], 0) + 1
        responses, verdicts = {}, {}
        for name, rows in items_by_variant.items():
            r = rows[item_id]
            responses[name] = r["responses"][-1]
            verdicts[name] = "unsafe" if r["unsafe"] else ("refused" if r["refused"] else "complied safely")
        samples.append({"surface": row["surface"], "item_id": item_id, "prompt": " ⟶ ".join(row["turns"]),
                        "responses": responses, "verdicts": verdicts})
    return samples


def _coverage(recipe: Recipe) -> dict | None:
    if recipe.review.packet is None:
        return None
    from conscience.review import coverage_summary

    return coverage_summary(recipe.review.packet, recipe.review.db)


def _judge_calibration() -> dict:
    """The shipped judge scored against the gold set's held-out part, so the report says how far to trust it:
    kappa on 'unsafe' with its 95% CI overall and on real replies of the base model and of trained models."""
    from conscience.judge import calibrate_cached, load_judge

    report = calibrate_cached(load_judge())
    return {"part": report.part, "n": report.overall.unsafe.n, "gold_sha256": report.gold_sha256,
            "unsafe_kappa": report.overall.unsafe.kappa, "refused_kappa": report.overall.refused.kappa,
            "unsafe_accuracy": report.overall.unsafe.accuracy, "headline": report.headline()}


def _calibration_note(calibration: dict) -> str:
    parts = []
    for group, label in (("real-base", "real base-model replies"), ("real-trained", "real trained-model replies")):
        row = calibration["headline"].get(group)
        if row and row["unsafe_kappa"] is not None:
            low, high = row["ci"]
            ci = f" [{low:.2f}, {high:.2f}]" if low is not None else ""
            ceiling = f", labellers' own kappa {row['labeller_kappa']:.2f}" if row.get("labeller_kappa") is not None else ""
            parts.append(f"{row['unsafe_kappa']:.2f}{ci} on {label} (n={row['n']}{ceiling})")
    return (f"Judge reliability (gold held-out part, n={calibration['n']}, no LLM judge): Cohen's kappa on 'unsafe' "
            f"{calibration['unsafe_kappa']:.3f} overall; " + "; ".join(parts) + ". The unsafe rates above are only as "
            "reliable as these figures.")


def _training_entry(v, plots_dir: Path) -> dict:
    """A trained variant's line in the report: steps, pairs, time, final metrics, and what it started from."""
    info = v.train.info
    curves = v.train.folder / "curves.png"
    if curves.exists():
        shutil.copy(curves, plots_dir / f"curves_{v.name}.png")
    reference, said = info.get("reference"), ""
    if reference == v.trained_from:
        said = " (also its reference)"
    elif reference:
        said = f"; reference {reference}"
    return {"adapter": str(v.adapter), "trained_from": v.trained_from, "reference": info.get("reference"),
            "summary": f"{info.get('global_step')} steps on {info.get('train_pairs')} pairs "
                       f"({info.get('validation_pairs')} validation), {info.get('train_runtime_s', 0):.0f}s, "
                       f"from {v.trained_from}{said}; final metrics "
                       + ", ".join(f"{k}={val:.3g}" for k, val in list((info.get("metrics") or {}).items())[:6])}


def _variant_notes(variants: list, references: list[VariantVerdict]) -> list[str]:
    """What the reader needs to read the comparison: where staged variants started, what a variant was told in
    its system prompt, and which rows are not gated."""
    notes, starts = [], {}
    for v in variants:
        if v.trained_from and v.trained_from != variants[0].model_spec:
            starts.setdefault(v.trained_from, []).append(v.name)
    for start, names in starts.items():
        ablations = "; the ablations start there too, as the main method does" if len(names) > 1 else ""
        notes.append(f"Staged training: {', '.join(names)} started from {start} (the earlier stage's adapter merged into the "
                     f"base){ablations}. For methods with a reference model (DPO, IPO, KTO) that model is also the reference.")
    for v in variants:
        if v.system_prompt:
            notes.append(f"{v.name}: {v.model_spec} untrained, with a system prompt of {len(v.system_prompt)} characters (the "
                         "constitution's principles; provenance.system_prompts) before every Asclepius conversation and "
                         "MedQA question.")
    if references:
        notes.append(f"Reference rows ({', '.join(r.variant for r in references)}) are judged by the same criteria for comparison; "
                     "only the trained candidates set the overall verdict and the gate.")
    return notes


def write_report(run_dir: Path, recipe: Recipe, variants: list, generated: StageResult, constitution_id: dict) -> Path:
    from conscience.evaluate.utility import compare_runs

    plots_dir = run_dir / "plots"
    plots_dir.mkdir(exist_ok=True)
    gen_summary, safety_summaries, utility_summaries = read_summaries(generated, variants)
    criteria = verdict_criteria(recipe)
    safety = {name: _safety_view(summary) for name, summary in safety_summaries.items()}
    utility = {name: _utility_view(summary) for name, summary in utility_summaries.items()}
    items = {v.name: _items(v.safety.folder) for v in variants}
    base_flags = {i: r["unsafe"] for i, r in items["base"].items() if r["surface"] != "safe_control"}
    coverage = _coverage(recipe)
    rows, references, notes, training = [], [], [], {}
    for v in variants[1:]:
        flags = {i: r["unsafe"] for i, r in items[v.name].items() if r["surface"] != "safe_control"}
        cells = safety_cells(criteria, safety["base"]["unsafe"]["rate"], safety[v.name]["unsafe"]["rate"], base_flags, flags, recipe.seed)
        comparison = compare_runs(variants[0].utility.folder, v.utility.folder, margin=criteria.medqa_max_drop_points / 100)
        u_base, u_var = utility["base"], utility[v.name]
        low, high = comparison.difference_ci
        cells.append(medqa_cell(criteria, comparison.verdict,
                                f"{u_var['acc']:.3f} vs base {u_base['acc']:.3f} "
                                f"(difference {100 * comparison.difference:+.1f} points, {comparison.metric})",
                                f"[{100 * low:+.1f}, {100 * high:+.1f}] points",
                                f"{recipe.evaluate.utility.method} scoring on {u_base['n']} questions, paired comparison; "
                                f"base {u_base['status']}, variant {u_var['status']}"))
        floor = safety[v.name]["helpfulness_floor"]
        cells.append(helpfulness_cell(criteria, floor["rate"], floor["ci_low"], floor["ci_high"], floor["n"]))
        cells.append(coverage_cell(criteria, coverage))
        (rows if v.role == "candidate" else references).append(VariantVerdict(variant=v.name, model_spec=v.model_spec, cells=cells))
        if v.train:
            training[v.name] = _training_entry(v, plots_dir)
    for row in rows:
        for cell in row.cells:
            if cell.status == "fail":
                notes.append(f"{row.variant}: MISSED '{cell.criterion}' — {cell.figure}.")
    notes += _variant_notes(variants, references)
    if any(u["status"] != "informative" for u in utility.values()):
        notes.append("MedQA-style accuracy is at chance for at least one model: the utility criterion cannot be judged, "
                     "and a change in accuracy would reflect answer-letter bias, not knowledge.")
    calibration = _judge_calibration()
    notes.append(_calibration_note(calibration))
    curve = load_shipped()
    if curve:
        plot_curve(curve, plots_dir / "data_scale.png", criteria.unsafe_ratio_max, criteria.helpfulness_floor_max)
        notes.append(curve_note(curve, criteria.unsafe_ratio_max, criteria.helpfulness_floor_max))
    report = {
        "run_id": run_dir.name, "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "recipe": json.loads(recipe.model_dump_json()),
        "variants": [{"name": v.name, "role": v.role, "model_spec": v.model_spec, "adapter": str(v.adapter) if v.adapter else None,
                      "trained_from": v.trained_from, "system_prompt": v.system_prompt is not None,
                      "stages": {k: str(getattr(v, k).folder) for k in ("train", "safety", "utility") if getattr(v, k)}} for v in variants],
        "verdict": [dict(r.model_dump(), overall=r.overall) for r in rows],
        "reference_verdict": [dict(r.model_dump(), overall=r.overall) for r in references],
        "overall": "pass" if rows and all(r.overall == "pass" for r in rows) else ("fail" if any(r.overall == "fail" for r in rows) else "incomplete"),
        "notes": notes, "safety": safety, "surfaces": [s for s in safety["base"]["per_surface"]],
        "safety_how": f"Asclepius v0.1 split={recipe.evaluate.safety.split}, greedy, max_new_tokens={recipe.evaluate.safety.max_new_tokens}, "
                      "judged by the calibrated ensemble (see provenance); rates with 95% bootstrap CIs.",
        "utility": utility, "utility_how": f"method {recipe.evaluate.utility.method}, circular={recipe.evaluate.utility.circular}, "
                                            f"questions {recipe.evaluate.utility.questions or 'shipped usmle_style_30 (project-written)'}",
        "training": training, "samples": _samples(items), "coverage": coverage,
        "data_scale": report_view(curve) if curve else None,
        "plots": {"surfaces": "plots/surfaces.png", "tradeoff": "plots/tradeoff.png", **{f"curves_{n}": f"plots/curves_{n}.png" for n in training},
                  **({"data_scale": "plots/data_scale.png"} if curve else {})},
        "provenance": {
            "constitution": constitution_id, "base_model": recipe.base_model, "seed": recipe.seed,
            "python": platform.python_version(), "generate": {"stage": str(generated.folder), "summary": gen_summary},
            "teacher_note": "Teacher provenance: see generate.summary (authored vs model-generated).",
            "judge": safety_summaries["base"]["provenance"].get("judge"),
            "judge_calibration": calibration,
            "system_prompts": {v.name: v.system_prompt for v in variants if v.system_prompt},
            "software": safety_summaries["base"]["provenance"].get("software"),
        },
    }
    surface_bars(safety, plots_dir / "surfaces.png")
    tradeoff([{"variant": n, "acc": u["acc"] or 0, "acc_low": u["ci_low"] or 0, "acc_high": u["ci_high"] or 0, "chance": u["chance"],
                     "unsafe": safety[n]["unsafe"]["rate"], "unsafe_low": safety[n]["unsafe"]["ci_low"], "unsafe_high": safety[n]["unsafe"]["ci_high"]}
                    for n, u in utility.items()], plots_dir / "tradeoff.png")
    (run_dir / "report.json").write_text(json.dumps(report, indent=1, default=str))
    render_reports(run_dir)
    return run_dir / "report.json"
