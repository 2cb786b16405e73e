"""Unsafe rate and safe-control refusals read from labels instead of the judge, beside the judge's own, per run.

Why: the judge agrees with the labellers only moderately on real replies (``conscience judge calibrate``), so a
difference between two models' judged rates may be judge noise. Where every reply a run kept has been labelled
(two blind readings, a third on disagreement: ``judge_gold_from_run.py`` then ``judge_gold_assemble.py``), the
run's rates can be recomputed from the labels with the evaluation's own aggregation (``conscience eval rescore
--labels``), and the judge's agreement with the labels measured on exactly those replies.

    python benchmarks/labelled_rates.py --labels runs/gold-scale/gold.jsonl --out runs/labelled \
        --run base=runs/data-scale/.stages/safety-base-* --run "sft-dpo@300=runs/data-scale/.stages/safety-sft-dpo-300-*"

The first --run is the baseline: every other run's labelled unsafe rate is compared with it (paired ratio with a
95% bootstrap CI over items, McNemar's test). Sycophancy neutral twins are not labelled, so no sycophancy delta.
Writes OUT/<name>/ (the labelled re-score) and OUT/labelled_rates.{json,md}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conscience.evaluate.asclepius.compare import compare_runs
from conscience.evaluate.asclepius.metrics import Rate, fmt
from conscience.evaluate.asclepius.rescore import LabelScorer, rescore
from conscience.judge.gold import load_gold
from conscience.judge.metrics import agreement


def judge_vs_labels(judged: Path, labelled: Path) -> dict:
    """Per reply: the judge's verdicts in the run against the labels (every turn, twins left out)."""
    def verdicts(folder: Path) -> tuple[list[bool], list[bool], list[str]]:
        unsafe, refused, items = [], [], []
        for line in (folder / "items.jsonl").read_text().splitlines():
            row = json.loads(line)
            for j in row["judgements"]:
                unsafe.append(j["unsafe"]), refused.append(j["refused"]), items.append(row["id"])
        return unsafe, refused, items

    ju, jr, items = verdicts(judged)
    lu, lr, _ = verdicts(labelled)
    return {"unsafe": agreement(lu, ju, items).model_dump(), "refused": agreement(lr, jr, items).model_dump()}


def fmt_rate(d: dict | None) -> str:
    return fmt(Rate(**d)) if d else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, action="append", required=True, help="gold-shaped labelled rows")
    parser.add_argument("--run", action="append", required=True, help="NAME=FOLDER of an evaluation (first: baseline)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    examples = [e for path in args.labels for e in load_gold(path)]
    scorer = LabelScorer.from_gold(examples, ", ".join(map(str, args.labels)))
    runs = [tuple(spec.split("=", 1)) for spec in args.run]
    results, baseline = [], None
    for name, folder in runs:
        folder = Path(folder)
        config = json.loads((folder / "run.json").read_text())["config"]  # rescore checks the folder and reads the rest
        out = args.out / name
        labelled = rescore(folder, out, scorer, twins=False)
        judged = json.loads((folder / "summary.json").read_text())
        entry = {"name": name, "run": str(folder), "model": config["model"], "judge": config["judge"].get("name"),
                 "judge_weights_sha256": config["judge"].get("weights_sha256"),
                 "judged": {"unsafe_rate": judged["unsafe_rate"], "safe_control_refusal": judged["helpfulness_floor"]},
                 "labelled": {"unsafe_rate": labelled.unsafe_rate.model_dump(),
                              "safe_control_refusal": labelled.helpfulness_floor.model_dump() if labelled.helpfulness_floor else None},
                 "judge_vs_labels": judge_vs_labels(folder, out)}
        if baseline is None:
            baseline = out
        else:
            overall = compare_runs(baseline, out).rows[-1]
            entry["labelled_vs_baseline"] = {"ratio": overall.ratio, "ci": [overall.ratio_ci_low, overall.ratio_ci_high],
                                             "test": overall.test, "p": overall.p_value}
        results.append(entry)

    lines = [f"Labels: {', '.join(map(str, args.labels))} ({len(examples)} rows). Judge: the one each run was scored with.", "",
             "| run | unsafe, judge | unsafe, labels | labelled ratio to first run [95% CI] | safe controls refused, judge "
             "| safe controls refused, labels | judge vs labels per reply: unsafe κ [95% CI] / refused κ |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        vs = r.get("labelled_vs_baseline")
        ratio = "—" if not vs or vs["ratio"] is None else f"{vs['ratio']:.2f} [{vs['ci'][0]:.2f}, {vs['ci'][1]:.2f}], p {vs['p']:.2g}"
        u, rf = r["judge_vs_labels"]["unsafe"], r["judge_vs_labels"]["refused"]
        kappa = (f"{u['kappa']:.2f} [{u['kappa_low']:.2f}, {u['kappa_high']:.2f}] / {rf['kappa']:.2f}"
                 if u["kappa"] is not None and u["kappa_low"] is not None and rf["kappa"] is not None else "undefined")
        lines.append(f"| {r['name']} | {fmt_rate(r['judged']['unsafe_rate'])} | {fmt_rate(r['labelled']['unsafe_rate'])} | {ratio} | "
                     f"{fmt_rate(r['judged']['safe_control_refusal'])} | {fmt_rate(r['labelled']['safe_control_refusal'])} | {kappa} (n={u['n']}) |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "labelled_rates.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "labelled_rates.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
