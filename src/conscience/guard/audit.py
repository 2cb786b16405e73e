"""The guard's audit log: one JSONL line per served request, safe to keep next to clinical traffic.

By default a line holds hashes of the conversation and replies plus the principle verdicts, never
message text, so PHI does not land on disk; the critic's ``why`` sentences can quote the patient, so
they count as text too. ``include_text=True`` (``--audit-text``) is the operator's explicit opt-in.
Lines are appended and fsync'd under a lock, without keeping rows in memory, so a long-running server's
memory stays flat.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from conscience.guard.records import GuardedReply
from conscience.models.protocol import Message


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def conversation_hash(conversation: list[Message]) -> str:
    return sha256(json.dumps(conversation, sort_keys=True, ensure_ascii=False))


class AuditLog:
    """Append-only JSONL audit of guard decisions at ``path``."""

    def __init__(self, path: str | Path, include_text: bool = False):
        self.path = Path(path)
        self.include_text = include_text
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def record(self, *, request_id: str, client: str, model: str, conversation: list[Message], reply: GuardedReply | None,
               status: int, latency_ms: float, error: str | None = None) -> dict:
        """Append one line and return it. ``client`` must already be a pseudonym (a hash), not a token."""
        row: dict = {
            "id": request_id, "time": round(time.time(), 3), "client": client, "model": model, "status": status,
            "latency_ms": round(latency_ms, 1), "conversation_sha256": conversation_hash(conversation),
            "turns": len(conversation),
        }
        if error is not None:
            row["error"] = error
        if reply is not None:
            oversight = reply.oversight
            row.update(
                policy=oversight.policy, action=oversight.action, critiqued=oversight.critiqued, rounds=oversight.rounds,
                critic_failures=oversight.critic_failures, self_harm_suspected=oversight.self_harm_suspected,
                screen=oversight.screen.model_dump(mode="json", exclude={"reasons"}) if oversight.screen else None,
                principles_at_issue=oversight.principles_at_issue,
                verdicts=[{"principle": v.principle, "at_issue": v.at_issue} for v in oversight.verdicts],
                draft_sha256=sha256(reply.draft), reply_sha256=sha256(reply.text),
            )
            if self.include_text:
                row.update(messages=conversation, draft=reply.draft, reply=reply.text,
                           verdicts=[v.model_dump(mode="json") for v in oversight.verdicts],
                           screen_reasons=oversight.screen.reasons if oversight.screen else [])
        elif self.include_text:
            row["messages"] = conversation
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        return row
