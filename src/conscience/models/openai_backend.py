"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, TGI, Ollama, llama.cpp, our own guard)."""

from __future__ import annotations

import os

from conscience.errors import ConscienceError
from conscience.models.protocol import Completion, GenerationParams, Message
from conscience.models.remote import run_bounded


class OpenAIChatModel:
    def __init__(self, spec: str, model: str, base_url: str | None, concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5):
        try:
            import openai
        except ImportError:
            raise ConscienceError("the openai backend needs the `openai` extra: pip install 'conscience[openai]'", field="model") from None
        api_key = os.environ.get("OPENAI_API_KEY")
        if api_key is None and base_url is None:
            raise ConscienceError("OPENAI_API_KEY is not set (needed for api.openai.com)", field="model")
        self.spec = spec
        self.model = model
        self.base_url = base_url
        self.concurrency = concurrency
        self._client_args = dict(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._openai = openai

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        client = self._openai.AsyncOpenAI(**self._client_args)

        async def one(conversation: list[Message]) -> Completion:
            kwargs = dict(model=self.model, messages=conversation, max_tokens=params.max_new_tokens,
                          temperature=params.temperature, top_p=params.top_p, seed=params.seed)
            if params.stop:
                kwargs["stop"] = list(params.stop)
            try:
                response = await client.chat.completions.create(**kwargs)
            except self._openai.APIError as exc:
                raise ConscienceError(f"{self.spec}: request failed after retries: {exc}", field="model") from None
            choice = response.choices[0]
            usage = response.usage
            return Completion(
                text=(choice.message.content or "").strip(),
                finish_reason=choice.finish_reason or "stop",
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
            )

        return run_bounded(conversations, one, self.concurrency)
