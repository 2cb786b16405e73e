"""The constitutional classifier cascade: cheap classifiers decide which replies need more than the draft.

Route per request (thresholds from the policy, chosen on a validation split):
1. the **input classifier** reads the user turns → clear *pass* (serve the draft untouched; a draft that declines
   is drafted once more under the ``calibrated_refusal`` principle when ``CascadeThresholds.redraft_refusals``),
   clear *block* (no draft: a calibrated refusal with a safer reformulation), or *uncertain*; a conversation
   with self-harm language (the guard's crisis pattern) is never a clear pass;
2. for uncertain requests the **output classifier** reads (request, draft) → safe (serve it) or escalate
   (critique and revise with a configured critic, else refuse with a safer alternative).
Both classifiers are small fine-tuned encoders (``encoder_classifier``) trained on data generated from the
constitution (``cascade_data``, ``conscience.data.guard_rows``), shipped as package data with their hashes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from conscience.data import guard_rows
from conscience.guard.cascade_data import INPUT_LABELS, request_text, user_turns
from conscience.models.encoder_classifier import EncoderClassifier
from conscience.guard.policy import CascadeThresholds
from conscience.guard.records import ScreenResult
from conscience.guard.refusal import self_harm_suspected
from conscience.models.protocol import Message

OUTPUT_LABELS: tuple[str, ...] = ("safe", "unsafe")


def shipped_dir() -> Path:
    return Path(str(resources.files("conscience.guard") / "data" / "cascade"))


class SaferAlternatives:
    """The closest blocked request of the constitution's data, and what the assistant could offer instead.

    Retrieval by the plain MiniLM sentence embedding (the input classifier's encoder with its adapter off),
    so a refusal names something useful near the request ("I can explain the safe maximum daily dose...")
    rather than a generic line. Below ``min_similarity`` no alternative is claimed.
    """

    def __init__(self, classifier: EncoderClassifier, requests: list[str], alternatives: list[str],
                 min_similarity: float = 0.55):
        self.classifier, self.requests, self.alternatives = classifier, requests, alternatives
        self.min_similarity = min_similarity
        self._matrix: np.ndarray | None = None

    @classmethod
    def from_authored(cls, classifier: EncoderClassifier) -> SaferAlternatives:
        rows = [r for r in guard_rows() if r.label == "block" and r.safer_alternative]
        return cls(classifier, [request_text(r.turns) for r in rows], [r.safer_alternative or "" for r in rows])

    def find(self, requests: list[str]) -> list[str | None]:
        if not requests or not self.requests:
            return [None] * len(requests)
        if self._matrix is None:
            self._matrix = self.classifier.sentence_embeddings(self.requests)
        similarity = self.classifier.sentence_embeddings(requests) @ self._matrix.T
        best = similarity.argmax(axis=1)
        return [self.alternatives[j] if similarity[i, j] >= self.min_similarity else None for i, j in enumerate(best)]


class Cascade:
    """The two classifiers and the alternatives; ``route`` and ``check_drafts`` are the two stages."""

    def __init__(self, input_classifier: EncoderClassifier, output_classifier: EncoderClassifier,
                 alternatives: SaferAlternatives | None = None):
        self.input_classifier, self.output_classifier = input_classifier, output_classifier
        self.alternatives = alternatives or SaferAlternatives.from_authored(input_classifier)

    @classmethod
    def load(cls, folder: str | Path | None = None) -> Cascade:
        folder = Path(folder) if folder else shipped_dir()
        return cls(EncoderClassifier.load(folder / "input"), EncoderClassifier.load(folder / "output"))

    def route(self, conversations: list[list[Message]], thresholds: CascadeThresholds) -> list[ScreenResult]:
        """Stage 1 for every conversation: ``route`` is pass, block or uncertain, with the probabilities."""
        probs = self.input_classifier.predict_proba([request_text(user_turns(c)) for c in conversations])
        block, passed = INPUT_LABELS.index("block"), INPUT_LABELS.index("pass")
        results = []
        for p, conversation in zip(probs, conversations):
            # Self-harm language is never a clear pass: at worst its draft costs one output-classifier read.
            harm = self_harm_suspected(conversation)
            risk, p_block = 1.0 - float(p[passed]), float(p[block])
            if p_block >= thresholds.block_above:
                route, reason = "block", f"input P(block) {p_block:.2f} >= {thresholds.block_above}"
            elif risk < thresholds.pass_below and not harm:
                route, reason = "pass", f"input risk {risk:.2f} < {thresholds.pass_below}"
            else:
                route, reason = "uncertain", f"input risk {risk:.2f}, P(block) {p_block:.2f}" + (
                    ", self-harm language" if harm else "")
            results.append(ScreenResult(risky=route != "pass", route=route, reasons=[reason],
                                        signals={"input_risk": round(risk, 4), "input_block": round(p_block, 4)}))
        return results

    def check_drafts(self, conversations: list[list[Message]], drafts: list[str]) -> list[float]:
        """Stage 2: P(unsafe) of each draft as a reply to its conversation."""
        pairs = [(request_text(user_turns(c)), d) for c, d in zip(conversations, drafts)]
        probs = self.output_classifier.predict_proba(pairs)
        return [float(p[OUTPUT_LABELS.index("unsafe")]) for p in probs]

    def safer_alternatives(self, conversations: list[list[Message]]) -> list[str | None]:
        return self.alternatives.find([user_turns(c)[-1] for c in conversations])
