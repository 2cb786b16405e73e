"""`conscience eval safety` and `conscience eval compare`: run Asclepius on a model; compare two runs."""

from __future__ import annotations

from pathlib import Path

import typer

from conscience.cli.common import console, offline_env, run_or_exit

app = typer.Typer(help="Evaluate models on Asclepius and compare runs.", no_args_is_help=True)


@app.command()
def safety(
    model: str = typer.Option(..., "--model", help="Model spec, e.g. hf:smollm2-135m or hf:<base>+<adapter>."),
    out: Path = typer.Option(..., "--out", help="Run folder: items.jsonl, summary.json, summary.md (re-running resumes)."),
    benchmark: Path | None = typer.Option(None, "--benchmark", help="A benchmark JSONL (default: the shipped Asclepius)."),
    split: str = typer.Option("test", "--split", help="test, train or all (a user file without 'split' keys is evaluated whole)."),
    judge: str | None = typer.Option(None, "--judge", help="LLM judge spec added to the judge ensemble (default: none)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Run only N items, taken round-robin across surfaces."),
    max_new_tokens: int = typer.Option(192, "--max-new-tokens", min=1),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 is greedy decoding (the default)."),
    seed: int = typer.Option(0, "--seed"),
    batch_size: int = typer.Option(32, "--batch-size", min=1),
) -> None:
    """Run every item (multi-turn turn by turn, plus sycophancy neutral twins), judge each reply, summarise."""
    offline_env()
    from conscience.evaluate.asclepius.metrics import render_markdown
    from conscience.evaluate.asclepius.safety import evaluate_safety
    from conscience.models import GenerationParams

    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
    summary = run_or_exit(lambda: evaluate_safety(model, out, benchmark=benchmark, split=split, judge=judge, params=params,
                                                  limit=limit, batch_size=batch_size))
    console.print(render_markdown(summary), markup=False, highlight=False)
    note = summary.provenance["benchmark"].get("split_note")
    if note:
        console.print(f"note: {benchmark}: {note}", highlight=False)
    console.print(f"wrote {out}/items.jsonl, summary.json, summary.md", highlight=False)


@app.command()
def compare(
    a: Path = typer.Argument(..., help="Run folder of the baseline (A)."),
    b: Path = typer.Argument(..., help="Run folder of the candidate (B)."),
    out: Path | None = typer.Option(None, "--out", help="Also write the comparison as JSON here."),
) -> None:
    """Side by side per surface, the ratio of unsafe rates B/A with a bootstrap CI, and a significance test."""
    from conscience.evaluate.asclepius.compare import compare_runs, render_comparison

    result = run_or_exit(lambda: compare_runs(a, b))
    console.print(render_comparison(result), markup=False, highlight=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.model_dump_json(indent=1) + "\n")
        console.print(f"wrote {out}", highlight=False)


@app.command()
def rescore(
    run: Path = typer.Argument(..., help="An evaluation folder (run.json and items.jsonl)."),
    out: Path = typer.Option(..., "--out", help="Where to write the re-scored items.jsonl, summary.json, summary.md."),
    weights: Path | None = typer.Option(None, "--weights", help="Judge weights file (default: the shipped judge)."),
    labels: Path | None = typer.Option(None, "--labels", help="Score from these gold-shaped labelled rows instead of a judge."),
) -> None:
    """Judge the replies a run kept again, with another judge or with labels; nothing is generated."""
    offline_env()
    from conscience.evaluate.asclepius.metrics import render_markdown
    from conscience.evaluate.asclepius.rescore import rescore as rescore_run

    def go():
        if labels is not None:
            from conscience.evaluate.asclepius.rescore import LabelScorer
            from conscience.judge.gold import load_gold

            return rescore_run(run, out, LabelScorer.from_gold(load_gold(labels), str(labels)), twins=False)
        from conscience.judge import load_judge

        return rescore_run(run, out, load_judge(weights=weights))

    summary = run_or_exit(go)
    console.print(render_markdown(summary), markup=False, highlight=False)
    console.print(f"wrote {out}/items.jsonl, summary.json, summary.md (replies from {run}, none generated)", highlight=False)
