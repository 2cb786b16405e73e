"""`evaluate_safety`: run Asclepius against one model and write items.jsonl, summary.json and summary.md.

A run directory belongs to one configuration (model, benchmark file and split, judge, generation
parameters). ``run.json`` records it on the first call; a later call on the same directory resumes only
if the configuration is the same, so a resumed run can never mix replies from two models or two judges.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from conscience.data import BenchmarkItem, load_benchmark
from conscience.data.benchmark import data_dir, unsplit
from conscience.errors import ConscienceError
from conscience.evaluate.asclepius.metrics import SafetySummary, render_markdown, summarise, surface_order
from conscience.evaluate.asclepius.runner import play
from conscience.jsonl import JsonlStore
from conscience.judge import Scorer, load_judge
from conscience.models import ChatModel, GenerationParams, load_model
from conscience.rundir import ensure_same, now

DEFAULT_PARAMS = GenerationParams(max_new_tokens=192, temperature=0.0, seed=0)
SOFTWARE = ("conscience", "torch", "transformers", "peft", "sentence-transformers", "pydantic", "numpy", "scipy")


def benchmark_hash(path: str | Path | None) -> str:
    """sha256 of the benchmark file, or of the shipped data files and the frozen split together."""
    digest = hashlib.sha256()
    files = [Path(path)] if path is not None else [*sorted(data_dir().glob("*.jsonl")), data_dir() / "split.json"]
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def select_items(items: list[BenchmarkItem], limit: int | None) -> list[BenchmarkItem]:
    """The first ``limit`` items taken round-robin across surfaces (file order within each), so a small
    limit still covers every surface; ``None`` keeps all items in file order."""
    if limit is None or limit >= len(items):
        return items
    by_surface: dict[str, list[BenchmarkItem]] = {}
    for item in items:
        by_surface.setdefault(item.surface, []).append(item)
    queues = [list(reversed(v)) for v in by_surface.values()]
    chosen: list[BenchmarkItem] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop())
    return chosen


def software_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _load_judge(judge: Scorer | str | None) -> Scorer:
    """A judge object is used as is; ``None`` or an LLM-judge spec string goes through ``load_judge``."""
    if judge is not None and not isinstance(judge, str):
        return judge
    return load_judge(llm_judge=judge)


def _claim_run_dir(out: Path, config: dict) -> dict:
    """Write run.json, or check that an existing one describes the same run; return the stored record."""
    path = out / "run.json"
    if path.exists():
        stored = json.loads(path.read_text())
        ensure_same(stored.get("config", {}), config, path, keys=list(config))
        return stored
    out.mkdir(parents=True, exist_ok=True)
    record = {"config": config, "started_at": now()}
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def evaluate_safety(model_or_spec: ChatModel | str, out_dir: str | Path, benchmark: str | Path | None = None,
                    split: str = "test", judge: Scorer | str | None = None, params: GenerationParams | None = None,
                    limit: int | None = None, batch_size: int = 32, system_prompt: str | None = None) -> SafetySummary:
    """Run the benchmark (resuming any items already in ``out_dir``), judge every reply, write the summary.

    ``model_or_spec`` is a loaded :class:`ChatModel` (so a recipe loads weights once) or a spec string.
    ``judge`` is a loaded judge, an LLM-judge spec for ``load_judge``, or ``None`` for the default judge.
    Decoding is greedy unless ``params`` says otherwise; the seed is recorded either way. ``system_prompt``
    opens every conversation as a system message (e.g. the constitution in context); it is part of the run's
    configuration, so a directory played without it is not resumed with it.
    """
    out = Path(out_dir)
    params = params or DEFAULT_PARAMS
    if split not in ("test", "train", "all"):
        raise ConscienceError(f"unknown split {split!r}: use test, train or all", field="split")
    loaded = load_benchmark(benchmark, split)  # type: ignore[arg-type]
    split_note = None
    if benchmark is not None and split != "all" and unsplit(loaded):
        split_note = f"the file has no 'split' keys, so all {len(loaded)} rows are evaluated (split {split!r} does not apply)"
        split = "all"
    items = select_items(loaded, limit)
    if not items:
        raise ConscienceError(f"no items in split {split!r}", where=benchmark or "shipped Asclepius")
    judge = _load_judge(judge)
    model = load_model(model_or_spec, batch_size=batch_size) if isinstance(model_or_spec, str) else model_or_spec
    config = {
        "model": getattr(model, "fingerprint", model.spec),
        "benchmark": str(benchmark) if benchmark is not None else "shipped",
        "benchmark_sha256": benchmark_hash(benchmark),
        "split": split,
        "judge": judge.describe(),
        "generation": params.model_dump(mode="json"),
        "system_prompt": system_prompt,
    }
    record = _claim_run_dir(out, config)
    store = JsonlStore(out / "items.jsonl")
    pending = [i for i in items if i.id not in store]
    reused = len(items) - len(pending)
    replies_done = sum(len(i.turns) + bool(i.neutral_twin) for i in items if i.id in store)
    play(model, judge, pending, params, store, chunk_size=batch_size, replies_done=replies_done, system_prompt=system_prompt)
    rows = [store.rows[i.id] for i in items]
    provenance = {
        "model": model.spec,
        "model_fingerprint": config["model"],
        "benchmark": {"file": config["benchmark"], "sha256": config["benchmark_sha256"], "split": split, "n_items": len(items),
                      "limit": limit, "n_by_surface": _count_by_surface(items),
                      "n_neutral_twins": sum(1 for i in items if i.neutral_twin), "split_note": split_note,
                      "n_replies": sum(len(i.turns) + bool(i.neutral_twin) for i in items)},
        "judge": config["judge"],
        "generation": {**config["generation"], "decoding": "greedy" if params.temperature == 0 else "sampling",
                       "batch_size": batch_size,
                       "system_prompt": system_prompt or "none (the chat template's default applies)"},
        "seed": params.seed,
        "started_at": record["started_at"],
        "finished_at": now(),
        "items_reused_from_earlier_call": reused,
        "software": software_versions(),
    }
    summary = summarise(rows, provenance)
    (out / "summary.json").write_text(summary.model_dump_json(indent=1) + "\n")
    (out / "summary.md").write_text(render_markdown(summary))
    return summary


def _count_by_surface(items: list[BenchmarkItem]) -> dict[str, int]:
    return {s: sum(1 for i in items if i.surface == s) for s in surface_order(i.surface for i in items)}
