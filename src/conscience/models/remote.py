"""Shared policy for remote backends: bounded async concurrency over a batch, and the SDK backends' common part.

Retries with exponential backoff on 408/409/429/5xx and timeouts are done by the official SDKs
themselves (``max_retries``, ``timeout``); we set them rather than re-implementing a retry loop.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from conscience.errors import ConscienceError
from conscience.models.protocol import Completion, GenerationParams, Message

T = TypeVar("T")
R = TypeVar("R")


def run_bounded(items: list[T], call: Callable[[T], Awaitable[R]], concurrency: int) -> list[R]:
    """Run ``call`` on every item with at most ``concurrency`` in flight; results in input order."""

    async def main() -> list[R]:
        gate = asyncio.Semaphore(concurrency)

        async def one(item: T) -> R:
            async with gate:
                return await call(item)

        return await asyncio.gather(*(one(item) for item in items))

    return asyncio.run(main())


class RemoteChatModel:
    """What the SDK backends share: the optional SDK import, the API key (not needed for a local ``base_url``),
    bounded concurrency over a batch, and a failed request (after the SDK's own retries) as one error.

    A backend names its ``SDK`` module and ``KEY`` variable and implements ``_client`` and ``_complete``."""

    SDK = ""
    KEY = ""
    KEY_HINT = ""

    def __init__(self, spec: str, model: str, base_url: str | None, concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5):
        try:
            self._sdk = importlib.import_module(self.SDK)
        except ImportError:
            raise ConscienceError(f"the {self.SDK} backend needs the `{self.SDK}` extra: pip install 'conscience[{self.SDK}]'",
                                  field="model") from None
        api_key = os.environ.get(self.KEY)
        if api_key is None and base_url is None:
            raise ConscienceError(f"{self.KEY} is not set{self.KEY_HINT}", field="model")
        self.spec = spec
        self.model = model
        self.base_url = base_url
        self.concurrency = concurrency
        self._client_args = dict(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=max_retries)

    def _client(self) -> Any:
        raise NotImplementedError

    async def _complete(self, client: Any, conversation: list[Message], params: GenerationParams) -> Completion:
        raise NotImplementedError

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        client = self._client()

        async def one(conversation: list[Message]) -> Completion:
            try:
                return await self._complete(client, conversation, params)
            except self._sdk.APIError as exc:
                raise ConscienceError(f"{self.spec}: request failed after retries: {exc}", field="model") from None

        return run_bounded(conversations, one, self.concurrency)
