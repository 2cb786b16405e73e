"""The real bundled SmolLM2-135M on 10 authored questions: the fast loglik path equals lm-eval's way."""

import json
import math

import pytest
import torch

from conscience.evaluate.utility import evaluate_utility, load_questions, prompts
from conscience.evaluate.utility.scoring import LmEvalEncoder

pytestmark = pytest.mark.slow


def _lm_eval_way(model, encoder, q):
    """lm-eval's computation, spelled out: per option, full logits over (context + continuation)[:-1],
    log-softmax at every position, sum the continuation tokens' log-probs."""
    lls = []
    for continuation in prompts.letter_continuations(q):
        ctx, cont = encoder.pair(prompts.mc_context(q), continuation)
        inputs = torch.tensor([encoder.model_input(ctx, cont)])
        with torch.inference_mode():
            logp = torch.log_softmax(model(inputs).logits[0], dim=-1)
        lls.append(sum(float(logp[len(ctx) - 1 + j, t]) for j, t in enumerate(cont)))
    return lls


def test_loglik_run_matches_lm_eval_computation(tmp_path, bundled_model, authored_path):
    subset = tmp_path / "ten.jsonl"
    subset.write_text("".join(authored_path.read_text().splitlines(keepends=True)[:10]))
    summary = evaluate_utility(bundled_model, subset, method="loglik", out_dir=tmp_path / "run", batch_size=8)
    assert summary.n == 10 and summary.method == "loglik" and summary.model == "hf:smollm2-135m"
    assert sum(summary.prediction_distribution.values()) == 10
    assert summary.chance.status in ("informative", "at chance")
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert all(set(r["logliks"]) == {"A", "B", "C", "D"} and all(math.isfinite(v) for v in r["logliks"].values()) for r in rows)

    encoder = LmEvalEncoder(bundled_model.tokenizer, bundled_model.model.config)
    questions = load_questions(subset).questions
    # " A" is one token appended to the context tokens, which is what makes one pass per question enough.
    ctx, cont = encoder.pair(prompts.mc_context(questions[0]), " A")
    assert len(cont) == 1 and encoder.encode(prompts.mc_context(questions[0]) + " A")[: len(ctx)] == ctx
    for q, row in list(zip(questions, rows))[:2]:
        reference = _lm_eval_way(bundled_model.model, encoder, q)
        assert row["predicted"] == q.letters[reference.index(max(reference))]
        assert list(row["logliks"].values()) == pytest.approx(reference, abs=1e-4)
