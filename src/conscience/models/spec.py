"""The one spec parser: ``provider:model[+adapter][@base_url]``.

Examples: ``hf:smollm2-135m``, ``hf:./my-model+runs/x/adapter``, ``openai:gpt-4o-mini``,
``openai:smollm2@http://127.0.0.1:8000/v1``, ``anthropic:claude-sonnet-4-5``.
"""

from __future__ import annotations

from dataclasses import dataclass

from conscience.errors import ConscienceError

PROVIDERS = ("hf", "openai", "anthropic")


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    model: str
    adapter: str | None = None
    base_url: str | None = None

    def __str__(self) -> str:
        text = f"{self.provider}:{self.model}"
        if self.adapter:
            text += f"+{self.adapter}"
        if self.base_url:
            text += f"@{self.base_url}"
        return text


def parse_spec(spec: str) -> ModelSpec:
    """Parse a spec string; a malformed one raises naming what is wrong and the accepted forms."""
    if ":" not in spec:
        raise ConscienceError(
            f"model spec {spec!r} has no provider; use provider:model, provider one of {', '.join(PROVIDERS)}",
            field="model",
        )
    provider, rest = spec.split(":", 1)
    if provider not in PROVIDERS:
        raise ConscienceError(f"unknown provider {provider!r} in {spec!r}; known: {', '.join(PROVIDERS)}", field="model")
    base_url = None
    if "@" in rest:
        rest, base_url = rest.split("@", 1)
        if not base_url.startswith(("http://", "https://")):
            raise ConscienceError(f"base URL {base_url!r} in {spec!r} must start with http:// or https://", field="model")
    adapter = None
    if "+" in rest:
        if provider != "hf":
            raise ConscienceError(f"adapters (+path) are only supported for hf: models, not {spec!r}", field="model")
        rest, adapter = rest.split("+", 1)
    if not rest:
        raise ConscienceError(f"model spec {spec!r} names no model", field="model")
    return ModelSpec(provider=provider, model=rest, adapter=adapter, base_url=base_url)
