"""Critique-and-revise data generation: sample → critique → revise → pair → export.

Use :func:`load_spec` for a typed generation spec (default: the shipped ``spec.yaml``) and
:func:`run_generate` to run or resume it in a run directory; it returns the run's :class:`GenerateSummary`.
(The end-to-end *recipe*, which names a spec, is :mod:`conscience.recipe`.)
"""

from conscience.generate.config import AUTHORED_TEACHER, GenerateConfig, default_spec_path, load_spec
from conscience.generate.pipeline import run_generate
from conscience.generate.summary import GenerateSummary

__all__ = ["AUTHORED_TEACHER", "GenerateConfig", "GenerateSummary", "default_spec_path", "load_spec", "run_generate"]
