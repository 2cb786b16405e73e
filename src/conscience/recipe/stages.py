"""Stages cached by their inputs: a stage's output folder is named by a hash of everything it depends on.

Re-running a recipe after a change therefore redoes only the stages whose inputs changed (and those
downstream, whose inputs include upstream hashes). A stage that was interrupted has a folder but no
``DONE.json``; it is re-entered in the same folder, and the stage's own resumable store picks up there.
"""

from __future__ import annotations

import ast
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


def _package_root(root: Path | None) -> Path:
    if root is None:
        import conscience

        root = Path(conscience.__file__).parent
    return root


def _hash_files(files, root: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _files(root: Path, suffixes: tuple[str, ...], under: Path | None = None) -> list[Path]:
    base = under if under is not None else root
    if base.is_file():
        return [base] if base.suffix in suffixes else []
    return [p for p in base.rglob("*") if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts]


def package_hash(suffixes: tuple[str, ...], root: Path | None = None) -> str:
    """Content hash of every file with one of ``suffixes`` inside the installed ``conscience`` package (or ``root``)."""
    root = _package_root(root)
    return _hash_files(_files(root, suffixes), root)


def bundled_data_hash(root: Path | None = None) -> str:
    """Content hash of every data file inside the package (its code excluded)."""
    return package_hash(BUNDLED_DATA_SUFFIXES, root)


def source_hash(root: Path | None = None) -> str:
    """Content hash of every Python source file inside the package (its data excluded)."""
    return package_hash(SOURCE_SUFFIXES, root)


def _unit_path(root: Path, unit: str) -> Path | None:
    """The folder or module file of a top-level part of the package (``train``, ``errors``), if it exists."""
    for path in (root / unit, root / f"{unit}.py"):
        if path.exists():
            return path
    return None


def imported_units(root: Path, unit: str) -> set[str]:
    """Top-level parts of the package that ``unit`` imports anywhere (a lazy import inside a function counts)."""
    found: set[str] = set()
    path = _unit_path(root, unit)
    for file in _files(root, SOURCE_SUFFIXES, path) if path else []:
        for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names] if node.module == "conscience" else [])
            else:
                continue
            found |= {n.split(".")[1] for n in names if n.startswith("conscience.") and _unit_path(root, n.split(".")[1])}
    return found - {unit}


def unit_closure(root: Path, unit: str) -> set[str]:
    """``unit`` and every part of the package it reaches through imports."""
    seen, todo = set(), [unit]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += sorted(imported_units(root, current) - seen)
    return seen


# The recipe's glue around every stage: how a stage's library call is made and cached.
STAGE_GLUE = ("__init__.py", "recipe/steps.py", "recipe/stages.py")


def code_fingerprint(root: Path | None = None, stage: str | None = None) -> dict[str, str]:
    """What a stage key carries besides its inputs: the version, and the code and bundled data it runs on.

    ``__version__`` alone has said 0.1.0 since the first commit, so a fixed bug or a changed data file would
    replay a stale stage; hashing source and data files makes a change recompute the stages (the cost of a false
    "changed" is a re-run, of a false "same" a wrong figure). With ``stage`` (a top-level package such as
    ``train``), only that package, every package it imports (transitively, lazy imports included) and the
    recipe's glue count, so editing the report or the guard no longer throws away hours of cached training;
    without it, the whole package counts."""
    from conscience import __version__

    root = _package_root(root)
    if stage is None:
        return {"conscience": __version__, "bundled_data": bundled_data_hash(root), "source": source_hash(root)}
    if _unit_path(root, stage) is None:
        raise ValueError(f"{stage!r} is not a part of the package at {root}")
    units = sorted(unit_closure(root, stage))
    paths = [p for p in (_unit_path(root, u) for u in units) if p is not None]
    glue = [root / g for g in STAGE_GLUE if (root / g).exists()]
    source = {f for p in [*paths, *glue] for f in _files(root, SOURCE_SUFFIXES, p)}
    data = {f for p in paths for f in _files(root, BUNDLED_DATA_SUFFIXES, p)}
    return {"conscience": __version__, "stage": stage, "packages": ",".join(units),
            "bundled_data": _hash_files(data, root), "source": _hash_files(source, root)}


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
