"""The on-disk response cache, keyed by (backend fingerprint, messages, generation parameters).

SQLite so that concurrent readers and a crash mid-write are both safe. Re-runs of a stage cost nothing
and return byte-identical replies, which is what makes teacher calls reproducible.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict
from pathlib import Path

from conscience.models.protocol import ChatModel, Completion, GenerationParams, Message
from conscience.paths import cache_dir


class ResponseCache:
    def __init__(self, path: Path | None = None):
        self.path = path or cache_dir() / "responses.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL)")
        self._db.commit()

    @staticmethod
    def key(fingerprint: str, conversation: list[Message], params: GenerationParams) -> str:
        blob = json.dumps({"model": fingerprint, "messages": conversation, "params": params.model_dump(mode="json")}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> Completion | None:
        row = self._db.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        data["cached"] = True
        return Completion(**data)

    def put(self, key: str, completion: Completion) -> None:
        data = asdict(completion)
        data["cached"] = False
        self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, json.dumps(data)))
        self._db.commit()


class CachedChatModel:
    """Wraps any ChatModel; only cache misses reach the model, still as one batch. ``hits``/``misses`` count."""

    def __init__(self, inner: ChatModel, cache: ResponseCache):
        self.inner = inner
        self.cache = cache
        self.spec = inner.spec
        self.fingerprint = getattr(inner, "fingerprint", inner.spec)
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        keys = [self.cache.key(self.fingerprint, c, params) for c in conversations]
        results = [self.cache.get(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        self.hits += len(conversations) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = self.inner.generate([conversations[i] for i in missing], params)
            for i, completion in zip(missing, fresh):
                self.cache.put(keys[i], completion)
                results[i] = completion
        return results  # type: ignore[return-value]

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses}
