"""Keep held-out prompts out of training data.

Held out: the Asclepius test split and the constitution's own test prompts. Every candidate training
prompt is compared with them by the evaluation package's check (``check_contamination``: exact match
after case-folding, or MiniLM cosine >= threshold, over each user turn and the joined turns), and any
prompt with a hit is excluded; the summary lists it with the held-out item it matched. This is the one
place ``generate`` reads the test split, and only its text, for this comparison.

Embeddings are cached on disk by text (``Encoder(cache=True)``), so a resumed run or a repeated test does
not re-encode the same prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conscience.constitution import Constitution
from conscience.data import BenchmarkItem, Prompt, load_benchmark
from conscience.data.contamination import ENCODER_BATCH, check_contamination
from conscience.models.embedding import Encoder


@dataclass
class ExclusionReport:
    """What was checked and which training prompts were left out: ``excluded`` maps (source, prompt id) to the
    reason. Built from the data check's ``ContaminationReport``, whose hits it turns into exclusions."""

    checked: int
    held_out_items: int
    threshold: float
    closest: str = ""
    excluded: dict[tuple[str, str], str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "checked_prompts": self.checked, "held_out_items": self.held_out_items,
            "method": f"exact match or MiniLM cosine >= {self.threshold}", "closest": self.closest,
            "excluded": [{"source": s, "id": i, "reason": r} for (s, i), r in sorted(self.excluded.items())],
        }


def held_out_items(constitution: Constitution) -> list[BenchmarkItem]:
    """The Asclepius test items and the constitution's test prompts, as benchmark items."""
    items = list(load_benchmark(split="test"))
    for principle in constitution.principles:
        items.extend(BenchmarkItem(id=f"constitution:{t.id}", surface="constitution", turns=t.turns) for t in principle.test_prompts)
    return items


def _texts(prompt: Prompt) -> list[str]:
    """Each user turn, and the joined turns of a multi-turn prompt (what the check compares)."""
    return list(prompt.turns) + (["\n".join(prompt.turns)] if len(prompt.turns) > 1 else [])


def check_prompts(prompts: list[Prompt], constitution: Constitution, threshold: float) -> ExclusionReport:
    """Exclude every prompt with a text that matches or nearly matches a held-out prompt."""
    held = held_out_items(constitution)
    texts, labels = [], []
    for n, prompt in enumerate(prompts):
        for text in _texts(prompt):
            texts.append(text)
            labels.append(str(n))
    result = check_contamination(held, texts, threshold, other_labels=labels, encoder=Encoder(batch_size=ENCODER_BATCH, cache=True))
    report = ExclusionReport(checked=len(prompts), held_out_items=len(held), threshold=threshold)
    if result.closest is not None:
        c = result.closest
        report.closest = f"{c.similarity:.3f} ({c.test_id} vs {prompts[int(c.other)].source}/{prompts[int(c.other)].id})"
    for hit in result.hits:
        prompt = prompts[int(hit.other)]
        kind = "exact match" if hit.exact else f"near-duplicate (cosine {hit.similarity:.3f})"
        report.excluded.setdefault((prompt.source, prompt.id), f"{kind} of held-out item {hit.test_id}")
    return report
