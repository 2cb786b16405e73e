"""The `conscience` command: one verb group per stage of the recipe. Thin: parse → library → render."""

from __future__ import annotations

import typer

from conscience.cli import constitution, demo, models, review, run
from conscience.cli.common import offline_env

app = typer.Typer(
    help="Conscience: align clinical chat models to a written Clinical Constitution, and measure it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _setup() -> None:
    offline_env()


app.add_typer(constitution.app, name="constitution")
app.command(name="models")(models.models)
app.command(name="chat")(models.chat)
app.command(name="sample")(models.sample)
app.command(name="demo")(demo.demo)
app.command(name="run")(run.run)
app.add_typer(review.app, name="review")

if __name__ == "__main__":
    app()
