"""``evaluate_utility``: pick the questions, score them resumably, write predictions and the summary.

A run directory holds ``run.json`` (what the run is: model fingerprint, method, circular, question-file
hash, ids), ``ids.txt``, ``predictions.jsonl`` (appended one question at a time, so a killed run loses
nothing it finished) and, at the end, ``summary.json`` and ``summary.md``. Re-running into the same
directory skips questions already scored; re-running with different settings is refused rather than
mixing two runs' rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conscience.errors import ConscienceError
from conscience.evaluate.utility.questions import MCQuestion, load_questions
from conscience.evaluate.utility.records import UtilitySummary
from conscience.evaluate.utility.report import build_summary, render_markdown
from conscience.evaluate.utility.scoring import OptionScores, make_scorer
from conscience.evaluate.utility.systems import body_system, read_ids, step_of, stratified_subset, write_ids
from conscience.jsonl import JsonlStore
from conscience.models.protocol import ChatModel
from conscience.progress import progress_bar

QUESTIONS_PER_CHUNK = 32
PROMPT_NOTES = {
    "loglik": "Prompt: lm-eval medqa_4options ('Question: …\\nA. …\\n…Answer:'), no chat template; "
    "score = log-likelihood of ' A', ' B', …; acc_norm divides by the choice's character length.",
    "cloze": "Prompt: 'Question: …\\nAnswer:' without options, no chat template; score = log-likelihood of "
    "' ' + option text; acc_norm divides by the option's character length.",
    "generate": "Prompt: chat template with a fixed system line and instruction (conscience.evaluate.utility."
    "prompts), greedy, 32 new tokens; letter extracted by prompts.extract_letter, none counts as wrong.",
}


def _select_ids(questions: list[MCQuestion], subset: int | None, ids_file: str | Path | None, seed: int) -> list[str]:
    if ids_file is not None:
        return read_ids(Path(ids_file), {q.id for q in questions})
    if subset is not None:
        return stratified_subset(questions, subset, seed)
    return [q.id for q in questions]


def _check_run_file(path: Path, run: dict[str, Any]) -> None:
    """Refuse to resume a directory that holds a different run (other model, method, questions…)."""
    if path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        changed = [key for key in run if previous.get(key) != run[key]]
        if changed:
            raise ConscienceError(
                f"this directory holds a run with different {', '.join(changed)}; use a new --out directory",
                where=path,
            )
        return
    path.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")


def _row(q: MCQuestion, scored: list[tuple[MCQuestion, OptionScores]], circular: bool) -> dict[str, Any]:
    """The predictions.jsonl row: shift 0 at top level, other rotations (their own gold) under ``rotations``."""
    _, base = scored[0]
    row: dict[str, Any] = {
        "id": q.id,
        "gold": q.answer,
        "predicted": base.predicted,
        "predicted_norm": base.predicted_norm,
        "correct": base.predicted == q.answer,
        "correct_norm": base.predicted_norm == q.answer if base.predicted_norm is not None else None,
        "logliks": base.logliks,
        "k": q.k,
        "system": body_system(q),
        "step": step_of(q),
    }
    if base.response is not None:
        row["response"] = base.response
    if circular:
        row["rotations"] = [
            {"shift": shift, "gold": rq.answer, "predicted": s.predicted, "correct": s.predicted == rq.answer,
             "logliks": s.logliks, **({"response": s.response} if s.response is not None else {})}
            for shift, (rq, s) in enumerate(scored) if shift > 0
        ]
    return row


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def evaluate_utility(
    model_or_spec: str | ChatModel,
    questions_path: str | Path,
    *,
    method: str = "loglik",
    circular: bool = False,
    out_dir: str | Path,
    subset: int | None = None,
    ids_file: str | Path | None = None,
    seed: int = 0,
    split: str = "test",
    batch_size: int = 8,
    system_prompt: str | None = None,
) -> UtilitySummary:
    """Evaluate a model on multiple-choice questions and write the run directory (see module docstring).

    ``model_or_spec``: a spec such as ``"hf:smollm2-135m"`` or ``"hf:base+adapter"``, or a loaded ChatModel.
    ``method``: ``loglik`` (lm-eval medqa_4options, default), ``cloze`` or ``generate`` (the only one that
    works with remote backends). ``circular`` re-asks every question under all k option rotations.
    ``subset`` draws a stratified fixed-seed subset; ``ids_file`` reuses one (it wins over ``subset``).
    ``batch_size``: sequences per forward pass (loglik/cloze) or per generation batch.
    ``system_prompt``: put before every question (see ``prompts.with_system_prompt`` and
    ``prompts.generate_conversation``), e.g. the constitution in context; recorded in run.json and the summary.
    """
    qset = load_questions(questions_path, split)
    by_id = qset.by_id()
    ids = _select_ids(qset.questions, subset, ids_file, seed)
    if isinstance(model_or_spec, str):
        from conscience.models import load_model

        model = load_model(model_or_spec, batch_size=batch_size)
    else:
        model = model_or_spec
    scorer = make_scorer(method, model, batch_size=batch_size, system_prompt=system_prompt)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = {
        "model": model.spec,
        "model_fingerprint": getattr(model, "fingerprint", model.spec),
        "method": method,
        "circular": circular,
        "question_sha256": qset.sha256,
        "ids": ids,
        "system_prompt": system_prompt,
    }
    _check_run_file(out / "run.json", run)
    write_ids(out / "ids.txt", ids)
    store = JsonlStore(out / "predictions.jsonl")
    todo = [by_id[i] for i in ids if i not in store]
    with progress_bar(f"utility {method}{' circular' if circular else ''}", total=len(ids), done=len(ids) - len(todo)) as advance:
        for start in range(0, len(todo), QUESTIONS_PER_CHUNK):
            chunk = todo[start : start + QUESTIONS_PER_CHUNK]
            items = [q.rotated(shift) for q in chunk for shift in (range(q.k) if circular else [0])]
            scores = scorer.score(items)
            cursor = 0
            for q in chunk:
                width = q.k if circular else 1
                store.add(_row(q, list(zip(items[cursor : cursor + width], scores[cursor : cursor + width])), circular))
                cursor += width
            advance(len(chunk))
    provenance = {
        "model": model.spec,
        "method": method,
        "circular": circular,
        "question_file": str(qset.path),
        "question_format": qset.format,
        "question_sha256": qset.sha256,
        "seed": seed,
        "subset": subset if ids_file is None else None,
        "ids": ids,
        "prompt_note": PROMPT_NOTES[method],
        "system_prompt": system_prompt,
    }
    summary = build_summary([store.rows[i] for i in ids], provenance)
    _write_atomic(out / "summary.json", summary.model_dump_json(indent=2) + "\n")
    _write_atomic(out / "summary.md", render_markdown(summary))
    return summary


def load_run(run_dir: str | Path) -> tuple[UtilitySummary, dict[str, dict[str, Any]]]:
    """A finished run's summary and its prediction rows by id."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.exists():
        raise ConscienceError("no summary.json: not a finished utility run directory", where=run_dir)
    try:
        summary = UtilitySummary.model_validate_json(summary_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConscienceError(f"summary.json does not match UtilitySummary ({exc.__class__.__name__})", where=summary_path) from None
    rows = JsonlStore(run_dir / "predictions.jsonl").rows
    missing = [i for i in summary.ids if i not in rows]
    if missing:
        raise ConscienceError(f"{len(missing)} ids of summary.json have no prediction row (e.g. {missing[0]})", where=run_dir)
    return summary, rows
