"""What a run leaves next to its adapter: the result record, log.jsonl, curves.png and the model card.

The log is TRL's own ``trainer.state.log_history`` (one row per logging or eval step), so the plots and
the card are derived from exactly what the trainer recorded, never from numbers kept on the side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conscience.jsonl import write_jsonl
from conscience.precision import describe
from conscience.train.config import TrainConfig

CURVES = ("loss", "rewards/margins", "rewards/accuracies", "kl")
CARD_METRICS = ("loss", "rewards/margins", "rewards/accuracies", "kl")


@dataclass(frozen=True)
class TrainResult:
    """A finished run: where its files are, what it was trained on, and its final metrics."""

    method: str
    profile: str
    base: str
    base_folder: str
    reference: str | None  # the spec TRL compares against (the base, adapter off); None for reference-free methods
    out_dir: Path
    adapter_dir: Path
    data_source: str
    data_hash: str
    train_pairs: int
    validation_pairs: int
    held_out: bool
    global_step: int
    max_steps: int
    resumed_from_step: int | None
    best_checkpoint: str | None
    train_runtime_s: float
    metrics: dict[str, float] = field(default_factory=dict)
    merged_dir: Path | None = None
    length_fit: dict[str, dict[str, int]] = field(default_factory=dict)
    dropped_pairs: int = 0  # training pairs the trainer left out: their prompt alone fills max_length
    precision: dict[str, Any] = field(default_factory=dict)  # conscience.precision.Precision.as_record()

    @property
    def adapter_spec(self) -> str:
        """The model spec that loads this adapter through ``conscience.models.load_model``."""
        return f"{self.base}+{self.adapter_dir}"

    def as_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def final_metrics(history: list[dict[str, Any]]) -> dict[str, float]:
    """The last training row's and the last eval row's headline metrics (eval keys keep their eval_ prefix)."""
    metrics: dict[str, float] = {}
    train_rows = [r for r in history if "loss" in r]
    eval_rows = [r for r in history if "eval_loss" in r]
    for rows, prefix in ((train_rows, ""), (eval_rows, "eval_")):
        if rows:
            metrics.update({prefix + k: float(rows[-1][prefix + k]) for k in CARD_METRICS if prefix + k in rows[-1]})
    return metrics


def write_log(path: Path, history: list[dict[str, Any]]) -> None:
    write_jsonl(path, history)


def plot_curves(path: Path, history: list[dict[str, Any]], title: str) -> None:
    """One panel per logged curve (train and eval), written with matplotlib's Agg canvas (no display needed)."""
    from matplotlib.figure import Figure

    panels = [k for k in CURVES if any(k in r or f"eval_{k}" in r for r in history)]
    figure = Figure(figsize=(4.2 * max(1, len(panels)), 3.4), layout="constrained")
    figure.suptitle(title)
    for axis, key in zip(figure.subplots(1, max(1, len(panels)), squeeze=False)[0], panels):
        for name, style in ((key, "-"), (f"eval_{key}", "o--")):
            points = [(r["step"], r[name]) for r in history if name in r]
            if points:
                axis.plot(*zip(*points), style, label="eval" if name.startswith("eval_") else "train")
        axis.set_title(key)
        axis.set_xlabel("step")
        axis.legend()
    figure.savefig(path, dpi=110)


def _fit_text(result: TrainResult, config: TrainConfig) -> str:
    fit = result.length_fit.get("train")
    if not fit:
        return "not counted"
    text = (f"{fit['truncated']} truncated to {config.max_length} tokens, {result.dropped_pairs} dropped "
            f"(prompt alone fills {config.max_length} tokens)")
    kept = fit["dropped"] - result.dropped_pairs
    return text + (f", {kept} with such a prompt kept and truncated by the trainer" if kept else "")


def write_card(path: Path, result: TrainResult, config: TrainConfig) -> None:
    """The README.md model card: provenance first, then metrics, then how to load it."""
    held = f"held out with seed {config.seed}" if result.held_out else "given as the `validation` split"
    resumed = f", resumed from step {result.resumed_from_step}" if result.resumed_from_step is not None else ""
    metric_rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in result.metrics.items()) or "| (none logged) | |"
    merged = (f"\nA merged copy (adapter folded into the weights) is in `{result.merged_dir.name}/`: "
              f"`hf:{result.merged_dir}`.\n") if result.merged_dir else ""
    path.write_text(f"""# {result.method.upper()} LoRA adapter for {result.base}

Trained with `conscience train`. This card, `config.yaml`, `log.jsonl` and `curves.png` are written by the run.

| | |
| --- | --- |
| base | `{result.base}` (`{result.base_folder}`) |
| method | {result.method} |
| reference | {f"`{result.reference}` (the base, adapter switched off)" if result.reference else "none (reference-free)"} |
| profile | {result.profile} |
| data | `{result.data_source}`, sha256 prefix `{result.data_hash}` |
| pairs | {result.train_pairs} train, {result.validation_pairs} validation ({held}) |
| max_length fit (train) | {_fit_text(result, config)} |
| precision | {describe(result.precision) if result.precision else "not recorded"} |
| steps | {result.global_step} of {result.max_steps}{resumed} |
| best checkpoint | {result.best_checkpoint or "not tracked (no early stopping)"} |

## Final metrics

Last logged training step and last evaluation on the validation split (TRL's names).

| metric | value |
| --- | --- |
{metric_rows}

## How to load

```python
from conscience.models import load_model
model = load_model("{result.adapter_spec}")
```

or with PEFT directly: `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("{result.base_folder}"), "{result.adapter_dir}")`.
{merged}
## Resolved config

```yaml
{config.to_yaml()}```
""", encoding="utf-8")
