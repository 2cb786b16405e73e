"""Export pairs as a Hugging Face DatasetDict in TRL's conversational preference format, with its views and card.

``RUN/dataset`` (``load_from_disk``): ``train``/``validation`` with ``prompt`` (the conversation before the
last reply), ``chosen`` (the revision) and ``rejected`` (the base reply), each a list of messages, plus
flat provenance columns. ``RUN/dataset/sft``: ``messages`` = prompt + revision. ``RUN/dataset/kto``:
TRL's ``unpair_preference_dataset`` (``prompt``/``completion``/``label``). ``README.md`` is the card.

The split is by prompt (a hash of seed, source and prompt id), not by pair: repeated draws of one prompt
never straddle train and validation, and a pair keeps its split as the run grows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from conscience.generate.config import GenerateConfig
from conscience.generate.sources import Plan

MANIFEST = "conscience_export.json"  # what the folder was built from, so an unchanged export is not redone
PROVENANCE_COLUMNS = ("id", "source", "source_id", "draw", "principles_at_issue", "constitution", "constitution_hash",
                      "base_model", "critic", "reviser", "critique_provenance", "revision_provenance", "generation_params",
                      "seed", "created_at")


def _features():
    from datasets import Features, List, Value

    message = List({"role": Value("string"), "content": Value("string")})
    columns = {"prompt": message, "chosen": message, "rejected": message}
    for name in PROVENANCE_COLUMNS:
        columns[name] = List(Value("string")) if name == "principles_at_issue" else Value("int64") if name in ("draw", "seed") else Value("string")
    return Features(columns)


def to_record(pair: dict) -> dict:
    """A stored pair row as one dataset row (provenance flattened into columns)."""
    p = pair["provenance"]
    return {
        "prompt": pair["prompt"], "chosen": pair["chosen"], "rejected": pair["rejected"], "id": pair["prompt_key"],
        "source": p["source"], "source_id": p["source_id"], "draw": p["draw"], "principles_at_issue": p["principles_at_issue"],
        "constitution": f"{p['constitution']['id']}@{p['constitution']['version']}", "constitution_hash": p["constitution"]["hash"],
        "base_model": p["base_model"], "critic": p["critic"], "reviser": p["reviser"],
        "critique_provenance": p["teacher_provenance"]["critique"], "revision_provenance": p["teacher_provenance"]["revision"],
        "generation_params": json.dumps(p["generation_params"], sort_keys=True), "seed": p["seed"], "created_at": pair["created_at"],
    }


def is_validation(source: str, source_id: str, seed: int, fraction: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{source}/{source_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def export_dataset(pairs: list[dict], out_dir: Path, config: GenerateConfig, constitution: dict, plan: Plan,
                   teacher_provenance: dict[str, str]) -> dict:
    """Write the dataset, its SFT and KTO views and its card to ``out_dir`` (replaced atomically). Returns counts."""
    if not pairs:
        return {"path": None, "train": 0, "validation": 0, "note": "no pairs to export yet"}
    records = [to_record(p) for p in pairs]
    digest = hashlib.sha256(json.dumps([records, config.model_dump(mode="json")], sort_keys=True).encode()).hexdigest()
    manifest = out_dir / MANIFEST
    if manifest.exists():
        previous = json.loads(manifest.read_text(encoding="utf-8"))
        if previous.get("digest") == digest:  # a resumed run with nothing new: the export on disk is current
            return previous["counts"]
    import datasets

    bars = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # per-split "Map"/"Saving" bars would drown the stage bars
    try:
        return _write(records, out_dir, digest, config, constitution, plan, teacher_provenance)
    finally:
        if bars:
            datasets.enable_progress_bars()


def _write(records: list[dict], out_dir: Path, digest: str, config: GenerateConfig, constitution: dict, plan: Plan,
           teacher_provenance: dict[str, str]) -> dict:
    from datasets import Dataset, DatasetDict
    from trl import unpair_preference_dataset

    full = Dataset.from_list(records, features=_features())
    validation = [i for i, r in enumerate(records) if is_validation(r["source"], r["source_id"], config.seed, config.validation_fraction)]
    held = set(validation)
    data = DatasetDict({"train": full.select([i for i in range(len(records)) if i not in held]), "validation": full.select(validation)})
    sft = data.map(lambda row: {"messages": row["prompt"] + row["chosen"]}, remove_columns=["prompt", "chosen", "rejected"])
    kto = unpair_preference_dataset(data)

    staging = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    data.save_to_disk(str(staging))
    sft.save_to_disk(str(staging / "sft"))
    kto.save_to_disk(str(staging / "kto"))
    counts = {"path": str(out_dir), "train": len(data["train"]), "validation": len(data["validation"]),
              "kto_rows": len(kto["train"]) + len(kto["validation"])}
    (staging / "README.md").write_text(dataset_card(records, counts, config, constitution, plan, teacher_provenance), encoding="utf-8")
    (staging / MANIFEST).write_text(json.dumps({"digest": digest, "counts": counts}), encoding="utf-8")
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return counts


def _licence(config: GenerateConfig) -> str:
    user = [s.name for s in config.sources if s.kind in ("jsonl", "csv", "hf")]
    text = ("Prompts from the bundled files, the authored request rows and the Asclepius train split, and the authored "
            "critiques and reference replies, were written for the Conscience project and are released under its licence (Apache-2.0). "
            f"Rejected replies were generated by `{config.base}`; check that model's licence and terms of use.")
    if user:
        text += f" Prompts from {', '.join(user)} come from your own files: their licence is yours to check."
    if not config.critic_spec.startswith("authored:") or not config.reviser_spec.startswith("authored:"):
        text += " Model-generated critiques/revisions are subject to the teacher provider's terms of use."
    return text


def _where(source) -> str:
    if source.kind == "lookalikes":
        return "conscience/data/authored (risky requests with their benign look-alikes)"
    return source.file or source.path or source.split or ""


def dataset_card(records: list[dict], counts: dict, config: GenerateConfig, constitution: dict, plan: Plan,
                 teacher_provenance: dict[str, str]) -> str:
    by_source: dict[str, int] = {}
    at_issue: dict[str, int] = {}
    for record in records:
        by_source[record["source"]] = by_source.get(record["source"], 0) + 1
        for pid in record["principles_at_issue"]:
            at_issue[pid] = at_issue.get(pid, 0) + 1
    source_rows = "\n".join(
        f"| {s.name} | {s.kind} | {_where(s)} | {s.weight:g} | {by_source.get(s.name, 0)} | "
        f"{plan.sources[s.name].repeats} |" for s in config.sources)
    principle_rows = "\n".join(f"| {pid} | {n} |" for pid, n in sorted(at_issue.items(), key=lambda kv: -kv[1])) or "| (none) | 0 |"
    return f"""# Conscience critique-and-revise preference pairs

