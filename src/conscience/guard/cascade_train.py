"""``conscience guard train``: fit the cascade's two classifiers and choose its thresholds on validation rows.

Data: the constitution's guard rows (``cascade_data``) plus the Asclepius *train* split and, for the output
classifier, the judge's gold replies to train-split items (real SmolLM2 replies among them, labelled for the
project). Validation rows are whole look-alike groups held out with the seed; the thresholds written to
``policy.yaml`` are chosen there, by rules fixed here before any look:
- ``pass_below``: the largest value that still routes >= ``RISKY_RECALL`` of risky validation requests
  (block or care) away from a clear pass;
- ``block_above``: the smallest value that blocks <= ``PASS_FALSE_BLOCK`` of benign validation requests;
- ``output_above``: the largest value that flags >= ``UNSAFE_RECALL`` of unsafe validation replies.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import yaml

from conscience.data import AuthoredRow, guard_rows
from conscience.guard.cascade import OUTPUT_LABELS
from conscience.guard.cascade_data import (INPUT_LABELS, ReplyExample, asclepius_train_examples, data_hash, modal_variants,
                                           reply_examples, request_text, split_by_group)
from conscience.models.encoder_classifier import EncoderClassifier, TrainSettings, fit
from conscience.guard.policy import CascadeThresholds, GuardPolicy, load_policy

RISKY_RECALL = 0.95
PASS_FALSE_BLOCK = 0.02
UNSAFE_RECALL = 0.90
VALIDATION_FRACTION = 0.15


def gold_reply_examples() -> list[ReplyExample]:
    """The judge's gold replies to Asclepius train items (the gold set holds no test item), as reply rows;
    ``source`` is ``asclepius-<item id>``, the id of the item's own guard row, so both split together."""
    from conscience.data.benchmark import load_benchmark
    from conscience.judge import load_gold

    by_id = {item.id: item for item in load_benchmark(split="train")}
    rows = []
    for example in load_gold():
        item = by_id.get(example.item_id)
        if item is None:
            continue
        turns = item.turns[: example.turn] if example.turn else item.turns  # a reply before the break turn: its turns
        rows.append(ReplyExample(request=request_text(turns), reply=example.response, unsafe=example.label_unsafe,
                                 source=f"asclepius-{example.item_id}"))
    return rows


def _largest_keeping_recall(scores: np.ndarray, positives: np.ndarray, recall: float) -> float:
    """The largest threshold t with mean(scores[positives] >= t) >= recall."""
    ranked = np.sort(scores[positives])[::-1]
    if len(ranked) == 0:
        return 0.5
    keep = max(1, int(np.ceil(recall * len(ranked))))
    return float(np.floor(ranked[keep - 1] * 1000) / 1000)


def _smallest_keeping_false_rate(scores: np.ndarray, negatives: np.ndarray, rate: float) -> float:
    """The smallest threshold t with mean(scores[negatives] >= t) <= rate."""
    ranked = np.sort(scores[negatives])[::-1]
    if len(ranked) == 0:
        return 0.5
    allowed = int(np.floor(rate * len(ranked)))
    return float(min(1.0, np.ceil(ranked[allowed] * 1000) / 1000 + 0.001))


def choose_input_thresholds(input_probs: np.ndarray, input_labels: list[str]) -> tuple[float, float]:
    """``pass_below`` and ``block_above`` by the module's first two rules."""
    labels = np.asarray(input_labels)
    risk = 1.0 - input_probs[:, INPUT_LABELS.index("pass")]
    p_block = input_probs[:, INPUT_LABELS.index("block")]
    pass_below = _largest_keeping_recall(risk, labels != "pass", RISKY_RECALL)
    return pass_below, max(_smallest_keeping_false_rate(p_block, labels == "pass", PASS_FALSE_BLOCK), pass_below)


