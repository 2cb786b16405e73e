"""Critique-and-revise data generation: sample → critique → revise → pair → export.

Use :func:`load_recipe` for a typed recipe (default: the shipped ``default.yaml``) and
:func:`run_generate` to run or resume it in a run directory.
"""

from conscience.generate.config import AUTHORED_TEACHER, GenerateConfig, default_recipe_path, load_recipe
from conscience.generate.pipeline import run_generate

__all__ = ["AUTHORED_TEACHER", "GenerateConfig", "default_recipe_path", "load_recipe", "run_generate"]
