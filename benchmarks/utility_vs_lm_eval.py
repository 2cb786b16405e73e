"""Benchmark: `conscience eval utility --method loglik` against lm-evaluation-harness 0.4.13 `medqa_4options`.

Both score the same questions with the bundled SmolLM2-135M (the fp32 folder from
``conscience.models.bundled.ensure_hf_folder()``) on CPU at the same batch size, each in its own process,
timed end to end (imports, model load, scoring). lm-eval runs a local task that is its own medqa.yaml with
only the data source changed (dataset_path json + data_files, the questions converted to the -hf layout),
and its own preprocess_medqa.py copied verbatim. Printed: both accuracies, per-question agreement, wall and
CPU seconds and the speed ratio; then the circular figures and chance status of the bundled model.

The CPU is shared with other jobs, so wall times move with the machine's load; the CPU seconds (user+sys
of each child process) are the steadier comparison, and the load average is printed before and after.

Usage (needs the `bench` extra: pip install lm_eval==0.4.13):
    nice -n 10 .venv/bin/python benchmarks/utility_vs_lm_eval.py --questions medqa_dev200.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from conscience.evaluate.utility import evaluate_utility, load_questions
from conscience.models.bundled import ensure_hf_folder

SPEC = "hf:smollm2-135m"
TASK = "medqa_4options_local"
ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def write_inputs(questions_path: Path, limit: int | None, work: Path) -> tuple[Path, Path, list[str]]:
    """The questions in project format (for conscience) and -hf layout (for lm-eval), plus the task folder."""
    qset = load_questions(questions_path)
    questions = qset.questions[:limit] if limit else qset.questions
    project = work / "questions.jsonl"
    hf = work / "questions_hf.jsonl"
    with project.open("w") as p, hf.open("w") as h:
        for q in questions:
            p.write(json.dumps({"id": q.id, "question": q.question, "options": q.options, "answer": q.answer, "meta_info": q.meta_info}) + "\n")
            row = {"id": q.id, "sent1": q.question, "label": q.letters.index(q.answer)}
            row.update({f"ending{i}": text for i, text in enumerate(q.options.values())})
            h.write(json.dumps(row) + "\n")
    import lm_eval

    source = Path(lm_eval.__file__).parent / "tasks" / "medqa"
    tasks = work / "tasks"
    tasks.mkdir()
    shutil.copy(source / "preprocess_medqa.py", tasks / "preprocess_medqa.py")
    kept = [
        line for line in (source / "medqa.yaml").read_text().splitlines()
        if not re.match(r"(task|dataset_path|training_split|validation_split|test_split):", line)
    ]
    header = [f"task: {TASK}", "dataset_path: json", "dataset_kwargs:", "  data_files:", f"    test: {hf}", "test_split: test"]
    (tasks / f"{TASK}.yaml").write_text("\n".join(header + kept) + "\n")
    return project, tasks, [q.id for q in questions]


def timed(command: list[str]) -> tuple[float, float, str]:
    """Run a child process; return its wall seconds, CPU seconds (user+sys) and combined output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **ENV})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(command)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout + proc.stderr


