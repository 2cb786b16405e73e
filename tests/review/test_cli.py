"""`conscience review create|serve|export` through typer's runner; one test runs the real bundled model."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from conscience.cli.review import app
from conscience.constitution import load_constitution
from conscience.review import ReviewStore, load_packet
from tests.review.helpers import coverage_packet
from tests.threads import single_torch_thread

runner = CliRunner()


def tiny_constitution(path):
    """The shipped constitution cut to its first principle and three test prompts (one of them two turns)."""
    data = load_constitution().model_dump(mode="json")
    principle = data["principles"][0]
    principle["test_prompts"] = principle["test_prompts"][:3]
    data["principles"] = [principle]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def one_torch_thread():
    with single_torch_thread():
        yield


@pytest.mark.slow
def test_create_a_coverage_packet_with_the_real_model(tmp_path, one_torch_thread):
    out = tmp_path / "coverage.json"
    result = runner.invoke(app, ["create", "--model", "hf:smollm2-135m", "--kind", "coverage", "--out", str(out),
                                 "--constitution", str(tiny_constitution(tmp_path / "c.yaml")), "--max-new-tokens", "16"])
    assert result.exit_code == 0, result.output
    packet = load_packet(out)
    assert [m.spec for m in packet.models] == ["hf:smollm2-135m"] and packet.subject == "hf:smollm2-135m"
    assert len(packet.items) == 3 and "c.yaml) test prompts" in packet.source
    assert packet.generation["max_new_tokens"] == 16 and packet.generation["temperature"] == 0.0
    for item in packet.items:
        (response,) = item.responses
        assert len(response.replies) == len(item.turns) and all(response.replies)
    assert max(len(item.turns) for item in packet.items) == 2  # the two-turn prompt got a reply per turn


def test_create_refuses_bad_arguments_in_one_line(tmp_path):
    out = str(tmp_path / "p.json")
    cases = [(["--kind", "coverage", "--out", out], "either --run RUN_DIR or --model"),
             (["--kind", "vibes", "--model", "hf:smollm2-135m", "--out", out], "--kind must be medpalm or coverage"),
             (["--kind", "coverage", "--model", "hf:smollm2-135m", "--n", "5", "--out", out], "drop --prompts/--n"),
             (["--kind", "medpalm", "--model", "a", "--model", "a", "--out", out], "must differ")]
    for args, message in cases:
        result = runner.invoke(app, ["create", *args])
        assert result.exit_code == 1 and message in result.output, result.output


def test_export_writes_the_files_and_prints_the_summary(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    packet = load_packet(path)
    store = ReviewStore(tmp_path / "p.db")
    store.register(packet, path)
    store.add_reviewer(packet.content_hash, "Ada")
    store.set_score(packet.content_hash, "Ada", packet.items[0].id, "A", "verdict", "pass")
    result = runner.invoke(app, ["export", "--packet", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Coverage: 0 of 2 principles" in result.output and "INCOMPLETE" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["notes.csv", "scores.csv", "scores.json", "summary.json", "summary.md"]


def test_serve_and_export_refuse_an_edited_packet_naming_it(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["items"][1]["pass_criteria"] = "anything goes"
    path.write_text(json.dumps(data))
    for args in (["serve", "--packet", str(path), "--port", "1"], ["export", "--packet", str(path), "--out", str(tmp_path / "o")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert str(path) in result.output.replace("\n", "") and "edited" in result.output