def choose_thresholds(input_probs: np.ndarray, input_labels: list[str], output_probs: np.ndarray,
                      output_unsafe: list[bool]) -> CascadeThresholds:
    """The module's three rules, applied to validation probabilities."""
    pass_below, block_above = choose_input_thresholds(input_probs, input_labels)
    output_above = _largest_keeping_recall(output_probs[:, OUTPUT_LABELS.index("unsafe")], np.asarray(output_unsafe),
                                           UNSAFE_RECALL)
    return CascadeThresholds(pass_below=pass_below, block_above=block_above, output_above=output_above)


def _class_weights(targets: list[int], classes: int) -> list[float]:
    counts = np.bincount(targets, minlength=classes).astype(float)
    return (counts.sum() / (classes * np.maximum(counts, 1))).round(4).tolist()


def _fit_or_resume(folder: Path, data_hash_: str, make) -> EncoderClassifier:
    """A classifier already saved in ``folder`` from the same rows is kept (a killed run resumes after the
    classifier it finished); otherwise ``make()`` fits one and it is saved at once."""
    if (folder / "meta.json").is_file():
        saved = EncoderClassifier.load(folder)
        if saved.provenance.get("data_hash") == data_hash_:
            return saved
    model = make()
    model.provenance["data_hash"] = data_hash_
    model.save(folder)
    return model


def train_cascade(out: str | Path, data: str | Path | None = None, *, seed: int = 0, input_epochs: int = 4,
                  output_epochs: int = 2, with_benchmark: bool = True, output_from: str | Path | None = None,
                  counterbalance: bool = True, progress: bool = True) -> dict:
    """Fit both classifiers, choose thresholds, write ``out/{input,output}/`` and ``out/policy.yaml``.

    ``data`` is a folder of guard rows (``conscience guard data`` writes one), with its ``clinician/`` subfolder if
    it has one (``guard_rows``); default the shipped rows.
    ``with_benchmark`` adds the Asclepius train split and the judge's gold replies to it. The output
    classifier reads (request, reply) pairs, about three times the tokens of a request, hence fewer epochs by
    default; for both, the epoch with the lowest validation loss is kept. Returns the summary also written to ``out/summary.json``.

    ``output_from`` (a cascade folder: ``output/`` and ``policy.yaml``) keeps that output classifier *with its own
    threshold* instead of fitting one: only the input classifier is refitted. The pair travels together because
    the kept classifier was trained on rows that this split may hold out, so a threshold chosen here would be
    chosen on its training data. Useful when only the requests' side of the data changed (the output
    classifier's fit is the longer one, about 3× the tokens per row).

    ``counterbalance`` adds, after the split and on both sides of it, every modal-question row with each other
    modal (``modal_variants``), so the fit cannot read the label off "could" or "should" and the thresholds are
    chosen on rows where it could not either.
    """
    out = Path(out)
    started = time.perf_counter()
    rows: list[AuthoredRow] = guard_rows(data) + (asclepius_train_examples() if with_benchmark else [])
    train_rows, val_rows = split_by_group(rows, VALIDATION_FRACTION, seed)
    added = 0
    if counterbalance:
        train_variants, val_variants = modal_variants(train_rows), modal_variants(val_rows)
        train_rows, val_rows = train_rows + train_variants, val_rows + val_variants
        added = len(train_variants) + len(val_variants)
    provenance = {"data_hash": data_hash(train_rows + val_rows), "rows": len(rows), "train_rows": len(train_rows),
                  "validation_rows": len(val_rows), "seed": seed, "validation": "look-alike groups held out",
                  "modal_variants_added": added,
                  "sources": "constitution guard rows (authored for the project)"
                             + (" + Asclepius train split and the judge's gold replies to it" if with_benchmark else "")}

    x = [request_text(r.turns) for r in train_rows]
    y = [INPUT_LABELS.index(r.label) for r in train_rows]
    val_x, val_y = [request_text(r.turns) for r in val_rows], [INPUT_LABELS.index(r.label) for r in val_rows]
    input_settings = TrainSettings(epochs=input_epochs, max_length=128, seed=seed, class_weights=_class_weights(y, 3))
    input_model = _fit_or_resume(out / "input", provenance["data_hash"], lambda: fit(
        x, y, list(INPUT_LABELS), input_settings, validation=(val_x, val_y), progress=progress))

    val_ids = {r.id for r in val_rows}
    if output_from is not None:
        return _with_kept_output(out, Path(output_from), input_model, val_x, val_y, val_rows, provenance, started)
    gold = gold_reply_examples() if with_benchmark else []
    reply_train = reply_examples(train_rows) + [g for g in gold if g.source not in val_ids]
    reply_val = reply_examples(val_rows) + [g for g in gold if g.source in val_ids]
    ox = [(r.request, r.reply) for r in reply_train]
    oy = [int(r.unsafe) for r in reply_train]
    val_ox, val_oy = [(r.request, r.reply) for r in reply_val], [int(r.unsafe) for r in reply_val]
    output_settings = TrainSettings(epochs=output_epochs, max_length=128, seed=seed, class_weights=_class_weights(oy, 2))
    output_model = _fit_or_resume(out / "output", provenance["data_hash"], lambda: fit(
        ox, oy, list(OUTPUT_LABELS), output_settings, validation=(val_ox, val_oy), progress=progress))

    input_probs = input_model.predict_proba(val_x)
    output_probs = output_model.predict_proba(val_ox)
    thresholds = choose_thresholds(input_probs, [r.label for r in val_rows], output_probs, [bool(v) for v in val_oy])
    input_model.provenance.update(provenance, validation_accuracy=_accuracy(input_probs, val_y))
    output_model.provenance.update(provenance, reply_rows=len(reply_train) + len(reply_val),
                                   validation_accuracy=_accuracy(output_probs, val_oy))
    return _save(out, input_model, output_model, thresholds, started, {
        **provenance, "validation_ids": sorted(val_ids),
        "input_validation_accuracy": input_model.provenance["validation_accuracy"],
        "output_validation_accuracy": output_model.provenance["validation_accuracy"]})


