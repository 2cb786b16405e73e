"""Scorers: log-likelihood of option letters (lm-eval exact), of option texts (cloze), or a generated letter.

Why the log-likelihood path agrees with lm-eval and is faster:
- Tokenisation is lm-eval's ``_encode_pair`` (trailing context spaces move to the continuation; the
  continuation is ``encode(context + continuation)[len(encode(context)):]``; a BOS-prefixed string is not
  given special tokens twice), the input is ``(context + continuation)[-(max_length + 1):][:-1]``, the
  continuation's log-prob is the sum over its tokens, and ties go to the first option (``np.argmax``).
- Requests whose inputs are identical are run once. For letters (" A" is one token) that is one forward
  pass per question for all options, as lm-eval's one-token-continuation cache also does.
- The saving is in what is *not* computed: lm-eval applies the LM head and a log-softmax at every position
  of every sequence ([batch, length, vocab] — for SmolLM2 a 49,152-wide row per token); here the model is
  asked for logits only at the positions that score a continuation (``logits_to_keep``), typically one
  per question. Inputs are right-padded without a mask exactly as lm-eval does, so causal attention keeps
  pads from touching real tokens, and sorted longest-first so batches carry little padding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from conscience.errors import ConscienceError
from conscience.evaluate.utility import prompts
from conscience.evaluate.utility.questions import MCQuestion
from conscience.models.protocol import ChatModel, GenerationParams

Method = Literal["loglik", "cloze", "generate"]
METHODS: tuple[str, ...] = ("loglik", "cloze", "generate")
GENERATE_PARAMS = GenerationParams(max_new_tokens=32, temperature=0.0)
TOKENIZER_INFINITY = 1_000_000_000_000_000_019_884_624_838_656
LM_EVAL_DEFAULT_MAX_LENGTH = 2048


@dataclass
class OptionScores:
    """What a scorer says about one question: per-option log-likelihoods (None for generate), the letter
    chosen by raw log-likelihood (``predicted``, lm-eval's acc) and by length-normalised log-likelihood
    (``predicted_norm``, lm-eval's acc_norm), and for generate the raw reply."""

    predicted: str | None
    predicted_norm: str | None = None
    logliks: dict[str, float] | None = None
    response: str | None = None


def _first_argmax(values: list[float]) -> int:
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


class LmEvalEncoder:
    """lm-eval 0.4.13's ``HFLM.tok_encode`` + ``TemplateLM._encode_pair`` + ``max_length`` for a tokenizer."""

    def __init__(self, tokenizer: Any, config: Any):
        self.tokenizer = tokenizer
        prefix_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        self.prefix_text = tokenizer.decode(prefix_id) if prefix_id is not None else None
        self.max_length = self._max_length(config)

    def _max_length(self, config: Any) -> int:
        for source in (getattr(config, "text_config", None), config):
            for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
                value = getattr(source, attr, None) if source is not None else None
                if value:
                    return int(value)
        limit = getattr(self.tokenizer, "model_max_length", None)
        if limit and limit != TOKENIZER_INFINITY:
            return int(limit)
        return LM_EVAL_DEFAULT_MAX_LENGTH

    def encode(self, text: str) -> list[int]:
        if self.prefix_text is not None and text.startswith(self.prefix_text):
            return self.tokenizer.encode(text, add_special_tokens=False)
        return self.tokenizer.encode(text)

    def pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        spaces = len(context) - len(context.rstrip())
        if spaces:
            continuation = context[-spaces:] + continuation
            context = context[:-spaces]
        whole = self.encode(context + continuation)
        context_ids = self.encode(context)
        return context_ids, whole[len(context_ids) :]

    def model_input(self, context_ids: list[int], continuation_ids: list[int]) -> tuple[int, ...]:
        return tuple((context_ids + continuation_ids)[-(self.max_length + 1) :][:-1])


class LoglikScorer:
    """Score options by log-likelihood on a local HF model (letters = lm-eval's medqa_4options; or cloze)."""

    def __init__(self, model: Any, tokenizer: Any, mode: Literal["loglik", "cloze"], batch_size: int = 8,
                 system_prompt: str | None = None):
        self.model = model
        self.encoder = LmEvalEncoder(tokenizer, model.config)
        self.mode = mode
        self.batch_size = batch_size
        self.system_prompt = system_prompt

    def _requests(self, q: MCQuestion) -> list[tuple[str, str]]:
        if self.mode == "loglik":
            context = prompts.with_system_prompt(prompts.mc_context(q), self.system_prompt)
            return [(context, c) for c in prompts.letter_continuations(q)]
        context = prompts.with_system_prompt(prompts.cloze_context(q), self.system_prompt)
        return [(context, c) for c in prompts.cloze_continuations(q)]

    def score(self, questions: list[MCQuestion], on_batch: Callable[[int], None] | None = None) -> list[OptionScores]:
        """Score every question; ``on_batch(n_inputs)`` is called after each forward pass (progress)."""
        requests = []  # (question index, option index, model input, continuation ids)
        for qi, q in enumerate(questions):
            for oi, (context, continuation) in enumerate(self._requests(q)):
                ctx_ids, cont_ids = self.encoder.pair(context, continuation)
                if not cont_ids:
                    raise ConscienceError(f"option {q.letters[oi]} tokenises to nothing after the context", field=q.id)
                requests.append((qi, oi, self.encoder.model_input(ctx_ids, cont_ids), cont_ids))
        unique = sorted({r[2] for r in requests}, key=lambda ids: (-len(ids), ids))
        # For each distinct input: which (position, token) log-probs some continuation needs.
        needed: dict[tuple[int, ...], set[tuple[int, int]]] = {ids: set() for ids in unique}
        for _, _, ids, cont in requests:
            offset = len(ids) - len(cont)
            needed[ids].update((offset + j, token) for j, token in enumerate(cont))
        logprobs: dict[tuple[int, ...], dict[tuple[int, int], float]] = {}
        for start in range(0, len(unique), self.batch_size):
            batch = unique[start : start + self.batch_size]
            logprobs.update(self._forward(batch, needed))
            if on_batch:
                on_batch(len(batch))
        totals = [[0.0] * q.k for q in questions]
        for qi, oi, ids, cont in requests:
            offset = len(ids) - len(cont)
            totals[qi][oi] = sum(logprobs[ids][(offset + j, token)] for j, token in enumerate(cont))
        results = []
        for q, lls in zip(questions, totals):
            # lm-eval's acc_norm divides by len(choice) in characters (the choice without the delimiter).
            lengths = [len(c) for c in (q.letters if self.mode == "loglik" else q.options.values())]
            normed = [ll / n for ll, n in zip(lls, lengths)]
            results.append(
                OptionScores(
                    predicted=q.letters[_first_argmax(lls)],
                    predicted_norm=q.letters[_first_argmax(normed)],
                    logliks=dict(zip(q.letters, lls)),
                )
            )
        return results

    def _forward(self, batch: list[tuple[int, ...]], needed: dict) -> dict[tuple[int, ...], dict[tuple[int, int], float]]:
        import torch

        width = len(batch[0])
        inputs = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):
            inputs[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        positions = sorted({pos for ids in batch for pos, _ in needed[ids]})
        column = {pos: j for j, pos in enumerate(positions)}
        out = {}
        with torch.inference_mode():
            logits = self.model(
                input_ids=inputs, logits_to_keep=torch.tensor(positions, dtype=torch.long), use_cache=False
            ).logits
            for row, ids in enumerate(batch):
                row_positions = sorted({pos for pos, _ in needed[ids]})
                logp = torch.log_softmax(logits[row, [column[p] for p in row_positions]], dim=-1)
                index = {pos: i for i, pos in enumerate(row_positions)}
                out[ids] = {(pos, tok): float(logp[index[pos], tok]) for pos, tok in needed[ids]}
        return out


class GenerateScorer:
    """0-shot generation with the fixed prompt; the letter is extracted from the reply (or None)."""

    def __init__(self, model: ChatModel, params: GenerationParams = GENERATE_PARAMS, system_prompt: str | None = None):
        self.model = model
        self.params = params
        self.system_prompt = system_prompt

    def score(self, questions: list[MCQuestion], on_batch: Callable[[int], None] | None = None) -> list[OptionScores]:
        replies = self.model.generate([prompts.generate_conversation(q, self.system_prompt) for q in questions], self.params)
        if on_batch:
            on_batch(len(questions))
        return [
            OptionScores(predicted=prompts.extract_letter(r.text, q), response=r.text) for q, r in zip(questions, replies)
        ]


def make_scorer(method: str, model: ChatModel, batch_size: int = 8,
                system_prompt: str | None = None) -> LoglikScorer | GenerateScorer:
    """The scorer for ``method``, with ``system_prompt`` (if any) in every prompt. Log-likelihood methods need
    local weights, so remote backends raise."""
    if method not in METHODS:
        raise ConscienceError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}", field="method")
    if method == "generate":
        return GenerateScorer(model, system_prompt=system_prompt)
    inner = getattr(model, "model", None)
    tokenizer = getattr(model, "tokenizer", None)
    if inner is None or tokenizer is None or not hasattr(inner, "config"):
        raise ConscienceError(
            f"method {method!r} needs log-likelihoods from a local hf: model, but {model.spec!r} only returns text; "
            "use --method generate for remote models",
            field="method",
        )
    return LoglikScorer(inner, tokenizer, method, batch_size=batch_size, system_prompt=system_prompt)  # type: ignore[arg-type]
