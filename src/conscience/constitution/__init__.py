"""The Clinical Constitution: typed schema, loading/validation, and principle-level diffs."""

from conscience.constitution.diff import ConstitutionDiff, diff_constitutions
from conscience.constitution.load import constitution_hash, default_path, load_constitution
from conscience.constitution.schema import Constitution, Principle, TestPrompt

__all__ = ["Constitution", "ConstitutionDiff", "Principle", "TestPrompt", "constitution_hash", "default_path",
           "diff_constitutions", "load_constitution"]
