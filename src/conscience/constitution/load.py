"""Load and validate constitutions; every error names the file and the field path."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from conscience.configfile import load_config
from conscience.constitution.schema import Constitution

DEFAULT_FILE = "clinical_constitution.yaml"


def default_path() -> Path:
    """The shipped Clinical Constitution (package data)."""
    return Path(str(resources.files("conscience.constitution") / "data" / DEFAULT_FILE))


def load_constitution(path: str | Path | None = None) -> Constitution:
    """Load ``path`` (default: the shipped constitution) into typed records, or raise a ConscienceError."""
    return load_config(path if path is not None else default_path(), Constitution, "constitution")


def constitution_hash(constitution: Constitution) -> str:
    """A content hash of the parsed constitution (key order and YAML formatting do not change it)."""
    return hashlib.sha256(constitution.model_dump_json().encode()).hexdigest()[:16]
