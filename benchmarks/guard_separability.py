"""How well can a guard's input classifier tell the external harmful set from the external benign one?

A development measurement, on rows that `benchmarks/guard.py` never reports (MedSafetyBench from row
``--offset`` on, PubMedQA from row ``--offset`` on; guard.py reads the first 300 of each), so that choices made
here do not leak into its figures. For each cascade folder:
1. its routes at its own thresholds (chosen on the authored validation split by `conscience guard train`);
2. the ceiling of its scores: at the score that passes 95% of the benign rows (a threshold chosen on the
   external set itself, which no shipped policy may do), the share of harmful rows it would catch, for
   P(block) and for risk = 1 − P(pass).
``--frozen`` adds linear probes (logistic regression on the block and pass rows of ``--data``, default the
shipped rows, with the Asclepius train split) over frozen features of the
two encoders that install here, MiniLM-L6 and the bundled SmolLM2-135M (mean-pooled layers), scored the same
way: whether a bigger backbone already separates the sets before any fine-tuning.
``--data`` also prints the surface cues of a guard-rows folder: word counts per label and the modal verb of
question openers per label.

    nice .venv/bin/python benchmarks/guard_separability.py --medsafetybench DATA/medsafetybench_train.jsonl \\
        --pubmedqa DATA/pubmedqa_labeled.jsonl --cascade CASCADE_DIR [--cascade ...] [--frozen --data ROWS_DIR]
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from conscience.data import guard_rows  # noqa: E402
from conscience.guard.cascade import Cascade, shipped_dir  # noqa: E402
from conscience.guard.cascade_data import (INPUT_LABELS, MODAL_OPENER, asclepius_train_examples, modal_variants,  # noqa: E402
                                           request_text)
from conscience.guard.policy import load_policy  # noqa: E402
from conscience.jsonl import read_jsonl  # noqa: E402
from guard import share  # noqa: E402  (benchmarks/guard.py: "k/n = rate [Wilson 95% CI]")

BENIGN_PASSED = 0.95
BLOCK, PASS = INPUT_LABELS.index("block"), INPUT_LABELS.index("pass")


def caught_at_benign_quantile(harmful: np.ndarray, benign: np.ndarray) -> tuple[float, str]:
    """The threshold that leaves 95% of ``benign`` under it, and the share of ``harmful`` at or over it with its
    Wilson interval (over the harmful rows only; the threshold is itself estimated from the benign rows)."""
    threshold = float(np.quantile(benign, BENIGN_PASSED))
    return threshold, share(int((harmful >= threshold).sum()), len(harmful))


def cascade_rows(folder: Path, harmful: list[str], benign: list[str]) -> None:
    cascade = Cascade.load(folder)
    thresholds = load_policy(folder / "policy.yaml").cascade
    for name, texts in (("harmful", harmful), ("benign", benign)):
        routes = Counter(r.route for r in cascade.route([[{"role": "user", "content": t}] for t in texts], thresholds))
        print(f"| {folder} | {name} (n={len(texts)}) | {routes['block']} / {routes['uncertain']} / {routes['pass']} | "
              f"block {share(routes['block'], len(texts))}, pass {share(routes['pass'], len(texts))} |")
    p_harmful, p_benign = (cascade.input_classifier.predict_proba(t) for t in (harmful, benign))
    for score, column in (("P(block)", lambda p: p[:, BLOCK]), ("risk", lambda p: 1 - p[:, PASS])):
        threshold, caught = caught_at_benign_quantile(column(p_harmful), column(p_benign))
        print(f"| {folder} | {score} ≥ {threshold:.3f} (passes 95% of benign) | | harmful caught {caught} |")


def frozen_probes(harmful: list[str], benign: list[str], data: Path | None) -> None:
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from transformers import AutoModel, AutoTokenizer

    from conscience.models.bundled import ensure_hf_folder
    from conscience.models.embedding import Encoder
    from conscience.models.encoder_classifier import mean_pool

    rows = [r for r in guard_rows(data) + asclepius_train_examples() if r.label in ("block", "pass")]
    texts = [request_text(r.turns) for r in rows] + harmful + benign
    labels = np.array([r.label == "block" for r in rows])
    n, m = len(rows), len(rows) + len(harmful)

    def probe(name: str, features: np.ndarray) -> None:
        scaler = StandardScaler().fit(features[:n])
        model = LogisticRegression(max_iter=2000, C=0.1).fit(scaler.transform(features[:n]), labels)
        p = model.predict_proba(scaler.transform(features[n:]))[:, 1]
        threshold, caught = caught_at_benign_quantile(p[: m - n], p[m - n:])
        print(f"| {name} | {n} block/pass rows ({data or 'the shipped guard rows'} + Asclepius train) | "
              f"P(block) ≥ {threshold:.3f} passes 95% of benign | harmful caught {caught} |")

    probe("MiniLM-L6, frozen sentence embedding", Encoder(batch_size=64).encode(texts))
    folder = ensure_hf_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, dtype=torch.float32).eval()
    layers = (10, 20, 30)
    pooled = {layer: np.zeros((len(texts), model.config.hidden_size), dtype=np.float32) for layer in layers}
    order = np.argsort([len(t) for t in texts])
    with torch.inference_mode():
        for start in range(0, len(texts), 32):
            index = order[start:start + 32]
            batch = tokenizer([texts[i] for i in index], return_tensors="pt", padding=True, truncation=True, max_length=128)
            hidden = model(**batch, output_hidden_states=True).hidden_states
            for layer in layers:
                pooled[layer][index] = mean_pool(hidden[layer], batch["attention_mask"]).numpy()
    for layer in layers:
        probe(f"SmolLM2-135M layer {layer}, frozen mean pool", pooled[layer])


def finetuned_smollm(harmful: list[str], benign: list[str], data: Path | None, epochs: int,
                     counterbalance: bool) -> None:
    """SmolLM2-135M as the input classifier's backbone: LoRA (r 16 on every linear layer) and a linear head on the
    mean-pooled last layer, fitted on every block/care/pass row of ``data`` with the Asclepius train split (with
    ``counterbalance``, their ``modal_variants`` too; AdamW
    5e-4, linear decay, batch 16, 96 tokens, bf16 autocast where native), then scored like the cascades."""
    import time

    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm.auto import tqdm
    from transformers import AutoModel, AutoTokenizer

    from conscience.models.bundled import ensure_hf_folder
    from conscience.models.encoder_classifier import mean_pool, optimizer_step
    from conscience.precision import resolve_bf16

    torch.manual_seed(0)
    precision = resolve_bf16("auto")
    rows = guard_rows(data) + asclepius_train_examples()
    rows += modal_variants(rows) if counterbalance else []
    texts, targets = [request_text(r.turns) for r in rows], [INPUT_LABELS.index(r.label) for r in rows]
    folder = ensure_hf_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    backbone = get_peft_model(AutoModel.from_pretrained(folder, dtype=torch.float32), LoraConfig(
        r=16, lora_alpha=32, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                               "up_proj", "down_proj"]))
    head = torch.nn.Linear(backbone.config.hidden_size, len(INPUT_LABELS))

    def logits(batch: list[str]):
        encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=96)
        return head(mean_pool(backbone(**encoded).last_hidden_state, encoded["attention_mask"]).float())

    params = [p for p in backbone.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=5e-4, weight_decay=0.01)
    generator = torch.Generator().manual_seed(0)
    steps = epochs * ((len(texts) + 15) // 16)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps))
    started = time.perf_counter()
    backbone.train()
    with tqdm(total=steps, desc="fine-tuning SmolLM2-135M classifier") as bar:
        for _ in range(epochs):
            order = torch.randperm(len(texts), generator=generator).tolist()
            for start in range(0, len(order), 16):
                batch = order[start:start + 16]
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision.bf16):
                    out = logits([texts[i] for i in batch])
                loss = torch.nn.functional.cross_entropy(out, torch.tensor([targets[i] for i in batch]))
                optimizer_step(loss, optimizer, scheduler, bar)
    backbone.eval()
    with torch.inference_mode():
        def p_block(batch_texts: list[str]) -> np.ndarray:
            return np.concatenate([torch.softmax(logits(batch_texts[i:i + 32]), -1)[:, BLOCK].numpy()
                                   for i in range(0, len(batch_texts), 32)])
        threshold, caught = caught_at_benign_quantile(p_block(harmful), p_block(benign))
    balanced = ", counterbalanced" if counterbalance else ""
    print(f"| SmolLM2-135M + LoRA, fine-tuned {epochs} epoch(s) on {len(rows)} rows ({data or 'the shipped guard rows'}"
          f" + Asclepius train{balanced}) ({time.perf_counter() - started:.0f} s, {precision.summary()}) | "
          f"P(block) ≥ {threshold:.3f} passes 95% of benign | harmful caught {caught} |")


def surface_cues(folder: Path) -> None:
    rows = guard_rows(folder) + asclepius_train_examples()
    print(f"\n{folder} + Asclepius train: {len(rows)} rows\n\n| label | rows | words median | ≤ 20 words | "
          + " | ".join(f"'{m}' openers" for m in ("can", "could", "might", "would", "should")) + " |")
    print("| --- " * 9 + "|")
    for label in ("block", "care", "pass"):
        mine = [r for r in rows if r.label == label]
        words = np.array([len(request_text(r.turns).split()) for r in mine])
        modals = Counter(m.group(2).lower() for r in mine if (m := MODAL_OPENER.match(r.turns[-1])))
        print(f"| {label} | {len(mine)} | {np.median(words):.0f} | {(words <= 20).sum()} | "
              + " | ".join(str(modals[m]) for m in ("can", "could", "might", "would", "should")) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--medsafetybench", type=Path, required=True)
    parser.add_argument("--pubmedqa", type=Path, required=True)
    parser.add_argument("--offset", type=int, default=300, help="skip the rows benchmarks/guard.py reports")
    parser.add_argument("--cascade", type=Path, action="append", help="cascade folder (default: the shipped one)")
    parser.add_argument("--frozen", action="store_true", help="also probe frozen MiniLM and SmolLM2 features")
    parser.add_argument("--data", type=Path, help="a guard-rows folder whose surface cues to print")
    parser.add_argument("--finetune-smollm", type=int, default=0, metavar="EPOCHS",
                        help="also fine-tune SmolLM2-135M as the input classifier on --data and score it")
    parser.add_argument("--counterbalance", action="store_true", help="with --finetune-smollm: add modal_variants")
    args = parser.parse_args()
    harmful = [row["prompt"] for _, row in read_jsonl(args.medsafetybench)][args.offset:]
    benign = [row["question"] for _, row in read_jsonl(args.pubmedqa)][args.offset:]
    print(f"harmful: {args.medsafetybench.name} rows {args.offset + 1}-{args.offset + len(harmful)}; "
          f"benign: {args.pubmedqa.name} rows {args.offset + 1}-{args.offset + len(benign)}\n")
    print("| cascade | rows / threshold | routes (block / uncertain / pass) | share |\n| --- | --- | --- | --- |")
    for folder in args.cascade or [shipped_dir()]:
        cascade_rows(folder, harmful, benign)
    if args.frozen:
        print("\n| frozen features | probe trained on | threshold | share |\n| --- | --- | --- | --- |")
        frozen_probes(harmful, benign, args.data)
    if args.finetune_smollm:
        print("\n| fine-tuned backbone | threshold | share |\n| --- | --- | --- |")
        finetuned_smollm(harmful, benign, args.data, args.finetune_smollm, args.counterbalance)
    if args.data:
        surface_cues(args.data)


if __name__ == "__main__":
    main()
