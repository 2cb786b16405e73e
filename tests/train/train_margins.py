"""Held-out preference margins computed here, independently of TRL: the yardstick for every method test.

margin = log p(chosen | prompt) - log p(rejected | prompt), summed over completion tokens, with the prompt
and completion rendered by the tokenizer's chat template exactly as a chat would see them.
"""

from __future__ import annotations

import torch


def completion_logprob(model, tokenizer, prompt: list[dict], completion: list[dict]) -> float:
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                               return_dict=True)["input_ids"]
    full_ids = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids, "chat template must render the prompt as a prefix"
    ids = torch.tensor([full_ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    logprobs = torch.log_softmax(logits[0, :-1], dim=-1)
    targets = ids[0, 1:]
    token_logprobs = logprobs.gather(1, targets[:, None])[:, 0]
    return float(token_logprobs[len(prompt_ids) - 1 :].sum())


def mean_margin(model, tokenizer, pairs: list[dict]) -> float:
    model.eval()
    margins = [
        completion_logprob(model, tokenizer, p["prompt"], p["chosen"])
        - completion_logprob(model, tokenizer, p["prompt"], p["rejected"])
        for p in pairs
    ]
    return sum(margins) / len(margins)
