"""`conscience constitution validate|show|diff|prompts` — read, check and compare constitutions."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from conscience.cli.common import console, run_or_exit
from conscience.constitution import constitution_hash, diff_constitutions, load_constitution

app = typer.Typer(help="Validate, show, diff and list the test prompts of a constitution (default: the shipped Clinical Constitution).", no_args_is_help=True)
PathArg = typer.Argument(None, help="Constitution YAML; default: the shipped Clinical Constitution.", show_default=False)


@app.command()
def validate(path: Optional[Path] = PathArg) -> None:
    """Check a constitution file: schema, unknown keys, empty fields, duplicate ids, missing test prompts."""
    c = run_or_exit(lambda: load_constitution(path))
    prompts = sum(len(p.test_prompts) for p in c.principles)
    console.print(f"[green]valid[/green] {c.id} v{c.version}: {len(c.principles)} principles, {prompts} test prompts, hash {constitution_hash(c)}")


@app.command()
def show(path: Optional[Path] = PathArg, full: bool = typer.Option(False, "--full", help="Also print critique and revision requests.")) -> None:
    """Print the principles (id, name, text; with --full the critique and revision wording too)."""
    c = run_or_exit(lambda: load_constitution(path))
    console.print(f"[bold]{c.title}[/bold] {c.id} v{c.version} (authored by: {c.authored_by}, hash {constitution_hash(c)})")
    for index, p in enumerate(c.principles, start=1):
        console.print(f"\n[bold cyan]{index:>2}. {p.name}[/bold cyan] [dim]({p.id}, {len(p.test_prompts)} test prompts)[/dim]")
        console.print(p.text)
        if full:
            console.print(f"[bold]Critique:[/bold] {p.critique_request}")
            console.print(f"[bold]Revision:[/bold] {p.revision_request}")


@app.command()
def diff(old: Path = typer.Argument(..., help="The older constitution YAML."),
         new: Optional[Path] = typer.Argument(None, help="The newer one; default: the shipped constitution.")) -> None:
    """Show principle-level changes from OLD to NEW: added, removed, and which fields/test prompts changed."""
    a = run_or_exit(lambda: load_constitution(old))
    b = run_or_exit(lambda: load_constitution(new))
    d = diff_constitutions(a, b)
    console.print(f"{a.id} v{d.old_version} → v{d.new_version}")
    if d.empty:
        console.print("no principle-level changes")
        return
    for pid in d.added:
        console.print(f"[green]+ added[/green]   {pid}")
    for pid in d.removed:
        console.print(f"[red]- removed[/red] {pid}")
    for change in d.changed:
        parts = [f"fields: {', '.join(change.fields)}"] if change.fields else []
        for label, ids in (("prompts added", change.prompts_added), ("prompts removed", change.prompts_removed), ("prompts changed", change.prompts_changed)):
            if ids:
                parts.append(f"{label}: {', '.join(ids)}")
        console.print(f"[yellow]~ changed[/yellow] {change.id}: " + "; ".join(parts))


@app.command()
def prompts(path: Optional[Path] = PathArg, principle: Optional[str] = typer.Option(None, help="Only this principle id.")) -> None:
    """List the operational test prompts (never used for training) with their pass criteria."""
    c = run_or_exit(lambda: load_constitution(path))
    table = Table("principle", "id", "turns", "pass criteria", show_lines=True)
    for p in c.principles:
        if principle and p.id != principle:
            continue
        for t in p.test_prompts:
            table.add_row(p.id, t.id, "\n".join(f"{i}. {turn}" for i, turn in enumerate(t.turns, 1)), t.pass_criteria)
    console.print(table)
