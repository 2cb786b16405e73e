"""TRL's fused LM head under ``labelled_positions_only``: fewer rows projected on CPU, the same log-probs and grads.

The model is a randomly initialised 2-layer Llama built here (no weights loaded): the check is about which
positions TRL projects and whether the numbers change, not about a trained model.
"""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM
from trl.trainer import utils as trl_utils

from conscience.train.scoring import labelled_positions_only


def _random_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    model = LlamaForCausalLM(config)
    trl_utils.add_fused_lm_head(model, outputs=("log_probs", "entropy"))
    return model


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    input_ids = torch.randint(0, 101, (3, 12))
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, :4] = 0  # left padding on one row
    labels = input_ids.clone()
    labels[:, :6] = -100  # the "prompt": no label
    labels[attention_mask == 0] = -100
    return input_ids, attention_mask, labels


def _score(model, spy_rows: list[int]):
    input_ids, attention_mask, labels = _batch()
    model.zero_grad()
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, fused_lm_head=True)
    out.log_probs.sum().backward()
    grad = model.lm_head.weight.grad.clone()
    return out.log_probs.detach(), out.entropy.detach(), grad, spy_rows[-1], int((labels[:, 1:] != -100).sum())


def test_only_labelled_positions_are_projected_and_the_values_do_not_change(monkeypatch):
    model = _random_llama()
    rows: list[int] = []
    original_apply = trl_utils._ChunkedLogProbFunction.apply

    def counting_apply(hidden, *rest):
        rows.append(hidden.shape[0])
        return original_apply(hidden, *rest)

    monkeypatch.setattr(trl_utils._ChunkedLogProbFunction, "apply", counting_apply)

    full_logps, full_entropy, full_grad, full_rows, labelled = _score(model, rows)
    with labelled_positions_only() as compact:
        assert compact is True
        logps, entropy, grad, compact_rows, _ = _score(model, rows)
    assert full_rows == 3 * 11  # TRL's CPU default: every shifted position
    assert compact_rows == labelled < full_rows
    torch.testing.assert_close(logps, full_logps)
    torch.testing.assert_close(entropy, full_entropy)
    torch.testing.assert_close(grad, full_grad)


def test_the_switch_is_undone_after_the_block():
    before = trl_utils._use_triton
    with labelled_positions_only():
        assert trl_utils._use_triton is not before
        assert trl_utils._use_triton(torch.device("cpu")) is True
    assert trl_utils._use_triton is before
    assert before(torch.device("cpu")) is False


def test_a_trl_without_the_binding_trains_at_full_projection(monkeypatch):
    monkeypatch.delattr(trl_utils, "_use_triton")
    with labelled_positions_only() as compact:
        assert compact is False