Preference pairs for aligning a clinical chat model to the {constitution['id']} (version {constitution['version']},
content hash `{constitution['hash']}`) with Constitutional AI. Each pair: a prompt, the base model's reply
(`rejected`), and a revision of it that addresses a critique against every principle (`chosen`).

## Format
- `load_from_disk(".")`: `train` ({counts['train']} pairs) and `validation` ({counts['validation']} pairs), TRL's
  conversational preference format: `prompt` (all messages before the last reply; multi-turn prompts include
  the base model's earlier replies), `chosen`, `rejected` (one assistant message each), plus provenance columns:
  {', '.join(f'`{c}`' for c in PROVENANCE_COLUMNS)}.
- `sft/`: `messages` = prompt + chosen, for supervised fine-tuning on the revisions.
- `kto/`: TRL `unpair_preference_dataset` ({counts['kto_rows']} rows of `prompt`/`completion`/`label`).
- Split by prompt with seed {config.seed} ({config.validation_fraction:.0%} validation), so repeated draws of a
  prompt stay on one side.

## How it was made
- Base model: `{config.base}`, temperature {config.sampling.temperature}, top_p {config.sampling.top_p},
  max_new_tokens {config.sampling.max_new_tokens}, seed {config.seed} (+ draw number for repeated prompts).
- Critic: `{config.critic_spec}`. Critiques: **{teacher_provenance['critique']}**.
- Reviser: `{config.reviser_spec}`. Revisions: **{teacher_provenance['revision']}**.
- PHI: prompts and replies passed a pattern-based scrubber (e-mails, phone numbers, MRNs, dates of birth,
  SSN/NHS numbers, street addresses) before storage. It does not detect names.
- Held out: no prompt comes from the Asclepius test split or the constitution's test prompts; candidates that
  match one ({plan.contamination.as_dict()['method']}) were excluded: {len(plan.contamination.excluded)}.
- Filters: drop pairs whose revision still fails the judge = {config.filters.drop_revision_fails_judge};
  drop pairs with nothing at issue = {config.filters.drop_nothing_at_issue}.

## Sources
| source | kind | file / path / split | weight | pairs | repeated draws |
| --- | --- | --- | --- | --- | --- |
{source_rows}

## Principles at issue (pairs)
| principle | pairs |
| --- | --- |
{principle_rows}

## Licence
{_licence(config)}

## Limitations
With the authored teacher, `chosen` is a project-written reference reply, not a revision written by a model
reading this particular base reply, and the critique marks a principle at issue only when the judge flags
the base reply. The base model is small; many rejected replies are simply poor rather than unsafe.
"""
