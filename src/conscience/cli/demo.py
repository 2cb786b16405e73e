"""`conscience demo` — what `make demo` runs: the best end-to-end job that exists."""

from __future__ import annotations

import typer

from conscience.cli.common import console, run_or_exit


def demo(max_new_tokens: int = typer.Option(160, help="Maximum tokens per reply.")) -> None:
    """Run the constitution's test prompts through the bundled model and print one reply per principle."""
    from conscience.constitution import load_constitution
    from conscience.models import GenerationParams, load_model

    def go() -> None:
        c = load_constitution()
        model = load_model("hf:smollm2-135m")
        firsts = [(p, p.test_prompts[0]) for p in c.principles if len(p.test_prompts[0].turns) == 1]
        replies = model.generate([[{"role": "user", "content": t.turns[0]}] for _, t in firsts], GenerationParams(max_new_tokens=max_new_tokens))
        for (principle, test), reply in zip(firsts, replies):
            console.rule(f"{principle.name} — {test.id}")
            console.print(f"[bold]Prompt:[/bold] {test.turns[0]}", highlight=False)
            console.print(f"[bold]hf:smollm2-135m:[/bold] {reply.text}", highlight=False, markup=False)
            console.print(f"[dim]Pass criteria: {test.pass_criteria}[/dim]")

    run_or_exit(go)
