"""Review results in SQLite: one row per (reviewer, item, response, field), committed on every save.

WAL journaling with synchronous=FULL means a save that returned is on disk: closing the browser or
killing the server mid-review loses nothing. Rows are keyed by the packet's content hash, so one database
can hold several packets, and a packet rebuilt under the same name cannot mix with the old one's scores.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conscience.errors import ConscienceError
from conscience.review.packet import Packet
from conscience.rundir import now

SCHEMA = """
CREATE TABLE IF NOT EXISTS packets (
  name TEXT PRIMARY KEY, content_hash TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL, registered_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviewers (
  packet_hash TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL, position TEXT,
  PRIMARY KEY (packet_hash, name));
CREATE TABLE IF NOT EXISTS scores (
  packet_hash TEXT NOT NULL, reviewer TEXT NOT NULL, item_id TEXT NOT NULL, label TEXT NOT NULL,
  field TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (packet_hash, reviewer, item_id, label, field));
CREATE TABLE IF NOT EXISTS notes (
  packet_hash TEXT NOT NULL, reviewer TEXT NOT NULL, item_id TEXT NOT NULL, text TEXT NOT NULL,
  updated_at TEXT NOT NULL, PRIMARY KEY (packet_hash, reviewer, item_id));
"""


def default_db_path(packet_path: str | Path) -> Path:
    """Beside the packet: reviews.json -> reviews.db."""
    return Path(packet_path).with_suffix(".db")


class ReviewStore:
    """The review database. Each method opens its own short connection, so server threads never share one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=10)
        except sqlite3.Error as exc:
            raise ConscienceError(f"cannot open review database ({exc})", where=self.path) from None
        try:
            db.execute("PRAGMA synchronous=FULL")
            with db:  # commits on success, rolls back on error
                yield db
        except sqlite3.DatabaseError as exc:
            raise ConscienceError(f"review database error ({exc})", where=self.path) from None
        finally:
            db.close()

    def register(self, packet: Packet, packet_path: str | Path) -> None:
        """Record the packet's hash; a different packet under a name already scored here is refused."""
        with self._connect() as db:
            row = db.execute("SELECT content_hash FROM packets WHERE name = ?", (packet.name,)).fetchone()
            if row is None:
                db.execute("INSERT INTO packets VALUES (?, ?, ?, ?, ?)",
                           (packet.name, packet.content_hash, packet.kind, str(packet_path), now("milliseconds")))
            elif row[0] != packet.content_hash:
                raise ConscienceError(
                    f"packet {packet.name!r} (hash {packet.content_hash[:12]}…) differs from the one this database "
                    f"{self.path} holds reviews for (hash {row[0][:12]}…); use the original packet or a new --db",
                    where=packet_path)

    def add_reviewer(self, packet_hash: str, name: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO reviewers (packet_hash, name, created_at) VALUES (?, ?, ?)",
                       (packet_hash, name, now("milliseconds")))

    def has_reviewer(self, packet_hash: str, name: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM reviewers WHERE packet_hash = ? AND name = ?", (packet_hash, name)).fetchone() is not None

    def reviewers(self, packet_hash: str) -> list[dict]:
        """Each reviewer with how many scores and notes they saved, oldest reviewer first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT r.name, r.created_at, (SELECT COUNT(*) FROM scores s WHERE s.packet_hash = r.packet_hash AND s.reviewer = r.name),"
                " (SELECT COUNT(*) FROM notes n WHERE n.packet_hash = r.packet_hash AND n.reviewer = r.name)"
                " FROM reviewers r WHERE r.packet_hash = ? ORDER BY r.created_at, r.name", (packet_hash,)).fetchall()
        return [{"name": n, "created_at": c, "scores": s, "notes": k} for n, c, s, k in rows]

    def set_score(self, packet_hash: str, reviewer: str, item_id: str, label: str, field: str, value: int | str | None) -> None:
        """Save one score (``None`` clears it). Validation against the packet is the caller's job."""
        with self._connect() as db:
            if value is None:
                db.execute("DELETE FROM scores WHERE packet_hash = ? AND reviewer = ? AND item_id = ? AND label = ? AND field = ?",
                           (packet_hash, reviewer, item_id, label, field))
            else:
                db.execute("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (packet_hash, reviewer, item_id, label, field, json.dumps(value), now("milliseconds")))

    def set_note(self, packet_hash: str, reviewer: str, item_id: str, text: str) -> None:
        with self._connect() as db:
            if text.strip():
                db.execute("INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?, ?)", (packet_hash, reviewer, item_id, text, now("milliseconds")))
            else:
                db.execute("DELETE FROM notes WHERE packet_hash = ? AND reviewer = ? AND item_id = ?", (packet_hash, reviewer, item_id))

    def set_position(self, packet_hash: str, reviewer: str, item_id: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE reviewers SET position = ? WHERE packet_hash = ? AND name = ?", (item_id, packet_hash, reviewer))

    def state(self, packet_hash: str, reviewer: str) -> dict:
        """One reviewer's work, shaped for the page: scores[item][label][field], notes[item], position."""
        scores: dict = {}
        for row in self.scores(packet_hash, reviewer):
            scores.setdefault(row["item_id"], {}).setdefault(row["label"], {})[row["field"]] = row["value"]
        notes = {row["item_id"]: row["text"] for row in self.notes(packet_hash, reviewer)}
        with self._connect() as db:
            found = db.execute("SELECT position FROM reviewers WHERE packet_hash = ? AND name = ?", (packet_hash, reviewer)).fetchone()
        return {"scores": scores, "notes": notes, "position": found[0] if found else None}

    def _rows(self, table: str, columns: tuple[str, ...], order: str, packet_hash: str, reviewer: str | None) -> list[dict]:
        """Rows of ``table`` for one packet (and one reviewer, if given) as dicts of ``columns``."""
        query = f"SELECT {', '.join(columns)} FROM {table} WHERE packet_hash = ?"
        args: tuple = (packet_hash,) if reviewer is None else (packet_hash, reviewer)
        if reviewer is not None:
            query += " AND reviewer = ?"
        with self._connect() as db:
            return [dict(zip(columns, row)) for row in db.execute(f"{query} ORDER BY {order}", args).fetchall()]

    def scores(self, packet_hash: str, reviewer: str | None = None) -> list[dict]:
        rows = self._rows("scores", ("reviewer", "item_id", "label", "field", "value", "updated_at"),
                          "reviewer, item_id, label, field", packet_hash, reviewer)
        return [{**row, "value": json.loads(row["value"])} for row in rows]

    def notes(self, packet_hash: str, reviewer: str | None = None) -> list[dict]:
        return self._rows("notes", ("reviewer", "item_id", "text", "updated_at"), "reviewer, item_id", packet_hash, reviewer)
