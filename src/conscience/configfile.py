"""The one way a YAML file becomes a typed config: read a mapping, validate it with pydantic, and turn the
first problem into a :class:`ConscienceError` that names the file, the line (bad YAML) or the dotted field.

Every config in the project (constitution, generation recipe, end-to-end recipe, guard policy, training
profile) loads through here, so a misspelt key reads the same everywhere: ``file [key]: unknown key``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from conscience.errors import ConscienceError

Model = TypeVar("Model", bound=BaseModel)
# For a config that knows better than pydantic which key a problem belongs to: (field, message) or None.
Explain = Callable[[dict[str, Any]], "tuple[str | None, str] | None"]
_MESSAGES = {"extra_forbidden": "unknown key", "missing": "missing required field"}


def parse_yaml(text: str, where: str | Path, what: str) -> dict:
    """The YAML mapping in ``text`` (an empty file is an empty mapping); ``what`` names the config in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConscienceError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", where=where,
                              line=mark.line + 1 if mark else None) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConscienceError(f"a {what} must be a YAML mapping", where=where)
    return data


def read_yaml(path: str | Path, what: str) -> dict:
    """The YAML mapping in the file at ``path``; a missing file is an error naming it."""
    path = Path(path)
    if not path.exists():
        raise ConscienceError(f"{what} file not found", where=path)
    return parse_yaml(path.read_text(encoding="utf-8"), path, what)


def validate(model: type[Model], data: dict, where: str | Path, explain: Explain | None = None,
             overrides: dict | None = None) -> Model:
    """``model`` from ``data``; the first error raises naming ``where`` and the field (``+N more`` says how many
    others there are). A field set by ``overrides`` is blamed on "overrides", not on the file."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = _MESSAGES.get(first["type"], first["msg"]).removeprefix("Value error, ")
        explained = explain(first) if explain else None
        if explained is not None:
            field, message = explained
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        blamed = "overrides" if overrides and first["loc"] and first["loc"][0] in overrides else where
        raise ConscienceError(message + more, where=blamed, field=field) from None


def load_config(path: str | Path, model: type[Model], what: str) -> Model:
    """Read and validate a YAML config file in one call."""
    return validate(model, read_yaml(path, what), path)
