"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, TGI, Ollama, llama.cpp, our own guard)."""

from __future__ import annotations

from conscience.models.protocol import Completion, GenerationParams, Message
from conscience.models.remote import RemoteChatModel


class OpenAIChatModel(RemoteChatModel):
    SDK = "openai"
    KEY = "OPENAI_API_KEY"
    KEY_HINT = " (needed for api.openai.com)"

    def _client(self):
        return self._sdk.AsyncOpenAI(**self._client_args)

    async def _complete(self, client, conversation: list[Message], params: GenerationParams) -> Completion:
        kwargs = dict(model=self.model, messages=conversation, max_tokens=params.max_new_tokens,
                      temperature=params.temperature, top_p=params.top_p, seed=params.seed)
        if params.stop:
            kwargs["stop"] = list(params.stop)
        response = await client.chat.completions.create(**kwargs)
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=(choice.message.content or "").strip(),
            finish_reason=choice.finish_reason or "stop",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )
