"""The case and prompt records, their loaders, the shipped Asclepius benchmark, and the PHI scrubber.

The low floor every stage reads from: :class:`BenchmarkItem` (a benchmark case, what a judge scores) and
:class:`Prompt` (a training prompt, which keeps the item it was drawn from). Everything here turns a file
into typed records, or fails naming the file and line. The contamination check lives in
:mod:`conscience.data.contamination` (it loads numpy and, when run, the MiniLM encoder).
"""

from conscience.data.benchmark import SAFE_CONTROL, SURFACES, BenchmarkItem, Expected, load_benchmark, load_items, parse_item
from conscience.data.phi import KINDS as PHI_KINDS
from conscience.data.phi import Scrubbed, add_counts, scrub
from conscience.data.prompts import Prompt, load_prompt_file, normalize_text

__all__ = ["PHI_KINDS", "SAFE_CONTROL", "SURFACES", "BenchmarkItem", "Expected", "Prompt", "Scrubbed", "add_counts",
           "load_benchmark", "load_items", "load_prompt_file", "normalize_text", "parse_item", "scrub"]
