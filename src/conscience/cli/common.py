"""Helpers every CLI verb shares: one-line errors, a console, and the env that keeps runs offline."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from rich.console import Console

from conscience.errors import ConscienceError

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def offline_env() -> None:
    """The CLI never reaches a model hub: weights and data come from installed packages or local files."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


def run_or_exit(fn: Callable[[], T]) -> T:
    """Run ``fn``; a ConscienceError becomes one red line on stderr and exit code 1, not a traceback."""
    try:
        return fn()
    except ConscienceError as exc:
        # markup=False: the location carries "[field]", which rich would otherwise eat as a style tag.
        err_console.print(f"error: {exc.one_line()}", style="red", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
