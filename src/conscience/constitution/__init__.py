"""The Clinical Constitution: typed schema, loading/validation, principle-level diffs, and its system-prompt rendering."""

from conscience.constitution.diff import ConstitutionDiff, diff_constitutions
from conscience.constitution.load import constitution_hash, default_path, load_constitution
from conscience.constitution.prompt import system_prompt
from conscience.constitution.schema import Constitution, Principle, TestPrompt

__all__ = ["Constitution", "ConstitutionDiff", "Principle", "TestPrompt", "constitution_hash", "default_path",
           "diff_constitutions", "load_constitution", "system_prompt"]
