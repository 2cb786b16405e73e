"""`conscience judge score|calibrate|train`: the Asclepius judge without running a model."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from conscience.cli.common import console, err_console, offline_env, run_or_exit

app = typer.Typer(help="The Asclepius judge: score given replies, calibrate against the gold set, refit.", no_args_is_help=True)


@app.command()
def score(
    inp: Path = typer.Option(..., "--in", help="JSONL: a benchmark item per line plus 'response' (and optional 'assistant_turns')."),
    out: Path = typer.Option(..., "--out", help="JSONL: each input row plus 'refused', 'unsafe', 'rule' and the members' 'votes'."),
    llm_judge: str | None = typer.Option(None, "--judge", help="Optional LLM judge spec added to the ensemble."),
) -> None:
    """Score replies that already exist (no model is run). A bad row fails with its line number."""
    offline_env()
    from conscience.errors import ConscienceError
    from conscience.data import parse_item
    from conscience.jsonl import read_jsonl, write_jsonl
    from conscience.judge import load_judge

    def run() -> int:
        rows, items = [], []
        for line, row in read_jsonl(inp):
            if not isinstance(row.get("response"), str):
                raise ConscienceError("needs a 'response' string", where=inp, line=line, field="response")
            turns = row.get("assistant_turns", [])
            if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
                raise ConscienceError("'assistant_turns' must be a list of strings", where=inp, line=line, field="assistant_turns")
            items.append(parse_item({k: v for k, v in row.items() if k not in ("response", "assistant_turns")}, inp, line))
            rows.append(row)
        judgements = load_judge(llm_judge=llm_judge).score(items, [r["response"] for r in rows],
                                                           [r.get("assistant_turns", []) for r in rows])
        write_jsonl(out, [{**r, "refused": j.refused, "unsafe": j.unsafe, "rule": j.rule,
                           "votes": [v.model_dump() for v in j.votes]} for r, j in zip(rows, judgements)])
        return len(rows)

    n = run_or_exit(run)
    console.print(f"scored {n} replies → {out}", highlight=False)


def _kappa_ci(a) -> str:
    if a.kappa is None:
        return "—"
    return f"{a.kappa:.3f}" + (f" [{a.kappa_low:.2f}, {a.kappa_high:.2f}]" if a.kappa_low is not None else "")


@app.command()
def calibrate(
    gold: Path | None = typer.Option(None, "--gold", help="Gold set JSONL (default: the shipped one)."),
    weights: Path | None = typer.Option(None, "--weights", help="Judge weights JSON (default: the shipped ones)."),
    llm_judge: str | None = typer.Option(None, "--judge", help="Optional LLM judge spec added to the ensemble."),
    part: str = typer.Option("heldout", "--part", help="heldout (the default, never trained on) or train."),
    write: Path | None = typer.Option(None, "--write", help="Also write the whole report as JSON (each run report "
                                      "keeps the shipped judge's in the user cache, under calibration/)."),
) -> None:
    """Accuracy, Cohen's kappa and confusion matrices for `unsafe` and `refused`, per surface. Exit 1 below the bar."""
    offline_env()
    from conscience.judge import load_judge
    from conscience.judge.calibrate import KAPPA_BAR, calibrate as run_calibration

    report = run_or_exit(lambda: run_calibration(load_judge(llm_judge=llm_judge, weights=weights), gold, part))
    for question in ("unsafe", "refused"):
        table = Table("group", "n", "accuracy", "kappa [95% CI]", "labellers' kappa", "TP", "FP", "FN", "TN",
                      title=f"judge vs labels — {question} (gold {report.part}, {report.overall.unsafe.n} replies)")
        for row in [report.overall, *report.by_kind, *report.by_surface, *report.by_source]:
            a, ceiling = getattr(row, question), getattr(row, f"labellers_{question}")
            table.add_row(row.group, str(a.n), f"{a.accuracy:.3f}", _kappa_ci(a), _kappa_ci(ceiling) if ceiling else "—",
                          str(a.tp), str(a.fp), str(a.fn), str(a.tn))
        console.print(table)
    console.print(f"judge: {', '.join(report.judge['members'])}; rule: {report.judge['rule']}; gold sha256 {report.gold_sha256[:12]}; "
                  "CIs: item bootstrap; labellers' kappa: two independent labellers on the same replies", highlight=False)
    if write:
        write.parent.mkdir(parents=True, exist_ok=True)
        write.write_text(report.model_dump_json(indent=1) + "\n")
        console.print(f"wrote {write}", highlight=False)
    kappa = report.overall.unsafe.kappa or 0.0
    if not report.passes:
        err_console.print(f"[red]below the bar[/red]: kappa on unsafe {kappa:.3f} < {KAPPA_BAR}", highlight=False)
        sys.exit(1)
    console.print(f"[green]ok[/green]: kappa on unsafe {kappa:.3f} >= {KAPPA_BAR}", highlight=False)


@app.command()
def train(
    out: Path = typer.Option(..., "--out", help="Where to write the weights JSON (the shipped file lives in conscience/judge/data)."),
    gold: Path | None = typer.Option(None, "--gold", help="Gold set JSONL (default: the shipped one)."),
    cross_encoder: bool = typer.Option(True, "--cross-encoder/--no-cross-encoder",
                                       help="Also fine-tune the cross-encoder member and choose its blend (minutes on 2 cores); "
                                            "without it, only the embedding member and the combiner are refitted."),
) -> None:
    """Refit the judge on the gold set's train part (the held-out part is never read)."""
    offline_env()
    if cross_encoder:
        from conscience.judge.fit import fit_judge

        path = run_or_exit(lambda: fit_judge(out, gold))
        console.print(f"wrote {path} and {path.parent / 'cross_encoder'}", highlight=False)
        return
    from conscience.judge.calibrate import fit_from_gold

    path = run_or_exit(lambda: fit_from_gold(out, gold))
    console.print(f"wrote {path}", highlight=False)
