"""`conscience run [RECIPE.yaml]` — the main job: generate → train → evaluate → verdict → report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from conscience.cli.common import console, run_or_exit


def run(recipe: Optional[Path] = typer.Argument(None, help="Recipe YAML; default: the shipped offline recipe on the bundled SmolLM2."),
        runs_dir: Path = typer.Option(Path("runs"), help="Where run folders and the stage cache live (runs/latest points at the newest)."),
        check: bool = typer.Option(False, "--check", help="Only validate the recipe (keys, specs, files) and exit."),
        gate: bool = typer.Option(False, "--gate", help="Exit 0 if every criterion passes, 3 if one fails, 4 if one "
                                  "cannot be judged (for CI); without it the verdict is printed and the exit is 0.")) -> None:
    """Run a recipe end to end. Stages are cached by their inputs: a re-run redoes only what changed."""
    from conscience.recipe import load_recipe
    from conscience.recipe.run import run_recipe

    loaded = run_or_exit(lambda: load_recipe(recipe))
    if check:
        console.print(f"[green]valid[/green] recipe {loaded.name}: base {loaded.base_model}, "
                      f"variants {', '.join(loaded.variant_names[1:])}")
        return
    run_dir = run_or_exit(lambda: run_recipe(loaded, runs_dir, console=console))
    report = json.loads((run_dir / "report.json").read_text())
    rows = [(row, "Verdict") for row in report["verdict"]]
    rows += [(row, "Reference, not gated") for row in report.get("reference_verdict", [])]
    for row, kind in rows:
        table = Table("criterion", "figure", "95% CI", "status", title=f"{kind} — {row['variant']}: {row['overall']}")
        for cell in row["cells"]:
            colour = {"pass": "green", "fail": "red"}.get(cell["status"], "yellow")
            table.add_row(cell["criterion"], cell["figure"], cell["ci"] or "—", f"[{colour}]{cell['status']}[/{colour}]")
        console.print(table)
    for note in report["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(f"report: {run_dir / 'report.html'} (also report.md, report.json); runs/latest → {run_dir.name}")
    if gate:
        from conscience.report.gate import gate_code

        code = gate_code(report["verdict"])
        console.print(f"gate: exit {code} ({ {0: 'every criterion passes', 3: 'a criterion fails', 4: 'a criterion cannot be judged'}[code] })")
        raise typer.Exit(code)
