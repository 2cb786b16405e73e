"""Run folders: the one check that a folder is resumed only with the configuration that started it, and the
one timestamp every record carries.

Generation, safety evaluation and training all resume in place. Each writes what it was started with into the
folder on the first call and compares on every later one, so a resumed run can never mix rows (or checkpoints)
made under two configurations; the error names the keys that changed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from conscience.errors import ConscienceError


def now(timespec: str = "seconds") -> str:
    """UTC now in ISO 8601, for ``created_at``/``started_at`` fields."""
    return datetime.now(timezone.utc).isoformat(timespec=timespec)


def ensure_same(stored: dict, current: dict, where: str | Path, what: str | None = None, keys: list[str] | None = None) -> None:
    """Refuse to resume when ``stored`` (what the folder was started with) differs from ``current`` in any of
    ``keys`` (default: every key either has). ``what`` names the whole (a recipe, a config); without it the
    message names the changed keys themselves."""
    compared = keys if keys is not None else sorted(set(stored) | set(current))
    changed = [k for k in compared if stored.get(k) != current.get(k)]
    if changed:
        named = f"{what} (changed: {', '.join(changed)})" if what else ", ".join(changed)
        raise ConscienceError(f"this folder was made with a different {named}; resume with the same settings, or use "
                              "another --out", where=where, field=changed[0])
