"""Anthropic's Messages API through the official SDK. System messages move to the ``system`` field.

The current SDK's ``messages.create`` takes no ``temperature``/``top_p`` (the API no longer exposes sampling
controls), so those parameters are not sent; the cache key still records them, and provenance says so.
"""

from __future__ import annotations

from conscience.models.protocol import Completion, GenerationParams, Message
from conscience.models.remote import RemoteChatModel


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


class AnthropicChatModel(RemoteChatModel):
    SDK = "anthropic"
    KEY = "ANTHROPIC_API_KEY"

    def _client(self):
        return self._sdk.AsyncAnthropic(**self._client_args)

    async def _complete(self, client, conversation: list[Message], params: GenerationParams) -> Completion:
        response = await client.messages.create(**to_messages_request(self.model, conversation, params))
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        return Completion(
            text=text.strip(),
            finish_reason="length" if response.stop_reason == "max_tokens" else "stop",
            prompt_tokens=response.usage.input_tokens,
            completion_tokens=response.usage.output_tokens,
        )
