"""`conscience bench`: benchmark maintenance. `check` proves the test split is not contaminated."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from conscience.cli.common import console, err_console, offline_env, run_or_exit

app = typer.Typer(help="Asclepius benchmark maintenance (contamination check, dev split).", no_args_is_help=True)


@app.callback()
def bench() -> None:
    """Asclepius benchmark maintenance."""


def _part(benchmark: Path | None, split: str) -> list:
    """One split of the benchmark. A user file without 'split' keys has no parts, so these commands refuse it
    (evaluating it whole is right; comparing it with itself is not)."""
    from conscience.data import load_benchmark
    from conscience.data.benchmark import unsplit
    from conscience.errors import ConscienceError

    items = load_benchmark(benchmark, split)  # type: ignore[arg-type]
    if benchmark is not None and unsplit(items):
        raise ConscienceError("this command needs a 'split' key (test or train) on every row", where=benchmark, field="split")
    return items


@app.command()
def check(
    pairs: Path | None = typer.Option(None, "--pairs", help="Preference pairs (JSONL with 'prompt', or a datasets save_to_disk folder) to compare with."),
    benchmark: Path | None = typer.Option(None, "--benchmark", help="A benchmark JSONL whose rows carry 'split' (default: the shipped Asclepius)."),
    threshold: float = typer.Option(0.9, min=0.0, max=1.0, help="MiniLM cosine at or above which two texts count as near duplicates."),
    show: int = typer.Option(50, min=1, help="How many offending pairs to list."),
) -> None:
    """Fail (exit 1) if any test item is an exact or near duplicate of a train item or of a pairs-file prompt."""
    offline_env()
    from conscience.data.contamination import check_contamination, items_as_others, pairs_prompts

    def run():
        test, train = _part(benchmark, "test"), _part(benchmark, "train")
        texts, labels = items_as_others(train)
        if pairs is not None:
            pair_texts, pair_labels = pairs_prompts(pairs)
            texts, labels = texts + pair_texts, labels + pair_labels
        return check_contamination(test, texts, threshold, other_labels=labels)

    report = run_or_exit(run)
    scope = f"{report.n_test_items} test items ({report.n_test_texts} texts) vs {report.n_other_texts} train/pairs texts"
    if report.passed:
        closest = report.closest
        tail = f"; closest pair {closest.similarity:.3f} ({closest.test_id} vs {closest.other})" if closest else ""
        console.print(f"[green]ok[/green]: no exact or near duplicate (cosine >= {threshold}) in {scope}{tail}", highlight=False)
        return
    table = Table(title=f"{len(report.hits)} contaminated pair(s), cosine >= {threshold}")
    for column in ("test item", "test text", "other", "other text", "cosine", "exact"):
        table.add_column(column, overflow="fold")
    for hit in report.hits[:show]:
        table.add_row(hit.test_id, hit.test_text, hit.other, hit.other_text, f"{hit.similarity:.3f}", "yes" if hit.exact else "")
    err_console.print(table)
    more = f" (first {show} listed)" if len(report.hits) > show else ""
    err_console.print(f"[red]contaminated[/red]: {len(report.hits)} pair(s) in {scope}{more}", highlight=False)
    sys.exit(1)


@app.command()
def dev(
    pairs: Path = typer.Option(..., "--pairs", help="The training pairs (JSONL with 'prompt', or a datasets save_to_disk folder)."),
    out: Path = typer.Option(..., "--out", help="Where to write the dev items (benchmark JSONL)."),
    benchmark: Path | None = typer.Option(None, "--benchmark", help="A benchmark JSONL whose rows carry 'split' (default: the shipped Asclepius)."),
) -> None:
    """Write the train-split items no training pair was drawn from: a dev split to tune on instead of test."""
    from conscience.evaluate.asclepius import dev_items
    from conscience.jsonl import write_jsonl

    def run():
        train = _part(benchmark, "train")
        return train, dev_items(train, pairs)

    train, items = run_or_exit(run)
    write_jsonl(out, [item.model_dump(exclude_none=True) for item in items])
    surfaces = sorted({i.surface for i in items})
    counts = ", ".join(f"{s} {sum(i.surface == s for i in items)}" for s in surfaces)
    console.print(f"wrote {len(items)} of {len(train)} train items to {out} ({counts}); evaluate with "
                  f"`conscience eval safety --benchmark {out} --split all`", highlight=False)