def lm_eval_predictions(out: Path) -> tuple[dict[str, dict], dict]:
    """Per-question argmax (acc) and length-normalised argmax (acc_norm) from lm-eval's logged samples."""
    samples_file = next(out.rglob(f"samples_{TASK}_*.jsonl"))
    results_file = next(out.rglob("results_*.json"))
    rows = {}
    for line in samples_file.read_text().splitlines():
        sample = json.loads(line)
        lls = [float(resp[0]) for resp in sample["filtered_resps"]]
        letters = "ABCDE"[: len(lls)]
        rows[sample["doc"]["id"]] = {"pred": letters[int(np.argmax(lls))], "lls": dict(zip(letters, lls)), "acc": sample["acc"], "acc_norm": sample["acc_norm"]}
    return rows, json.loads(results_file.read_text())["results"][TASK]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, required=True, help="MedQA-format questions (JSONL)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions (quick check)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--skip-circular", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here instead of a temp dir")
    args = parser.parse_args()
    folder = ensure_hf_folder()
    work = args.keep or Path(tempfile.mkdtemp(prefix="utility_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    project, tasks, ids = write_inputs(args.questions, args.limit, work)
    print(f"questions: {args.questions} ({len(ids)}), model {SPEC} = {folder}, batch size {args.batch_size}, device cpu")
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f} (CPU shared with other engineers; run under nice)")

    lm_out = work / "lm_eval_out"
    lm_wall, lm_cpu, _ = timed([
        sys.executable, "-m", "lm_eval", "run", "--model", "hf",
        "--model_args", f"pretrained={folder},dtype=float32", "--tasks", TASK, "--include_path", str(tasks),
        "--device", "cpu", "--batch_size", str(args.batch_size), "--log_samples", "--output_path", str(lm_out),
    ])
    ours_dir = work / "conscience_out"
    code = (
        "from conscience.evaluate.utility import evaluate_utility; "
        f"evaluate_utility({SPEC!r}, {str(project)!r}, method='loglik', out_dir={str(ours_dir)!r}, batch_size={args.batch_size})"
    )
    our_wall, our_cpu, _ = timed([sys.executable, "-c", code])
    print(f"load average after both: {os.getloadavg()[0]:.2f}")

    lm_rows, lm_results = lm_eval_predictions(lm_out)
    ours = {json.loads(line)["id"]: json.loads(line) for line in (ours_dir / "predictions.jsonl").read_text().splitlines()}
    summary = json.loads((ours_dir / "summary.json").read_text())
    agree = sum(lm_rows[i]["pred"] == ours[i]["predicted"] for i in ids)
    agree_norm = sum(bool(lm_rows[i]["acc_norm"]) == bool(ours[i]["correct_norm"]) for i in ids)
    max_diff = max(abs(lm_rows[i]["lls"][k] - v) for i in ids for k, v in ours[i]["logliks"].items())
    print()
    print("| | lm-eval 0.4.13 medqa_4options | conscience eval utility (loglik) |")
    print("| --- | --- | --- |")
    print(f"| acc | {lm_results['acc,none']:.4f} | {summary['accuracy']:.4f} |")
    print(f"| acc_norm | {lm_results['acc_norm,none']:.4f} | {summary['acc_norm']:.4f} |")
    print(f"| wall s (end to end) | {lm_wall:.1f} | {our_wall:.1f} |")
    print(f"| CPU s (user+sys) | {lm_cpu:.1f} | {our_cpu:.1f} |")
    print(f"\nper-question predictions identical: {agree}/{len(ids)}; acc_norm outcome identical: {agree_norm}/{len(ids)}")
    print(f"max |loglik difference| over all options: {max_diff:.2e}")
    print(f"speed ratio lm-eval/conscience: wall {lm_wall / our_wall:.2f}x, CPU {lm_cpu / our_cpu:.2f}x")
    print(f"prediction distribution (conscience): {summary['prediction_distribution']}; gold: {summary['gold_distribution']}")
    print(f"chance status: {summary['chance']['status']} — {summary['chance']['explanation']}")

    if not args.skip_circular:
        start = time.perf_counter()
        circ = evaluate_utility(SPEC, project, method="loglik", circular=True, out_dir=work / "circular_out", batch_size=args.batch_size)
        c = circ.circular_report
        print(f"\ncircular loglik ({c.rotations} rotations, {time.perf_counter() - start:.0f} s): mean accuracy "
              f"{c.mean_accuracy:.4f} (95% CI {c.mean_accuracy_ci[0]:.3f}–{c.mean_accuracy_ci[1]:.3f}), strict "
              f"{c.strict_accuracy:.4f}, p vs chance {c.p_value_vs_chance:.3g}, status {c.status}")
        letters: dict[str, int] = {}
        for line in (work / "circular_out" / "predictions.jsonl").read_text().splitlines():
            row = json.loads(line)
            for answer in [row["predicted"]] + [r["predicted"] for r in row["rotations"]]:
                letters[answer] = letters.get(answer, 0) + 1
        print(f"predicted letters over all rotations: {dict(sorted(letters.items()))} (each gold position equally often)")
    print(f"\nwork folder: {work}")


if __name__ == "__main__":
    main()
