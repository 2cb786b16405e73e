"""The one progress helper: a rich progress bar with elapsed and remaining time, quiet when not a TTY."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


@contextmanager
def progress_bar(description: str, total: int, done: int = 0) -> Iterator[callable]:
    """Yield ``advance(n=1)``; the bar starts at ``done`` so resumed jobs show their true position."""
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(description, total=total, completed=done)

        def advance(n: int = 1) -> None:
            progress.advance(task, n)

        yield advance
