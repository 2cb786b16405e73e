"""``conscience eval utility``: score a model on MedQA-style questions; ``… utility compare A B``: compare runs.

The group's callback is the run itself (``invoke_without_command``), so ``conscience eval utility --model …``
works without a sub-verb while ``compare`` stays a sub-command. Thin: parse, call the library, print.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from conscience.cli.common import console, err_console, offline_env, run_or_exit

app = typer.Typer(
    help="MedQA-style utility: lm-eval-exact scoring, chance-aware reporting, paired comparison of runs.",
    invoke_without_command=True,
)


class Method(str, Enum):
    loglik = "loglik"
    cloze = "cloze"
    generate = "generate"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


@app.callback()
def run(
    ctx: typer.Context,
    model: str = typer.Option(None, "--model", help="Model spec: hf:smollm2-135m, hf:<folder>[+<adapter>], openai:…"),
    questions: Path = typer.Option(None, "--questions", help="MedQA JSONL, HF -hf layout (jsonl/parquet/saved folder) or project JSONL."),
    out: Path = typer.Option(None, "--out", help="Run directory (resumable: re-running skips scored questions)."),
    method: Method = typer.Option(Method.loglik, "--method", help="loglik = lm-eval medqa_4options; cloze; generate."),
    circular: bool = typer.Option(False, "--circular", help="Also ask every question under all k option rotations."),
    subset: int = typer.Option(None, "--subset", help="Stratified fixed-seed subset of this many questions."),
    ids: Path = typer.Option(None, "--ids", help="Reuse the ids of an earlier run (its DIR/ids.txt)."),
    seed: int = typer.Option(0, "--seed", help="Seed for --subset."),
    split: str = typer.Option("test", "--split", help="Split to read from a multi-split saved dataset folder."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Sequences per forward pass / generation batch."),
) -> None:
    """Score MODEL on QUESTIONS and write DIR/summary.json, DIR/summary.md and DIR/predictions.jsonl."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [name for name, value in (("--model", model), ("--questions", questions), ("--out", out)) if value is None]
    if missing:
        err_console.print(f"[red]error:[/red] missing {', '.join(missing)} (or use the `compare` sub-command)\n")
        err_console.print(ctx.get_help())
        raise typer.Exit(2)
    offline_env()
    from conscience.evaluate.utility import evaluate_utility

    summary = run_or_exit(
        lambda: evaluate_utility(
            model, questions, method=method.value, circular=circular, out_dir=out, subset=subset, ids_file=ids,
            seed=seed, split=split, batch_size=batch_size,
        )
    )
    chance = summary.chance
    console.print(
        f"{summary.model} · {summary.method}{' · circular' if summary.circular else ''} · {summary.n} questions\n"
        f"accuracy {_pct(summary.accuracy)} (95% CI {_pct(summary.accuracy_ci[0])}–{_pct(summary.accuracy_ci[1])})"
        + (f", acc_norm {_pct(summary.acc_norm)}" if summary.acc_norm is not None else "")
        + f"\npredicted letters: {summary.prediction_distribution}",
        highlight=False,
    )
    if summary.circular_report:
        c = summary.circular_report
        console.print(
            f"circular: mean {_pct(c.mean_accuracy)}, strict {_pct(c.strict_accuracy)}, status {c.status}", highlight=False
        )
    colour = "green" if chance.status == "informative" else "yellow"
    console.print(f"[{colour}]{chance.status}[/{colour}]: {chance.explanation}", highlight=False)
    console.print(f"written: {out / 'summary.json'}, {out / 'summary.md'}, {out / 'predictions.jsonl'}", highlight=False)


@app.command("compare")
def compare(
    a: Path = typer.Argument(..., help="Run directory of the reference (e.g. the base model)."),
    b: Path = typer.Argument(..., help="Run directory of the candidate (e.g. the trained model)."),
    margin: float = typer.Option(5.0, "--margin", help="Allowed drop in points: the check is B ≥ A − margin."),
    json_out: Path = typer.Option(None, "--json", help="Also write the comparison as JSON here."),
) -> None:
    """Paired difference B − A with its 95% CI and the verdict: pass, fail or cannot be judged (at chance)."""
    offline_env()
    from conscience.evaluate.utility import compare_runs

    result = run_or_exit(lambda: compare_runs(a, b, margin=margin / 100.0))
    console.print(
        f"{result.metric}: A {_pct(result.a_score)} ({result.a_status}) · B {_pct(result.b_score)} ({result.b_status}) · "
        f"n={result.n}\nB − A = {100 * result.difference:+.1f} points "
        f"(95% CI {100 * result.difference_ci[0]:+.1f} to {100 * result.difference_ci[1]:+.1f})"
        + (f", McNemar p={result.mcnemar_p:.3g}" if result.mcnemar_p is not None else ""),
        highlight=False,
    )
    console.print(f"verdict: [bold]{result.verdict}[/bold] — {result.explanation}", highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(result.model_dump(), indent=2) + "\n", encoding="utf-8")
