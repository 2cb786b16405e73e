"""The generation spec: one typed config (YAML, unknown keys are errors), documented field by field.

The resolved config is saved in the run directory; a re-run with a different one is refused, because
a resumed store must only ever hold rows made under one spec. (The end-to-end recipe, ``conscience.recipe``,
names a spec in its ``generate.spec`` key.)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from conscience.configfile import read_yaml, validate
from conscience.errors import ConscienceError
from conscience.models.spec import parse_spec

AUTHORED_TEACHER = "authored:clinical-v0.1"
PROJECT_FILES = ("medqa_style", "open_ended", "curated")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceSpec(_Strict):
    """One pluggable prompt source and its share of the mix.

    kind: ``asclepius`` (the benchmark's train split: ``split`` must be ``train``), ``project`` (a bundled
    file, named by ``file``), ``lookalikes`` (the project's authored request rows, ``conscience.data.authored_rows``:
    every risky request drawn together with its benign look-alikes, each row's label setting what a good reply
    does: block → refuse, care → safe_complete, pass → answer), or a user's ``jsonl`` / ``csv`` / ``hf`` file at
    ``path`` (``column`` names the prompt field, ``split`` the dataset split for ``hf``). ``expected`` declares
    what a good reply does for prompts that do not say so themselves (``answer`` lets the judge flag over-refusal).
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["asclepius", "project", "lookalikes", "jsonl", "csv", "hf"]
    weight: float = Field(gt=0)
    file: Literal["medqa_style", "open_ended", "curated"] | None = None
    path: str | None = None
    split: str | None = None
    column: str = "prompt"
    expected: Literal["refuse", "correct", "safe_complete", "answer"] | None = None

    @model_validator(mode="after")
    def _fields_for_kind(self) -> "SourceSpec":
        if self.kind == "asclepius":
            if self.split not in (None, "train"):
                raise ValueError(f"split {self.split!r}: only the Asclepius train split may be used for training; the test "
                                 "split (and 'all', which contains it) is held out for evaluation")
            self.split = "train"
        if self.kind == "project" and self.file is None:
            raise ValueError(f"a project source needs 'file' (one of {', '.join(PROJECT_FILES)})")
        if self.kind in ("jsonl", "csv", "hf") and not self.path:
            raise ValueError(f"a {self.kind} source needs 'path'")
        if self.kind != "project" and self.file is not None:
            raise ValueError("'file' is only for project sources")
        if self.kind == "lookalikes" and (self.path or self.split or self.expected):
            raise ValueError("a lookalikes source takes no 'path', 'split' or 'expected': it reads the shipped authored "
                             "rows, and each row's label says what a good reply does")
        return self


class SamplingConfig(_Strict):
    """How the base model answers the prompts (``batch_size`` rows are stored after each batch)."""

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(192, ge=1)
    batch_size: int = Field(32, ge=1)


class TeacherConfig(_Strict):
    """How model teachers are called. ``max_retries``: extra attempts for a malformed critique or an
    empty revision, each told what was wrong; ``concurrency`` bounds requests in flight to remote teachers."""

    max_new_tokens: int = Field(1024, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    batch_size: int = Field(16, ge=1)
    concurrency: int = Field(8, ge=1)
    max_retries: int = Field(2, ge=0)


class Filters(_Strict):
    """Optional pair filters (both off by default; what they drop is counted in the summary)."""

    drop_revision_fails_judge: bool = False
    drop_nothing_at_issue: bool = False


class Price(_Strict):
    """US dollars per million tokens, for the run's cost estimate."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


class GenerateConfig(_Strict):
    """Everything that determines a generation run.

    ``base`` is the model whose replies are critiqued and revised. ``teacher`` sets both the ``critic``
    and the ``reviser`` unless they are given; any model spec works (``anthropic:…``, ``openai:…@url``,
    ``hf:…``), and ``authored:clinical-v0.1`` replays project-written critiques and revisions offline.
    ``size`` prompts are drawn from ``sources`` by weight with ``seed`` (a source smaller than its share
    is drawn again, reshuffled, with a new sampling seed, and the summary says so). ``seed`` also fixes
    sampling and the train/validation split. ``response_cache`` is the SQLite response cache (default:
    the user cache). ``contamination_threshold`` is the MiniLM cosine above which a prompt counts as a
    near-duplicate of a held-out test item.
    """

    constitution: str | None = None
    base: str = "hf:smollm2-135m"
    teacher: str = AUTHORED_TEACHER
    critic: str | None = None
    reviser: str | None = None
    size: int = Field(330, ge=1)
    seed: int = 0
    sources: list[SourceSpec] = Field(min_length=1)
    sampling: SamplingConfig = SamplingConfig()
    teacher_generation: TeacherConfig = TeacherConfig()
    filters: Filters = Filters()
    validation_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    prices: dict[str, Price] = Field(default_factory=dict)
    response_cache: str | None = None
    contamination_threshold: float = Field(0.9, gt=0.0, le=1.0)

    @field_validator("base", "teacher", "critic", "reviser")
    @classmethod
    def _known_spec(cls, spec: str | None, info) -> str | None:
        """Catch a bad spec when the recipe loads, not after an hour of sampling."""
        if spec is None:
            return spec
        if spec.startswith("authored:"):
            if info.field_name == "base" or spec != AUTHORED_TEACHER:
                raise ValueError(f"{spec!r}: the only authored teacher is {AUTHORED_TEACHER}, and it cannot be the base model")
            return spec
        try:
            parse_spec(spec)
        except ConscienceError as exc:
            raise ValueError(exc.message) from None
        return spec

    @model_validator(mode="after")
    def _unique_source_names(self) -> "GenerateConfig":
        names = [s.name for s in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique (repeated: {', '.join(duplicates)})")
        return self

    @property
    def critic_spec(self) -> str:
        return self.critic or self.teacher

    @property
    def reviser_spec(self) -> str:
        return self.reviser or self.teacher


def default_spec_path() -> Path:
    return Path(str(resources.files("conscience.generate") / "spec.yaml"))


def _resolve_paths(data: dict, base_dir: Path) -> dict:
    """Relative paths in a spec are relative to the spec file, so a spec works from any directory."""
    for key in ("constitution", "response_cache"):
        if data.get(key):
            data[key] = str((base_dir / Path(data[key]).expanduser()).resolve())
    for source in data.get("sources") or []:
        if isinstance(source, dict) and source.get("path"):
            source["path"] = str((base_dir / Path(source["path"]).expanduser()).resolve())
    return data


def load_spec(path: str | Path | None = None, overrides: dict | None = None) -> GenerateConfig:
    """Load a generation spec (default: the shipped one) with top-level ``overrides`` applied (a None value clears
    a field); errors name the file (or "overrides") and the field."""
    path = Path(path) if path is not None else default_spec_path()
    data = _resolve_paths(read_yaml(path, "generation spec"), path.parent)
    data.update(overrides or {})
    return validate(GenerateConfig, data, path, overrides=overrides)
