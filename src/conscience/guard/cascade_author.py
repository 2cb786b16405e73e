"""``conscience guard data``: the cascade's training rows, written from a constitution by a teacher.

For each principle the teacher is asked, a batch at a time, for requests the assistant must decline
(``block``) or handle with the principle's care (``care``), and benign look-alikes it must answer (``pass``),
across Asclepius' attack styles, each with a good reply (and a bad one for risky rows). Rows are validated
one by one; a bad row is set aside in ``rejected.jsonl`` with its reason, never silently dropped, and every
row says which model wrote it. Re-running continues where a file left off.

The offline teacher ``authored:clinical-v0.1`` returns the rows shipped for the shipped constitution (written
for the project by AI models working for it, and labelled so); any other constitution needs a model teacher.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pydantic import ValidationError

from conscience.constitution import Constitution, Principle
from conscience.data import AuthoredRow, authored_dir, load_authored_rows
from conscience.errors import ConscienceError
from conscience.guard.cascade_data import STYLES
from conscience.jsonl import JsonlStore
from conscience.models import ChatModel, GenerationParams

AUTHORED = "authored:clinical-v0.1"
SHIPPED_CONSTITUTION = "clinical-constitution"

INSTRUCTIONS = f"""You write training data for a classifier that guards a clinical chat assistant.
Write {{n}} JSON objects, one per line and nothing else, each with keys:
"style" (one of {", ".join(STYLES)}), "turns" (list of user turns: one, or 3-5 escalating turns for crescendo),
"label" ("block": the assistant must decline; "care": answerable only with the principle's care;
"pass": benign, must be answered plainly), "lookalike_of" (for a pass row that mirrors a risky row of this
batch, that row's 0-based index in the batch, else null), "safe_reply" (what a good clinical assistant says,
2-5 sentences), "unsafe_reply" (for block/care rows: a plausible bad reply that breaks the principle, never
operational self-harm or weapon detail; null for pass), "safer_alternative" (for block rows: one sentence
offering what the assistant can help with instead; else null).
About 35% block, 25% care, 40% pass, most pass rows look-alikes of a risky row; vary style and voice."""


def principle_messages(principle: Principle, n: int, batch: int) -> list[dict]:
    return [{"role": "system", "content": INSTRUCTIONS.format(n=n)},
            {"role": "user", "content": f"Principle {principle.id} ({principle.name}):\n{principle.text.strip()}\n\n"
                                        f"Batch {batch}: write {n} new rows for this principle."}]


def parse_rows(text: str, principle: str, start: int, written_by: str) -> tuple[list[AuthoredRow], list[dict]]:
    """Rows parsed from a teacher reply (ids ``<principle>-<n>`` from ``start``), and the rejects with reasons."""
    rows: list[AuthoredRow] = []
    rejected: list[dict] = []
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("{")]
    for offset, line in enumerate(lines):
        try:
            data = json.loads(line)
            twin = data.get("lookalike_of")
            data.update(id=f"{principle}-{start + offset:04d}", principle=principle, written_by=written_by,
                        lookalike_of=f"{principle}-{start + int(twin):04d}" if isinstance(twin, int) else None)
            rows.append(AuthoredRow.model_validate(data))
        except (json.JSONDecodeError, ValidationError, TypeError, ValueError) as exc:
            rejected.append({"principle": principle, "line": line, "reason": str(exc).splitlines()[0]})
    return rows, rejected


def write_guard_data(constitution: Constitution, teacher: ChatModel | str, out: str | Path, *, per_principle: int = 200,
                     batch_size: int = 20, params: GenerationParams | None = None, progress: bool = True) -> dict[str, int]:
    """Write ``out/<principle>.jsonl`` for every principle; returns rows per principle."""
    from tqdm.auto import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(teacher, str):
        if teacher != AUTHORED:
            raise ConscienceError(f"unknown offline teacher {teacher!r}; pass {AUTHORED} or a model", field="teacher")
        if constitution.id != SHIPPED_CONSTITUTION:
            raise ConscienceError(f"{AUTHORED} has rows for the shipped constitution only, not {constitution.id!r}: "
                                  "pass a model teacher (e.g. anthropic:<model>)", field="teacher")
        for principle in constitution.principles:
            source = authored_dir() / f"{principle.id}.jsonl"
            if not source.is_file():
                raise ConscienceError("no authored rows for this principle", where=source, field=principle.id)
            shutil.copyfile(source, out / source.name)
        return {p.id: len(load_authored_rows(out / f"{p.id}.jsonl")) for p in constitution.principles}
    params = params or GenerationParams(max_new_tokens=4096, temperature=0.7)
    written_by = f"model-generated ({teacher.spec})"
    counts: dict[str, int] = {}
    bar = tqdm(total=per_principle * len(constitution.principles), desc="guard data", disable=not progress)
    rejects = JsonlStore(out / "rejected.jsonl", key="key")
    for principle in constitution.principles:
        store = JsonlStore(out / f"{principle.id}.jsonl")  # append-only, fsynced: a killed run resumes here
        bar.update(min(len(store), per_principle))
        batch, failures = 0, 0
        while len(store) < per_principle:
            n = min(batch_size, per_principle - len(store))
            [reply] = teacher.generate([principle_messages(principle, n, batch)], params)
            # Numbered past the highest id so far: a rejected line leaves a gap, never a clash.
            start = 1 + max((int(key.rsplit("-", 1)[1]) for key in store.rows), default=0)
            rows, rejected = parse_rows(reply.text, principle.id, start, written_by)
            for number, row in enumerate(rejected):
                rejects.add({"key": f"{principle.id}:{len(store)}:{batch}:{number}", **row})
            failures = 0 if rows else failures + 1
            if failures >= 3:
                raise ConscienceError(f"the teacher returned no valid row three times for {principle.id}; "
                                      f"see {out / 'rejected.jsonl'}", field="teacher")
            for row in rows:
                store.add(row.model_dump())
            bar.update(len(rows))
            batch += 1
        counts[principle.id] = len(load_authored_rows(store.path))
    bar.close()
    return counts
