"""The case and prompt records, their loaders, the shipped Asclepius benchmark, and the PHI scrubber.

The low floor every stage reads from: :class:`BenchmarkItem` (a benchmark case, what a judge scores),
:class:`Prompt` (a training prompt, which keeps the item it was drawn from) and :class:`AuthoredRow` (a risky
request or a benign look-alike with project-written replies: the guard trains on them, generation draws
prompts from them). Everything here turns a file into typed records, or fails naming the file and line. The contamination check lives in
:mod:`conscience.data.contamination` (it loads numpy and, when run, the MiniLM encoder).
"""

from conscience.data.authored_rows import (EXPECTED_FOR_LABEL, AuthoredRow, authored_dir, authored_rows, guard_rows,
                                           load_authored_rows, lookalike_prompts)
from conscience.data.benchmark import SAFE_CONTROL, SURFACES, BenchmarkItem, Expected, load_benchmark, load_items, parse_item
from conscience.data.phi import KINDS as PHI_KINDS
from conscience.data.phi import Scrubbed, add_counts, scrub
from conscience.data.prompts import Prompt, load_prompt_file, normalize_text

__all__ = ["EXPECTED_FOR_LABEL", "PHI_KINDS", "SAFE_CONTROL", "SURFACES", "AuthoredRow", "BenchmarkItem", "Expected", "Prompt",
           "Scrubbed", "add_counts", "authored_dir", "authored_rows", "guard_rows", "load_authored_rows", "load_benchmark", "load_items",
           "load_prompt_file", "lookalike_prompts", "normalize_text", "parse_item", "scrub"]
