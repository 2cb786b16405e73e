"""Shared policy for remote backends: bounded async concurrency over a batch.

Retries with exponential backoff on 408/409/429/5xx and timeouts are done by the official SDKs
themselves (``max_retries``, ``timeout``); we set them rather than re-implementing a retry loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
