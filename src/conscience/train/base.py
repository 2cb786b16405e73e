"""The base model to train: a spec resolved to a local Hugging Face folder, loaded for training.

Training loads ``AutoModelForCausalLM`` itself rather than going through ``HFChatModel``: that backend is
for inference (left padding, eval mode, fp32), while training needs the profile's dtype and TRL's padding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conscience.errors import ConscienceError
from conscience.models.registry import ALIASES
from conscience.models.spec import parse_spec


def resolve_base(spec: str) -> Path:
    """``hf:<alias>`` or ``hf:<folder>`` to the folder holding config.json; anything else is refused."""
    parsed = parse_spec(spec)
    if parsed.provider != "hf" or parsed.base_url:
        raise ConscienceError(f"training needs local weights: use hf:<alias> or hf:<folder>, not {spec!r}", field="base")
    if parsed.adapter:
        raise ConscienceError(f"{spec!r} already carries an adapter: merge it first (conscience train --merge) and "
                              "train on the merged folder", field="base")
    folder = ALIASES[parsed.model].folder() if parsed.model in ALIASES else Path(parsed.model).expanduser()
    if not (folder / "config.json").is_file():
        raise ConscienceError("not a Hugging Face model folder (no config.json); known aliases: "
                              f"{', '.join(ALIASES)}", where=folder, field="base")
    return folder


def load_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base(folder: Path, dtype: str) -> Any:
    """The causal LM in the profile's dtype, ready for TRL to wrap with the LoRA adapter."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype))
