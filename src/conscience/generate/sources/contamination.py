"""Keep held-out prompts out of training data.

Held out: the Asclepius test split and the constitution's own test prompts. Every candidate training
prompt is compared with them by the evaluation package's check (``check_contamination``: exact match
after case-folding, or MiniLM cosine >= threshold, over each user turn and the joined turns), and any
prompt with a hit is excluded; the summary lists it with the held-out item it matched. This is the one
place ``generate`` reads the test split, and only its text, for this comparison.

Embeddings are cached on disk by text, so a resumed run or a repeated test does not re-encode the same
prompts (encoding ~1,000 texts takes tens of seconds on a busy CPU); the encoder is loaded only on a miss.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field

import numpy as np

from conscience.constitution import Constitution
from conscience.data import Prompt
from conscience.paths import cache_dir


class CachedEncoder:
    """The contamination check's MiniLM encoder behind an on-disk cache of normalised embeddings.

    Implements the ``encode(texts, **kwargs)`` call the check makes; only texts not seen before reach
    the model."""

    def __init__(self):
        self.path = cache_dir() / "embeddings.sqlite"
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._encoder = None
        self.encoded = 0

    @staticmethod
    def _key(text: str, normalize: bool) -> str:
        from conscience.evaluate.asclepius.contamination import ENCODER_PACKAGE

        return hashlib.sha256(f"{ENCODER_PACKAGE}|{normalize}|{text}".encode()).hexdigest()

    def encode(self, texts: list[str], normalize_embeddings: bool = True, **kwargs) -> np.ndarray:
        keys = [self._key(t, normalize_embeddings) for t in texts]
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self._db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            if self._encoder is None:
                from conscience.evaluate.asclepius.contamination import load_encoder

                self._encoder = load_encoder()
            vectors = self._encoder.encode([texts[i] for i in missing], normalize_embeddings=normalize_embeddings, **kwargs)
            vectors = np.asarray(vectors, dtype=np.float32)
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?)",
                                 [(keys[i], vectors[n].tobytes()) for n, i in enumerate(missing)])
            self._db.commit()
            found.update({keys[i]: vectors[n] for n, i in enumerate(missing)})
            self.encoded += len(missing)
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)


@dataclass
class ContaminationReport:
    """What was checked and what was excluded: ``excluded`` maps (source, prompt id) to the reason."""

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


def held_out_items(constitution: Constitution) -> list:
    """The Asclepius test items and the constitution's test prompts, as benchmark items."""
    from conscience.evaluate.asclepius.items import BenchmarkItem, load_benchmark

    items = list(load_benchmark(split="test"))
    for principle in constitution.principles:
        items.extend(BenchmarkItem(id=f"constitution:{t.id}", surface="constitution", turns=t.turns) for t in principle.test_prompts)
    return items


def _texts(prompt: Prompt) -> list[str]:
    """Each user turn, and the joined turns of a multi-turn prompt (what the check compares)."""
    return list(prompt.turns) + (["\n".join(prompt.turns)] if len(prompt.turns) > 1 else [])


def check_prompts(prompts: list[Prompt], constitution: Constitution, threshold: float) -> ContaminationReport:
    """Exclude every prompt with a text that matches or nearly matches a held-out prompt."""
    from conscience.evaluate.asclepius.contamination import check_contamination

    held = held_out_items(constitution)
    texts, labels = [], []
    for n, prompt in enumerate(prompts):
        for text in _texts(prompt):
            texts.append(text)
            labels.append(str(n))
    result = check_contamination(held, texts, threshold, other_labels=labels, encoder=CachedEncoder())
    report = ContaminationReport(checked=len(prompts), held_out_items=len(held), threshold=threshold)
    if result.closest is not None:
        c = result.closest
        report.closest = f"{c.similarity:.3f} ({c.test_id} vs {prompts[int(c.other)].source}/{prompts[int(c.other)].id})"
    for hit in result.hits:
        prompt = prompts[int(hit.other)]
        kind = "exact match" if hit.exact else f"near-duplicate (cosine {hit.similarity:.3f})"
        report.excluded.setdefault((prompt.source, prompt.id), f"{kind} of held-out item {hit.test_id}")
    return report
