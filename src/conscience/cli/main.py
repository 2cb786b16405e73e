"""The `conscience` command: one verb group per stage of the recipe. Thin: parse → library → render."""

from __future__ import annotations

import typer

from conscience.cli import bench, constitution, eval_safety, eval_utility, generate, guard, judge, models, review, run, train
from conscience.cli.common import offline_env

app = typer.Typer(
    help="Conscience: align clinical chat models to a written Clinical Constitution, and measure it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _setup() -> None:
    offline_env()


eval_safety.app.add_typer(eval_utility.app, name="utility")

app.add_typer(constitution.app, name="constitution")
app.command(name="models")(models.models)
app.command(name="chat")(models.chat)
app.command(name="sample")(models.sample)
app.add_typer(generate.app, name="generate")
app.add_typer(train.app, name="train")
app.add_typer(eval_safety.app, name="eval")
app.add_typer(judge.app, name="judge")
app.add_typer(bench.app, name="bench")
app.add_typer(guard.app, name="guard")
app.add_typer(review.app, name="review")
app.command(name="run")(run.run)

if __name__ == "__main__":
    app()