def _save(out: Path, input_model: EncoderClassifier, output_model: EncoderClassifier, thresholds: CascadeThresholds,
          started: float, summary: dict, note: str = "") -> dict:
    """Write both classifiers, ``policy.yaml`` and ``summary.json`` (``summary`` with the thresholds and the time)."""
    input_model.save(out / "input")
    output_model.save(out / "output")
    policy = GuardPolicy(critique="cascade", cascade=thresholds)
    (out / "policy.yaml").write_text(
        "# Written by `conscience guard train`; thresholds chosen on the validation split (rules in\n"
        "# conscience/guard/cascade_train.py)." + note + "\n" + yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False),
        encoding="utf-8")
    summary = {**summary, "thresholds": thresholds.model_dump(), "seconds": round(time.perf_counter() - started, 1)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def _with_kept_output(out: Path, source: Path, input_model: EncoderClassifier, val_x: list[str], val_y: list[int],
                      val_rows: list[AuthoredRow], provenance: dict, started: float) -> dict:
    """Finish a refit that keeps ``source``'s output classifier and its ``output_above`` (see ``train_cascade``)."""
    kept = load_policy(source / "policy.yaml").cascade
    output_model = EncoderClassifier.load(source / "output")
    input_probs = input_model.predict_proba(val_x)
    pass_below, block_above = choose_input_thresholds(input_probs, [r.label for r in val_rows])
    thresholds = kept.model_copy(update={"pass_below": pass_below, "block_above": block_above})
    input_model.provenance.update(provenance, validation_accuracy=_accuracy(input_probs, val_y))
    return _save(out, input_model, output_model, thresholds, started, {
        **provenance, "validation_ids": sorted(r.id for r in val_rows),
        "input_validation_accuracy": input_model.provenance["validation_accuracy"],
        "output_kept_from": str(source), "output_data_hash": output_model.provenance.get("data_hash")},
        note=f" output_above and the output classifier kept from {source}.")


def _accuracy(probs: np.ndarray, targets: list[int]) -> float:
    return round(float(np.mean(probs.argmax(axis=1) == np.asarray(targets))), 4)
