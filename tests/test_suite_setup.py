"""The suite's own set-up leaves process-wide state alone: no thread setting at import or collection."""

from __future__ import annotations

import importlib


def test_conftests_do_not_change_torch_threads_when_imported():
    import torch

    before = torch.get_num_threads()
    for name in ("tests.conftest", "tests.generate.conftest", "tests.train.conftest"):
        importlib.reload(importlib.import_module(name))
        assert torch.get_num_threads() == before, f"{name} changed torch's thread count at import"
