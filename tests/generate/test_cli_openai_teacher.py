"""`conscience generate` through the CLI against a real local HTTP teacher, and a bad prompt file."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conscience.cli.generate import app
from tests.generate.fake_teacher import REVISION, FakeTeacherServer

PROMPTS = [
    "Can I take two 500 mg naproxen tablets together for a bad back?",
    "[[prose]] How many 200 mg ibuprofen can I take in a day?",
    "[[retry-once]] Is it OK to double my amlodipine dose if I missed one?",
    "[[garbage]] Can I give my toddler adult cough syrup?",
]


def test_openai_teacher_over_http_and_a_bad_prompt_file(write_recipe, write_prompts, tmp_path):
    prompts = write_prompts(PROMPTS)
    recipe = write_recipe([{"name": "mine", "kind": "jsonl", "path": str(prompts), "weight": 1}],
                          prices={"openai:fake-teacher@PLACEHOLDER": {"input_per_million": 1.0, "output_per_million": 2.0}})
    runner = CliRunner()
    with FakeTeacherServer() as server:
        spec = f"openai:fake-teacher@{server.base_url}"
        recipe.write_text(recipe.read_text().replace("openai:fake-teacher@PLACEHOLDER", spec))
        result = runner.invoke(app, ["--recipe", str(recipe), "--out", str(tmp_path / "run"), "--teacher", spec])
        assert result.exit_code == 0, result.output
    assert {r["model"] for r in server.requests} == {"fake-teacher"}

    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["pairs"] == 3 and summary["teacher_provenance"]["critique"] == f"model-generated ({spec})"
    assert summary["principles_at_issue"] == {"dosing_caution": 3}
    critic = summary["models"]["critic"]
    # Retries come before repairs: prose and garbage get 2 retries each, retry-once 1: 9 critique requests.
    assert critic["calls"] == 9 and summary["models"]["reviser"]["calls"] == 3 and len(server.requests) == 12
    assert critic["prompt_tokens"] == 900 and critic["completion_tokens"] == 180 and critic["cost_usd"] == 0.00126
    assert "Prompts and pairs by source" in result.output and "Principles at issue" in result.output

    rows = {json.loads(l)["key"]: json.loads(l) for l in (tmp_path / "run" / "store.jsonl").read_text().splitlines()}
    assert rows["mine/u-0:critique"]["detail"] == {"parse": "strict"}
    assert rows["mine/u-1:critique"]["detail"]["parse"] == "repaired"
    assert rows["mine/u-2:critique"]["detail"] == {"parse": "strict after 1 retries"}
    assert rows["mine/u-0:pair"]["chosen"] == [{"role": "assistant", "content": REVISION}]
    quarantined = [json.loads(l) for l in (tmp_path / "run" / "quarantine.jsonl").read_text().splitlines()]
    assert len(quarantined) == 1 and quarantined[0]["prompt_key"] == "mine/u-3"
    assert quarantined[0]["reason"].startswith("malformed critique after 3 attempts: not valid JSON")
    assert len(quarantined[0]["raw"]) == 3  # every raw reply kept for audit

    store_before = (tmp_path / "run" / "store.jsonl").read_bytes()
    with prompts.open("a") as handle:
        handle.write('{"id": "u-9", "prompt": "fine"}\n{"id": "u-10", "prompt": }\n')
    result = runner.invoke(app, ["--recipe", str(recipe), "--out", str(tmp_path / "run"), "--teacher", spec])
    assert result.exit_code == 1
    assert f"{prompts}:6" in result.output and "invalid JSON" in result.output
    assert (tmp_path / "run" / "store.jsonl").read_bytes() == store_before
