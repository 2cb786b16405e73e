"""The guard's cheap screen: is this exchange risky enough to pay for an LLM critique?

Three signals, each a score in [0, 1] (higher = riskier), all from models that run in milliseconds:
- ``request``: the request classifier (MiniLM + logistic, trained on the Asclepius train split) on the
  user turns;
- ``draft_embedding``: the Asclepius judge's embedding member, P(unsafe) for the draft;
- ``draft_lexical``: the judge's lexical member, 1 when its phrases call the draft unsafe.
The exchange is risky when any signal reaches the policy's threshold. The two draft signals come from
``Judge.screen``, which reads the request as expecting a safe, caveated answer, since the guard cannot know more.
"""

from __future__ import annotations

from conscience.guard.classifier import RequestClassifier, load_request_classifier, request_text
from conscience.guard.records import ScreenResult
from conscience.judge import Judge, load_judge
from conscience.models.protocol import Message


class RiskScreen:
    """The request classifier and the judge's screen, sharing the judge's MiniLM encoder."""

    def __init__(self, request_classifier: RequestClassifier, judge: Judge):
        self.request_classifier, self.judge = request_classifier, judge

    @classmethod
    def load(cls) -> "RiskScreen":
        return cls(load_request_classifier(), load_judge())

    def assess(self, conversations: list[list[Message]], drafts: list[str], threshold: float) -> list[ScreenResult]:
        if not conversations:
            return []
        texts = [request_text(c) for c in conversations]
        request_p = self.request_classifier.probabilities(self.judge.encoder.encode(texts).astype("float64"))
        draft_risks = self.judge.screen([[m["content"] for m in c if m["role"] == "user"] for c in conversations], drafts)
        results = []
        for p_request, risk in zip(request_p, draft_risks):
            signals = {"request": round(float(p_request), 4), "draft_embedding": round(risk.embedding_unsafe, 4),
                       "draft_lexical": float(risk.lexical_unsafe)}
            reasons = [f"{name} {value:.2f} >= {threshold}" for name, value in signals.items() if value >= threshold]
            results.append(ScreenResult(risky=bool(reasons), signals=signals, reasons=reasons))
        return results
