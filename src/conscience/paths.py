"""Where Conscience keeps things it builds once and reuses (converted weights, the response cache).

One function, read at call time, so tests can point it elsewhere with ``CONSCIENCE_CACHE_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The user cache directory: ``$CONSCIENCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/conscience``, else ``~/.cache/conscience``."""
    explicit = os.environ.get("CONSCIENCE_CACHE_DIR")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "conscience"
    path.mkdir(parents=True, exist_ok=True)
    return path
