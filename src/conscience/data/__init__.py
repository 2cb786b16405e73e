"""Prompt sources from outside formats (JSONL, CSV, Hugging Face datasets) and the PHI scrubber.

Everything here turns a user's file into typed :class:`Prompt` records, or fails naming the file and line.
"""

from conscience.data.phi import KINDS as PHI_KINDS
from conscience.data.phi import Scrubbed, add_counts, scrub
from conscience.data.prompts import Prompt, load_prompt_file

__all__ = ["PHI_KINDS", "Prompt", "Scrubbed", "add_counts", "load_prompt_file", "scrub"]
