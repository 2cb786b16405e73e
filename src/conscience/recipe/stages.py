"""Stages cached by their inputs: a stage's output folder is named by a hash of everything it depends on.

Re-running a recipe after a change therefore redoes only the stages whose inputs changed (and those
downstream, whose inputs include upstream hashes). A stage that was interrupted has a folder but no
``DONE.json``; it is re-entered in the same folder, and the stage's own resumable store picks up there.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def file_hash(path: Path | None) -> str | None:
    """Content hash of a file or of every file under a folder (sorted), for stage keys and provenance."""
    if path is None:
        return None
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


# What the package ships beside its code and reads at run time: benchmark items, prompt sources, authored
# teacher outputs, the constitution, judge weights, templates.
BUNDLED_DATA_SUFFIXES = (".yaml", ".jsonl", ".json", ".md", ".html", ".css", ".js", ".txt")
SOURCE_SUFFIXES = (".py",)


def package_hash(suffixes: tuple[str, ...], root: Path | None = None) -> str:
    """Content hash of every file with one of ``suffixes`` inside the installed ``conscience`` package (or ``root``)."""
    if root is None:
        import conscience

        root = Path(conscience.__file__).parent
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts):
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def bundled_data_hash(root: Path | None = None) -> str:
    """Content hash of every data file inside the package (its code excluded)."""
    return package_hash(BUNDLED_DATA_SUFFIXES, root)


def source_hash(root: Path | None = None) -> str:
    """Content hash of every Python source file inside the package (its data excluded)."""
    return package_hash(SOURCE_SUFFIXES, root)


def code_fingerprint(root: Path | None = None) -> dict[str, str]:
    """What every stage key carries besides its inputs: the version, the bundled data and the source itself.

    ``__version__`` alone has said 0.1.0 since the first commit, so a fixed bug or a changed data file would
    replay a stale stage; hashing the package's ``.py`` files and data files makes any code or data change
    recompute the stages (the cost of a false "changed" is a re-run, of a false "same" a wrong figure)."""
    from conscience import __version__

    return {"conscience": __version__, "bundled_data": bundled_data_hash(root), "source": source_hash(root)}


@dataclass
class StageResult:
    name: str
    key: str
    folder: Path
    cached: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


class StageCache:
    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(name: str, inputs: dict[str, Any]) -> str:
        blob = json.dumps({"stage": name, "inputs": inputs}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def run(self, name: str, inputs: dict[str, Any], work: Callable[[Path], dict[str, Any]]) -> StageResult:
        """Run ``work(folder)`` unless a finished folder for these inputs exists; return where it lives."""
        key = self.key(name, inputs)
        folder = self.root / f"{name}-{key}"
        done = folder / "DONE.json"
        if done.exists():
            record = json.loads(done.read_text())
            return StageResult(name, key, folder, True, record["seconds"], record.get("info", {}))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "INPUTS.json").write_text(json.dumps(inputs, indent=1, sort_keys=True, default=str))
        start = time.time()
        info = work(folder) or {}
        seconds = round(time.time() - start, 1)
        done.write_text(json.dumps({"seconds": seconds, "info": info, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}, default=str))
        return StageResult(name, key, folder, False, seconds, info)
