"""Make TRL's fused LM head score only the labelled (completion) positions on CPU too.

TRL's DPO and KTO trainers compute per-token log-probs with a fused, vocabulary-tiled LM head. On Triton
devices it projects only the positions whose next-token label is not -100; on every other device it projects
all of them, prompt and padding included, because on graph-compiling devices (Neuron/XLA) a number of positions
that changes per batch would recompile the graph each step. Eager CPU compiles nothing, so there the full
projection is pure waste: on the default pairs about half the positions are prompt or padding, and the 49k-token
head with its entropy and mean-logit statistics is the most expensive layer of a 135M model. Measured on one
cpu-demo DPO step of the default pairs (batch 4, bf16 autocast, 2 cores): 17.8 s without, 10.2 s with.

The values are the same either way (``tests/train/test_scoring.py`` checks log-probs and gradients). The switch
is TRL's own module-level ``_use_triton`` binding in ``trl.trainer.utils``, which only that compact/full choice
reads; the kernel module keeps its own binding, so no Triton kernel is ever asked to run on CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


@contextmanager
def labelled_positions_only() -> Iterator[bool]:
    """Within the block, TRL's fused LM head scores labelled positions only on CPU; yields whether it could.

    Yields False (and training runs at TRL's full-projection speed) when the installed TRL no longer has the
    binding, so a TRL upgrade costs speed, never correctness.
    """
    from trl.trainer import utils as trl_utils

    original = getattr(trl_utils, "_use_triton", None)
    if original is None:
        logger.warning("this TRL has no trl.trainer.utils._use_triton; its fused LM head scores every position on CPU")
        yield False
        return

    def compact_on_cpu(device):  # noqa: ANN001, ANN202 - same signature as TRL's
        return device.type == "cpu" or original(device)

    trl_utils._use_triton = compact_on_cpu
    try:
        yield True
    finally:
        trl_utils._use_triton = original
