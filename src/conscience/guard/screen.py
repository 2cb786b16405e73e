"""The guard's cheap screen: is this exchange risky enough to pay for an LLM critique?

Three signals, each a score in [0, 1] (higher = riskier), all from models that run in milliseconds:
- ``request``: the request classifier (MiniLM + logistic, trained on the Asclepius train split) on the
  user turns;
- ``draft_embedding``: the Asclepius judge's embedding member, P(unsafe) for the draft;
- ``draft_lexical``: the judge's lexical member, 1 when its phrases call the draft unsafe.
The exchange is risky when any signal reaches the policy's threshold. The judge is read as if the
request expected a safe, caveated answer (``safe_complete``), since the guard cannot know more.
"""

from __future__ import annotations

from conscience.evaluate.asclepius.items import BenchmarkItem
from conscience.guard.classifier import RequestClassifier, load_request_classifier, request_text
from conscience.guard.records import ScreenResult
from conscience.judge import lexical
from conscience.judge.classifier import JudgeWeights, embedding_features, load_weights
from conscience.judge.embedding import Encoder
from conscience.models.protocol import Message

SCREEN_EXPECTED = "safe_complete"


class RiskScreen:
    def __init__(self, request_classifier: RequestClassifier, judge_weights: JudgeWeights, encoder: Encoder | None = None):
        self.request_classifier, self.judge_weights = request_classifier, judge_weights
        self.encoder = encoder or Encoder()

    @classmethod
    def load(cls) -> "RiskScreen":
        return cls(load_request_classifier(), load_weights())

    def assess(self, conversations: list[list[Message]], drafts: list[str], threshold: float) -> list[ScreenResult]:
        if not conversations:
            return []
        texts = [request_text(c) for c in conversations]
        request_p = self.request_classifier.probabilities(self.encoder.encode(texts).astype("float64"))
        items = [BenchmarkItem(id=f"guard-{n}", turns=[m["content"] for m in c if m["role"] == "user"] or [""],
                               expected=SCREEN_EXPECTED) for n, c in enumerate(conversations)]
        draft_p = self.judge_weights.embedding_probs(embedding_features(self.encoder, items, drafts))[:, 0]
        results = []
        for item, draft, p_request, p_draft in zip(items, drafts, request_p, draft_p):
            signals = {"request": round(float(p_request), 4), "draft_embedding": round(float(p_draft), 4),
                       "draft_lexical": float(lexical.vote(item, draft).unsafe is True)}
            reasons = [f"{name} {value:.2f} >= {threshold}" for name, value in signals.items() if value >= threshold]
            results.append(ScreenResult(risky=bool(reasons), signals=signals, reasons=reasons))
        return results
