"""Packets with fixed replies (no model run) and a real uvicorn server on a free 127.0.0.1 port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from conscience.review import Question, build_packet, coverage_questions, save_packet
from conscience.review.app import create_app


def coverage_questions_of(principles: int) -> list[Question]:
    """The shipped constitution's test prompts for its first ``principles`` principles."""
    questions, _ = coverage_questions()
    keep = list(dict.fromkeys(q.principle for q in questions))[:principles]
    return [q for q in questions if q.principle in keep]


def fixed_replies(questions: list[Question], who: str) -> list[list[str]]:
    return [[f"{who} reply {t + 1} to {q.id}" for t in range(len(q.turns))] for q in questions]


def coverage_packet(path: Path, principles: int = 2, seed: int = 0) -> Path:
    """Two models (base, trained) on the first principles' test prompts, replies written here."""
    questions = coverage_questions_of(principles)
    packet = build_packet(questions, {"base": fixed_replies(questions, "base"), "trained": fixed_replies(questions, "trained")},
                          "coverage", name=path.stem, source="test prompts (fixed replies)",
                          specs={"base": "hf:smollm2-135m", "trained": "hf:smollm2-135m+adapters/sft"}, seed=seed)
    return save_packet(packet, path)


def medpalm_packet(path: Path, n: int = 3, models: tuple[str, ...] = ("base", "trained")) -> Path:
    questions = [Question(id=f"q-{i}", turns=[f"Clinical question {i}?"]) for i in range(1, n + 1)]
    replies = {m: [f"{m} answer {i}" for i in range(1, n + 1)] for m in models}
    return save_packet(build_packet(questions, replies, "medpalm", name=path.stem, source="fixed questions"), path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReviewServer:
    """The real review app under uvicorn in a thread; can be stopped and started again on the same port."""

    def __init__(self, packet: Path, db: Path, port: int | None = None):
        self.packet, self.db, self.port = packet, db, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "ReviewServer":
        config = uvicorn.Config(create_app(self.packet, self.db), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("review server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None


@contextmanager
def running_server(packet: Path, db: Path) -> Iterator[str]:
    """Serve the review app in a thread; yields its base URL and stops it on exit."""
    server = ReviewServer(packet, db).start()
    try:
        yield server.url
    finally:
        server.stop()
