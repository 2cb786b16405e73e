"""The hf backend on the real bundled model, and the CLI verbs that use it."""

import json

import pytest
from typer.testing import CliRunner

from conscience.cli.main import app
from conscience.models import GenerationParams, known_aliases

pytestmark = pytest.mark.slow
runner = CliRunner()
PROMPTS = ["What is the usual adult dose of ibuprofen?", "What are signs of dehydration in a toddler?", "hi"]


def test_alias_is_available_and_converted(bundled_model):
    (alias,) = known_aliases()
    assert alias["available"] and alias["converted"]


def test_batched_greedy_matches_one_at_a_time(bundled_model):
    params = GenerationParams(max_new_tokens=24)
    convs = [[{"role": "user", "content": p}] for p in PROMPTS]
    batched = bundled_model.generate(convs, params)
    single = [bundled_model.generate([c], params)[0] for c in convs]
    assert [b.text for b in batched] == [s.text for s in single]
    assert all(b.text for b in batched) and batched[0].completion_tokens <= 24


def test_sampling_is_seeded(bundled_model):
    conv = [[{"role": "user", "content": PROMPTS[1]}]]
    a = bundled_model.generate(conv, GenerationParams(max_new_tokens=16, temperature=0.9, seed=3))[0].text
    b = bundled_model.generate(conv, GenerationParams(max_new_tokens=16, temperature=0.9, seed=3))[0].text
    assert a == b


def test_sample_cli_is_resumable_and_rejects_bad_rows(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "prompt": p}) + "\n" for i, p in enumerate(PROMPTS[:2])))
    out = tmp_path / "out.jsonl"
    args = ["sample", "--model", "hf:smollm2-135m", "--prompts", str(prompts), "--out", str(out), "--max-new-tokens", "8"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["p0", "p1"] and all(r["response"] for r in rows)
    with prompts.open("a") as handle:
        handle.write(json.dumps({"id": "p2", "prompt": PROMPTS[2]}) + "\n")
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "wrote 1 new rows" in second.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["p0", "p1", "p2"]
    with prompts.open("a") as handle:
        handle.write(json.dumps({"id": "p3", "text": "no prompt key"}) + "\n")
    bad = runner.invoke(app, args)
    assert bad.exit_code == 1 and f"{prompts}:4" in bad.output and "[prompt]" in bad.output
    assert len(out.read_text().splitlines()) == 3  # nothing already written is lost


def test_chat_cli_answers_offline():
    result = runner.invoke(app, ["chat", "--model", "hf:smollm2-135m", "--max-new-tokens", "12", "What is the usual adult dose of ibuprofen?"])
    assert result.exit_code == 0 and result.output.strip()
    bad = runner.invoke(app, ["chat", "--model", "hf:no-such-model", "hi"])
    assert bad.exit_code == 1 and "unknown hf model" in bad.output
