"""Multiple-choice questions and their loaders: standard MedQA JSONL, the HF "-hf" layout, the project format.

All three become the same :class:`MCQuestion`, so scoring never knows where a question came from. A malformed
row fails with the file, the line (or row) and the field, never by being skipped.

Formats (detected from the first row's keys):
- ``medqa``: ``{"question", "options": {"A": …}, "answer_idx": "B", "answer": "<text of B>", "meta_info"}``
  (jind11/MedQA). ``answer`` must equal ``options[answer_idx]``; ids are ``<file stem>-<row index>``.
- ``hf``: ``{"sent1", "ending0".."ending3" (or ..4), "label": int}`` as in GBaker/MedQA-USMLE-4-options-hf;
  a JSONL file, a parquet file, or a folder written by ``datasets.save_to_disk``. Uses ``id`` if present.
- ``project``: ``{"id", "question", "options": {"A": …}, "answer": "B", "meta_info"}`` (extra keys ignored).
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl

LETTERS = string.ascii_uppercase
AUTHORED_QUESTIONS = Path(__file__).parent / "data" / "usmle_style_30.jsonl"
"""30 USMLE-style questions written for this project (not from MedQA), answers balanced over A–D; for tests/demos."""


@dataclass(frozen=True)
class MCQuestion:
    """One question. ``options`` is ordered A, B, C…; ``answer`` is the gold letter."""

    id: str
    question: str
    options: dict[str, str]
    answer: str
    meta_info: str | None = None

    @property
    def letters(self) -> list[str]:
        return list(self.options)

    @property
    def k(self) -> int:
        return len(self.options)

    def rotated(self, shift: int) -> MCQuestion:
        """The same question with option texts moved ``shift`` places up: letter j shows old letter j+shift.

        The gold letter follows its text, so over shifts 0..k-1 the right answer visits every position once.
        """
        letters = self.letters
        texts = [self.options[letter] for letter in letters]
        k = len(letters)
        new_texts = [texts[(j + shift) % k] for j in range(k)]
        gold_index = (letters.index(self.answer) - shift) % k
        return MCQuestion(self.id, self.question, dict(zip(letters, new_texts)), letters[gold_index], self.meta_info)


@dataclass(frozen=True)
class QuestionSet:
    """The questions of one file with its provenance (format, sha256 of the bytes read)."""

    path: Path
    format: str
    sha256: str
    questions: list[MCQuestion]

    def by_id(self) -> dict[str, MCQuestion]:
        return {q.id: q for q in self.questions}


def _fail(message: str, path: Path, line: int, field: str | None = None) -> ConscienceError:
    return ConscienceError(message, where=path, line=line, field=field)


def _text(row: dict[str, Any], field: str, path: Path, line: int) -> str:
    if field not in row:
        raise _fail("missing field", path, line, field)
    value = row[field]
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"must be a non-empty string, got {value!r:.60}", path, line, field)
    return value


def _options(row: dict[str, Any], path: Path, line: int) -> dict[str, str]:
    options = row.get("options")
    if options is None:
        raise _fail("missing field", path, line, "options")
    if not isinstance(options, dict) or not 2 <= len(options) <= len(LETTERS):
        raise _fail("must be an object of letter -> option text with at least 2 options", path, line, "options")
    expected = list(LETTERS[: len(options)])
    if sorted(options) != expected:
        raise _fail(f"option letters must be {', '.join(expected)}, got {', '.join(map(str, options))}", path, line, "options")
    for letter in expected:
        if not isinstance(options[letter], str) or not options[letter].strip():
            raise _fail(f"option {letter} must be non-empty text", path, line, f"options.{letter}")
    return {letter: options[letter] for letter in expected}


def _letter(row: dict[str, Any], field: str, options: dict[str, str], path: Path, line: int) -> str:
    if field not in row:
        raise _fail("missing field", path, line, field)
    value = row[field]
    if not isinstance(value, str) or value not in options:
        raise _fail(f"must be one of the option letters {', '.join(options)}, got {value!r}", path, line, field)
    return value


def _meta(row: dict[str, Any], path: Path, line: int) -> str | None:
    value = row.get("meta_info")
    if value is not None and not isinstance(value, str):
        raise _fail(f"must be a string, got {type(value).__name__}", path, line, "meta_info")
    return value


def _medqa_row(row: dict[str, Any], path: Path, line: int, index: int) -> MCQuestion:
    options = _options(row, path, line)
    letter = _letter(row, "answer_idx", options, path, line)
    if "answer" in row and row["answer"] != options[letter]:
        raise _fail(f"answer text {row['answer']!r:.60} is not option {letter}", path, line, "answer")
    qid = str(row["id"]) if "id" in row else f"{path.stem}-{index:05d}"
    return MCQuestion(qid, _text(row, "question", path, line), options, letter, _meta(row, path, line))


def _project_row(row: dict[str, Any], path: Path, line: int, index: int) -> MCQuestion:
    if "id" not in row:
        raise _fail("missing field", path, line, "id")
    options = _options(row, path, line)
    letter = _letter(row, "answer", options, path, line)
    return MCQuestion(str(row["id"]), _text(row, "question", path, line), options, letter, _meta(row, path, line))


def _hf_row(row: dict[str, Any], path: Path, line: int, index: int) -> MCQuestion:
    endings = []
    while f"ending{len(endings)}" in row:
        endings.append(_text(row, f"ending{len(endings)}", path, line))
    if len(endings) < 2:
        raise _fail("need at least ending0 and ending1", path, line, "ending0")
    label = row.get("label")
    if label is None:
        raise _fail("missing field", path, line, "label")
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(endings):
        raise _fail(f"must be an integer index 0..{len(endings) - 1}, got {label!r}", path, line, "label")
    options = dict(zip(LETTERS, endings))
    qid = str(row["id"]) if row.get("id") not in (None, "") else f"{path.stem}-{index:05d}"
    return MCQuestion(qid, _text(row, "sent1", path, line), options, LETTERS[label], _meta(row, path, line))


PARSERS = {"medqa": _medqa_row, "hf": _hf_row, "project": _project_row}


def detect_format(row: dict[str, Any]) -> str:
    """Name the layout of a row from its keys (see the module docstring)."""
    if "sent1" in row:
        return "hf"
    if "answer_idx" in row:
        return "medqa"
    return "project"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _rows(path: Path, split: str) -> list[tuple[int, dict[str, Any]]]:
    """(line or row number, row) pairs from JSONL, parquet or a ``save_to_disk`` folder."""
    if path.is_dir():
        from datasets import DatasetDict, load_from_disk

        try:
            data = load_from_disk(str(path))
        except FileNotFoundError as exc:
            raise ConscienceError(f"not a datasets save_to_disk folder ({exc})", where=path) from None
        if isinstance(data, DatasetDict):
            if split not in data:
                raise ConscienceError(f"split {split!r} not in this dataset (has {', '.join(data)})", where=path, field="split")
            data = data[split]
        return [(i + 1, dict(row)) for i, row in enumerate(data)]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return [(i + 1, row) for i, row in enumerate(pq.read_table(path).to_pylist())]
    return list(read_jsonl(path))


def load_questions(path: str | Path, split: str = "test") -> QuestionSet:
    """Load a question file in any supported format; ``split`` picks from a multi-split saved dataset.

    Line numbers in errors are JSONL lines, or 1-based row numbers for parquet and saved datasets.
    """
    path = Path(path)
    if not path.exists():
        raise ConscienceError("question file not found", where=path)
    rows = _rows(path, split)
    if not rows:
        raise ConscienceError("no questions in file", where=path)
    fmt = detect_format(rows[0][1])
    parse = PARSERS[fmt]
    questions: list[MCQuestion] = []
    seen: dict[str, int] = {}
    for index, (line, row) in enumerate(rows):
        if detect_format(row) != fmt:
            raise _fail(f"row is in {detect_format(row)} format but the file starts in {fmt} format", path, line)
        question = parse(row, path, line, index)
        if question.id in seen:
            raise _fail(f"duplicate id {question.id!r} (first on line {seen[question.id]})", path, line, "id")
        seen[question.id] = line
        questions.append(question)
    return QuestionSet(path, fmt, _file_sha256(path), questions)
