"""``conscience train``: preference pairs to a LoRA adapter. Thin: parse, call ``conscience.train``, render."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from conscience.cli.common import console, offline_env, run_or_exit

if TYPE_CHECKING:  # conscience.train pulls in torch and TRL: imported only when a command runs
    from conscience.train import TrainPlan, TrainResult

app = typer.Typer(help="Train a LoRA adapter on preference pairs with DPO, IPO, KTO or SimPO (TRL).")


@app.callback(invoke_without_command=True)
def train_command(
    pairs: Path = typer.Option(..., "--pairs", help="save_to_disk DatasetDict folder (train[, validation]) or JSONL "
                               "file of prompt/chosen/rejected message lists"),
    out: Path = typer.Option(..., "--out", help="run folder: adapter/, config.yaml, log.jsonl, curves.png, README.md"),
    base: str = typer.Option("hf:smollm2-135m", "--base", help="hf:<alias> or hf:<local folder>"),
    method: str | None = typer.Option(None, "--method", help="dpo | ipo | kto | simpo (required unless the profile fixes it)"),
    profile: str = typer.Option("cpu-demo", "--profile", help="paper | cpu-demo | paper-qwen3-8b | path/to/custom.yaml"),
    max_steps: int | None = typer.Option(None, "--max-steps", min=1, help="stop after N optimizer steps"),
    merge: bool = typer.Option(False, "--merge", help="also write out/merged: the adapter folded into the base"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the plan (steps, tokens, memory) without loading weights"),
    processes: int = typer.Option(1, "--processes", min=1, help="with --dry-run: data-parallel processes to plan for"),
) -> None:
    """Train, or with --dry-run only plan. Re-running the same command after an interruption resumes."""
    offline_env()

    def run() -> None:
        from conscience.precision import resolve_bf16
        from conscience.train import load_profile, plan, train

        config = load_profile(profile).resolve(method, max_steps=max_steps)
        precision = resolve_bf16(config.bf16)
        console.print(f"precision: {precision.summary()}")
        if dry_run:
            _show_plan(plan(config, pairs, base, num_processes=processes, precision=precision))
            return
        result = train(config, pairs, base, out, merge=merge, precision=precision)
        _show_result(result)

    run_or_exit(run)


def _show_plan(the_plan: TrainPlan) -> None:
    table = Table(title=f"plan: {the_plan.method} on {the_plan.base} ({the_plan.profile}), no weights loaded",
                  show_header=False)
    held = "held out" if the_plan.held_out else "given"
    rows = [
        ("pairs", f"{the_plan.train_pairs} train, {the_plan.validation_pairs} validation ({held}), "
                  f"hash {the_plan.data_hash}"),
        ("steps", f"{the_plan.total_steps} ({the_plan.steps_per_epoch}/epoch, {the_plan.pairs_per_step} pairs/step, "
                  f"{the_plan.num_processes} process(es)); {the_plan.pairs_seen} pairs processed, epochs counted"),
        ("tokens", f"~{the_plan.tokens_estimate:,} ({the_plan.mean_tokens_per_pair} per pair, chosen + rejected)"),
        ("parameters", f"{the_plan.total_params:,} total, {the_plan.trainable_params:,} trainable (LoRA)"),
        ("memory / device", f"~{sum(the_plan.memory_gib.values()):.1f} GiB: "
                            + ", ".join(f"{k} {v}" for k, v in the_plan.memory_gib.items())),
        ("compute", f"~{the_plan.train_flops:.2e} FLOPs"),
        ("precision", the_plan.precision),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    console.print(f"memory is rough: {the_plan.memory_note}", style="dim")


def _show_result(result: TrainResult) -> None:
    resumed = f" (resumed from step {result.resumed_from_step})" if result.resumed_from_step is not None else ""
    console.print(f"trained {result.method} for {result.global_step} steps{resumed}: {result.out_dir}")
    if result.dropped_pairs:
        console.print(f"[yellow]{result.dropped_pairs} of {result.train_pairs} training pairs were left out: their prompt "
                      "alone fills max_length (see run.json: length_fit)[/yellow]")
    for key, value in result.metrics.items():
        console.print(f"  {key}: {value:.4f}")
    console.print(f"load it with: {result.adapter_spec}")
    if result.merged_dir:
        console.print(f"merged model: hf:{result.merged_dir}")
