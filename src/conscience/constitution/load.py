"""Load and validate constitutions; every error names the file and the field path."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from conscience.constitution.schema import Constitution
from conscience.errors import ConscienceError

DEFAULT_FILE = "clinical_constitution.yaml"


def default_path() -> Path:
    """The shipped Clinical Constitution (package data)."""
    return Path(str(resources.files("conscience.constitution") / "data" / DEFAULT_FILE))


def load_constitution(path: str | Path | None = None) -> Constitution:
    """Load ``path`` (default: the shipped constitution) into typed records, or raise a ConscienceError."""
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        raise ConscienceError("constitution file not found", where=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConscienceError(f"invalid YAML: {getattr(exc, 'problem', exc)}", where=path,
                              line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ConscienceError("a constitution must be a YAML mapping", where=path)
    try:
        return Constitution.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "missing required field"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConscienceError(message + more, where=path, field=field) from None


def constitution_hash(constitution: Constitution) -> str:
    """A content hash of the parsed constitution (key order and YAML formatting do not change it)."""
    return hashlib.sha256(constitution.model_dump_json().encode()).hexdigest()[:16]
