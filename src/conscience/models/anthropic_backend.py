"""Anthropic's Messages API through the official SDK. System messages move to the ``system`` field.

The current SDK's ``messages.create`` takes no ``temperature``/``top_p`` (the API no longer exposes sampling
controls), so those parameters are not sent; the cache key still records them, and provenance says so.
"""

from __future__ import annotations

import os

from conscience.errors import ConscienceError
from conscience.models.protocol import Completion, GenerationParams, Message
from conscience.models.remote import run_bounded


def to_messages_request(model: str, conversation: list[Message], params: GenerationParams) -> dict:
    """Map our conversation + params onto a Messages API request (pure, so it is testable on its own)."""
    system = "\n\n".join(m["content"] for m in conversation if m["role"] == "system")
    messages = [{"role": m["role"], "content": m["content"]} for m in conversation if m["role"] != "system"]
    request: dict = {"model": model, "max_tokens": params.max_new_tokens, "messages": messages}
    if system:
        request["system"] = system
    if params.stop:
        request["stop_sequences"] = list(params.stop)
    return request


class AnthropicChatModel:
    def __init__(self, spec: str, model: str, base_url: str | None, concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5):
        try:
            import anthropic
        except ImportError:
            raise ConscienceError("the anthropic backend needs the `anthropic` extra: pip install 'conscience[anthropic]'", field="model") from None
        api_key = os.environ.get("ANTHROPIC_API_KEY")
        if api_key is None and base_url is None:
            raise ConscienceError("ANTHROPIC_API_KEY is not set", field="model")
        self.spec = spec
        self.model = model
        self.concurrency = concurrency
        self._client_args = dict(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._anthropic = anthropic

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        client = self._anthropic.AsyncAnthropic(**self._client_args)

        async def one(conversation: list[Message]) -> Completion:
            try:
                response = await client.messages.create(**to_messages_request(self.model, conversation, params))
            except self._anthropic.APIError as exc:
                raise ConscienceError(f"{self.spec}: request failed after retries: {exc}", field="model") from None
            text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
            return Completion(
                text=text.strip(),
                finish_reason="length" if response.stop_reason == "max_tokens" else "stop",
                prompt_tokens=response.usage.input_tokens,
                completion_tokens=response.usage.output_tokens,
            )

        return run_bounded(conversations, one, self.concurrency)
