"""One torch thread for the real-model tests: on a shared 2-core CPU two threads per process ran 4-10x slower
than one (OpenMP oversubscription, measured on a 135M forward pass and on generation)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def single_torch_thread() -> Iterator[None]:
    """Set torch to one thread, and restore the count afterwards (later tests keep their own)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
