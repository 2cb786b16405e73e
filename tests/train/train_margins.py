"""Held-out preference margins computed here, independently of TRL: the yardstick for every method test.

margin = log p(chosen | prompt) - log p(rejected | prompt), summed over completion tokens, with prompt and
completion rendered by the tokenizer's chat template as a chat would see them. All sequences go through
the model in one right-padded batch.
"""

from __future__ import annotations

import torch


def _sequence(tokenizer, prompt: list[dict], completion: list[dict]) -> tuple[list[int], int]:
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                               return_dict=True)["input_ids"]
    full_ids = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids, "chat template must render the prompt as a prefix"
    return full_ids, len(prompt_ids)


def completion_logprobs(model, tokenizer, prompts: list[list[dict]], completions: list[list[dict]]) -> list[float]:
    sequences = [_sequence(tokenizer, p, c) for p, c in zip(prompts, completions)]
    width = max(len(ids) for ids, _ in sequences)
    ids = torch.full((len(sequences), width), tokenizer.pad_token_id)
    mask = torch.zeros_like(ids)
    for row, (seq, _) in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
    token_logprobs = torch.log_softmax(logits[:, :-1], dim=-1).gather(2, ids[:, 1:, None])[..., 0]
    return [float(token_logprobs[row, start - 1 : len(seq) - 1].sum()) for row, (seq, start) in enumerate(sequences)]


def mean_margin(model, tokenizer, pairs: list[dict]) -> float:
    """Mean over pairs of log p(chosen|prompt) - log p(rejected|prompt)."""
    model.eval()
    prompts = [p["prompt"] for p in pairs]
    chosen = completion_logprobs(model, tokenizer, prompts, [p["chosen"] for p in pairs])
    rejected = completion_logprobs(model, tokenizer, prompts, [p["rejected"] for p in pairs])
    return sum(c - r for c, r in zip(chosen, rejected)) / len(pairs)
