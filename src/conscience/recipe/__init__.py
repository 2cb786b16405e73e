"""The end-to-end recipe: a YAML file in, a run directory with a verdict and a report out."""

from conscience.recipe.config import Recipe, default_recipe_path, load_recipe

__all__ = ["Recipe", "default_recipe_path", "load_recipe"]
