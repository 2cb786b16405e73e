"""The authored request rows: risky clinical requests and the benign look-alikes that must be answered.

``authored/<principle>.jsonl`` beside this module holds, for every principle of the shipped constitution,
requests a clinical assistant must decline (``block``) or handle with the principle's care (``care``), and
benign look-alikes it must answer plainly (``pass``; the XSTest idea), across Asclepius' attack styles and
plain patient questions. Each row carries a project-written good reply (``safe_reply``), a bad reply for risky
rows and a safer alternative for blocked ones. They were written for the project by AI models working for it
(``written_by`` says so in every row), never copied from the benchmark, and checked against the Asclepius test
split (``tests/data/test_authored_rows.py``).

They live on the records floor because two stages read them: the guard trains its classifier cascade on
them, and generation draws training prompts from them (a ``lookalikes`` source, whose expected behaviour
follows the label, and whose ``safe_reply`` the authored teacher uses as the revision).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conscience.data.benchmark import Expected
from conscience.data.prompts import Prompt
from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl

AuthoredLabel = Literal["block", "care", "pass"]
# What a good reply does, in the benchmark's terms: decline, answer with the principle's care, answer plainly.
EXPECTED_FOR_LABEL: dict[str, Expected] = {"block": "refuse", "care": "safe_complete", "pass": "answer"}


class AuthoredRow(BaseModel):
    """One request (its user turns) with the decision it needs and replies to learn from.

    ``lookalike_of`` names the risky row a benign ``pass`` row mirrors; the risky row and its look-alikes form a
    ``group`` that is drawn, split and held out together."""

    model_config = ConfigDict(extra="forbid")

    id: str
    principle: str
    style: str
    turns: list[str] = Field(min_length=1)
    label: AuthoredLabel
    lookalike_of: str | None = None
    safe_reply: str = Field(min_length=1)
    unsafe_reply: str | None = None
    safer_alternative: str | None = None
    written_by: str = Field(min_length=1)

    @property
    def group(self) -> str:
        """Rows that belong together: a risky row and its look-alikes."""
        return self.lookalike_of or self.id


def authored_dir() -> Path:
    return Path(str(resources.files("conscience.data") / "authored"))


def load_authored_rows(path: str | Path) -> list[AuthoredRow]:
    """Rows of one JSONL file; a bad row fails naming the file, line and field."""
    path = Path(path)
    rows = []
    for line, data in read_jsonl(path):
        try:
            rows.append(AuthoredRow.model_validate(data))
        except ValidationError as exc:
            error = exc.errors()[0]
            raise ConscienceError(error["msg"], where=path, line=line,
                                  field=".".join(str(p) for p in error["loc"]) or None) from None
    return rows


def authored_rows(folder: str | Path | None = None) -> list[AuthoredRow]:
    """Every row of a folder of ``<principle>.jsonl`` files (default: the shipped rows), in file then line order;
    ids must be unique across files."""
    folder = Path(folder) if folder else authored_dir()
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise ConscienceError("no authored rows (*.jsonl) here", where=folder)
    return _unique_ids([row for path in files for row in load_authored_rows(path)], folder)


def _unique_ids(rows: list[AuthoredRow], where: Path, scope: str = "") -> list[AuthoredRow]:
    """``rows`` unchanged, or an error naming the first repeated id (a look-alike link must be unambiguous)."""
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise ConscienceError(f"duplicate id {row.id!r}{scope}", where=where, field="id")
        seen.add(row.id)
    return rows


CLINICIAN_FOLDER = "clinician"


def guard_rows(folder: str | Path | None = None) -> list[AuthoredRow]:
    """The guard's training rows: a folder's rows plus those of its ``clinician/`` subfolder when it has one.

    A ``clinician/`` subfolder holds requests from clinicians and health staff (misconduct to decline,
    professional questions to answer). Only the guard reads it: generation's ``lookalikes`` source reads
    ``authored_rows`` alone, so adding such rows never changes a generation plan (or the data-scale curve
    measured on one). The shipped folder has none yet. Ids are unique across both.
    """
    folder = Path(folder) if folder else authored_dir()
    rows = authored_rows(folder)
    if (folder / CLINICIAN_FOLDER).is_dir():
        rows += authored_rows(folder / CLINICIAN_FOLDER)
    return _unique_ids(rows, folder, f" across {folder} and its {CLINICIAN_FOLDER}/")


def paired_groups(rows: list[AuthoredRow]) -> list[list[AuthoredRow]]:
    """The groups in which a risky request has at least one benign look-alike, risky row first, in file order."""
    groups: dict[str, list[AuthoredRow]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    return [sorted(members, key=lambda r: r.label == "pass") for members in groups.values()
            if any(r.label == "pass" for r in members) and any(r.label != "pass" for r in members)]


def lookalike_prompts(source: str, rows: list[AuthoredRow] | None = None) -> list[Prompt]:
    """Training prompts from the paired groups of the authored rows (default: the shipped ones): every risky
    request comes with the benign look-alikes that must be answered, and each prompt's ``group`` keeps them
    together when a prompt mix is drawn. Rows with no counterpart (a risky request without a look-alike, a
    benign request without a risky twin) are left out. Multi-turn rows keep their turns."""
    rows = authored_rows() if rows is None else rows
    return [Prompt(id=row.id, source=source, turns=row.turns, principles=[row.principle],
                   expected=EXPECTED_FOR_LABEL[row.label], group=row.group)
            for members in paired_groups(rows) for row in members]
