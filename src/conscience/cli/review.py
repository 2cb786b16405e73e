"""`conscience review create|serve|export`: clinician review packets, the review page, and the results."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from conscience.cli.common import console, run_or_exit
from conscience.errors import ConscienceError

app = typer.Typer(help="Build review packets for clinicians, serve the review page, export the scores.", no_args_is_help=True)


@app.command()
def create(
    out: Path = typer.Option(..., "--out", help="Packet file to write (JSON)."),
    kind: str = typer.Option(..., "--kind", help="medpalm (physician scores on the Med-PaLM axes) or coverage (constitution test prompts)."),
    run: Optional[Path] = typer.Option(None, "--run", help="A recipe run folder: compares base with the first trained variant in RUN/report.json."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="Model spec; give it twice to compare two models side by side."),
    n: Optional[int] = typer.Option(None, "--n", min=1, help="medpalm: how many prompts to draw (default 50)."),
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="medpalm: JSONL with a `prompt` per line (default: the project's open-ended clinical prompts)."),
    constitution: Optional[Path] = typer.Option(None, "--constitution", help="coverage: constitution YAML (default: the shipped one)."),
    max_new_tokens: int = typer.Option(192, "--max-new-tokens", min=1, help="Reply length cap (greedy decoding)."),
    seed: int = typer.Option(0, "--seed", help="Seeds the prompt draw and the per-item A/B order."),
) -> None:
    """Run the model(s) on the questions and write a blinded review packet."""
    from conscience.review import ModelRef, create_packet, models_from_run, save_packet

    def build():
        if kind not in ("medpalm", "coverage"):
            raise ConscienceError(f"--kind must be medpalm or coverage, not {kind!r}")
        if (run is None) == (not model):
            raise ConscienceError("give either --run RUN_DIR or --model SPEC (once or twice)")
        if model and len(model) > 2:
            raise ConscienceError("at most two --model specs")
        refs = models_from_run(run) if run is not None else [ModelRef(name=spec, spec=spec) for spec in model]
        packet = create_packet(kind, refs, name=out.stem, prompts=prompts, n=n, constitution=constitution,  # type: ignore[arg-type]
                               max_new_tokens=max_new_tokens, seed=seed)
        save_packet(packet, out)
        return packet

    packet = run_or_exit(build)
    console.print(f"[green]wrote[/green] {out}: {len(packet.items)} {packet.kind} items, "
                  f"models {', '.join(m.name for m in packet.models)}, hash {packet.content_hash[:12]}")
    console.print(f"next: conscience review serve --packet {out}")


@app.command()
def serve(
    packet: Path = typer.Option(..., "--packet", help="The packet file from `review create`."),
    port: int = typer.Option(8765, "--port", min=1, max=65535),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (default: this machine only)."),
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite results file (default: the packet path with .db)."),
) -> None:
    """Serve the review page; scores are saved to the database as reviewers make them."""
    import uvicorn

    from conscience.review.app import create_app
    from conscience.review.store import default_db_path

    web = run_or_exit(lambda: create_app(packet, db))
    console.print(f"reviewing {packet} → {db or default_db_path(packet)}")
    console.print(f"open [bold]http://{host}:{port}/[/bold] (Ctrl+C stops; every score is already saved)")
    uvicorn.run(web, host=host, port=port, log_level="warning")


@app.command()
def export(
    packet: Path = typer.Option(..., "--packet", help="The packet file."),
    out: Path = typer.Option(..., "--out", help="Folder for scores.csv/json, notes.csv, summary.json/md."),
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite results file (default: the packet path with .db)."),
) -> None:
    """Write the unblinded results and the summary (distributions, agreement, coverage)."""
    from conscience.review import export_results

    paths = run_or_exit(lambda: export_results(packet, db, out))
    typer.echo(paths["summary_md"].read_text(encoding="utf-8"))
    console.print(f"[green]wrote[/green] {', '.join(str(p) for p in paths.values())}")
