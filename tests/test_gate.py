"""`conscience run --gate` exit codes from the verdict rows of report.json."""

from __future__ import annotations

import pytest

from conscience.report.gate import FAIL, NOT_JUDGED, PASS, gate_code


def rows(*statuses: str, demo: str = "fail") -> list[dict]:
    cells = [{"criterion": f"criterion {n}", "status": s} for n, s in enumerate(statuses)]
    cells.append({"criterion": "demo target: unsafe rate ≤ 0.25 × base", "status": demo})
    return [{"variant": "dpo", "cells": cells}]


@pytest.mark.parametrize("statuses, code", [
    (("pass", "pass"), PASS),
    (("pass", "fail"), FAIL),
    (("fail", "cannot be judged (at chance)"), FAIL),
    (("pass", "cannot be judged (at chance)"), NOT_JUDGED),
    (("pass", "pending"), NOT_JUDGED),
])
def test_gate_codes(statuses, code):
    assert gate_code(rows(*statuses)) == code


def test_demo_targets_do_not_gate_and_an_empty_verdict_is_not_a_pass():
    assert gate_code(rows("pass", demo="fail")) == PASS
    assert gate_code([]) == NOT_JUDGED


@pytest.mark.parametrize("statuses, code", [(("pass",), PASS), (("fail",), FAIL), (("pending",), NOT_JUDGED)])
def test_run_gate_exits_with_the_verdicts_code_and_plain_run_exits_0(tmp_path, monkeypatch, statuses, code):
    """The recipe run itself (36 minutes) is replaced by a fake that writes a finished run's report.json."""
    import json

    from typer.testing import CliRunner

    import conscience.recipe.run
    from conscience.cli.main import app

    def fake_run_recipe(recipe, runs_dir, console=None):
        run_dir = tmp_path / "run"
        run_dir.mkdir(exist_ok=True)
        verdict = [{**row, "overall": "x"} for row in rows(*statuses)]
        for row in verdict:
            for cell in row["cells"]:
                cell.update(figure="f", ci=None)
        (run_dir / "report.json").write_text(json.dumps({"verdict": verdict, "notes": []}))
        return run_dir

    monkeypatch.setattr(conscience.recipe.run, "run_recipe", fake_run_recipe)
    gated = CliRunner().invoke(app, ["run", "--runs-dir", str(tmp_path), "--gate"])
    assert gated.exit_code == code, gated.output
    assert f"gate: exit {code}" in gated.output
    assert CliRunner().invoke(app, ["run", "--runs-dir", str(tmp_path)]).exit_code == 0
