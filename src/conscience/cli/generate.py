"""`conscience generate`: make critique-and-revise preference pairs from a generation spec (thin: parse → run → render)."""

from __future__ import annotations

from pathlib import Path

import typer

from conscience.cli.common import console, offline_env, run_or_exit

app = typer.Typer(help="Generate critique-and-revise preference pairs (sample → critique → revise → pair → export).")


@app.callback(invoke_without_command=True)
def generate(
    spec: Path = typer.Option(None, "--spec", "--recipe", help="Generation spec YAML (default: the shipped offline spec)."),
    out: Path = typer.Option(None, "--out", help="Run directory (default: runs/generate/<spec name>). Re-running resumes it."),
    teacher: str = typer.Option(None, "--teacher", help="Model spec for both critic and reviser, e.g. anthropic:<model>, "
                                "openai:<model>@<url>, hf:<folder>, authored:clinical-v0.1."),
    critic: str = typer.Option(None, "--critic", help="Model spec for the critic only (overrides --teacher)."),
    reviser: str = typer.Option(None, "--reviser", help="Model spec for the reviser only (overrides --teacher)."),
    base: str = typer.Option(None, "--base", help="Model spec of the base model to sample."),
    limit: int = typer.Option(None, "--limit", min=1, help="Process only the first N planned prompts (a later full run continues)."),
) -> None:
    """Run or resume a generation spec and print its summary."""
    offline_env()

    def main() -> None:
        from conscience.generate import load_spec, run_generate
        from conscience.generate.summary import print_summary

        overrides: dict = {"base": base} if base else {}
        if teacher:  # --teacher sets both roles, replacing the recipe's critic/reviser; --critic/--reviser still win
            overrides.update(teacher=teacher, critic=critic, reviser=reviser)
        overrides.update({k: v for k, v in {"critic": critic, "reviser": reviser}.items() if v})
        config = load_spec(spec, overrides)
        run_dir = out or Path("runs") / "generate" / (spec.stem if spec else "default")
        summary = run_generate(config, run_dir, limit=limit)
        print_summary(summary, console)

    run_or_exit(main)


if __name__ == "__main__":
    app()
