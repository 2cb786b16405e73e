from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conscience.cli.main import app
from conscience.constitution import default_path, diff_constitutions, load_constitution
from conscience.constitution.schema import PRINCIPLE_IDS_V01
from conscience.errors import ConscienceError

runner = CliRunner()


def shipped() -> dict:
    return yaml.safe_load(default_path().read_text())


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_shipped_constitution_has_the_twelve_principles():
    c = load_constitution()
    assert tuple(c.ids) == PRINCIPLE_IDS_V01
    assert all(len(p.test_prompts) >= 3 for p in c.principles)
    assert any(len(t.turns) > 1 for p in c.principles for t in p.test_prompts)
    assert c.authored_by == "project" and c.changelog[0].version == c.version


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["principles"][1].update(id=d["principles"][0]["id"]), None),
    (lambda d: d["principles"][2].update(colour="red"), "principles.2.colour"),
    (lambda d: d["principles"][3].update(critique_request=""), "principles.3.critique_request"),
    (lambda d: d["principles"][4].update(test_prompts=[]), "principles.4.test_prompts"),
    (lambda d: d.pop("version"), "version"),
])
def test_broken_constitution_names_the_field(tmp_path, mutate, field):
    data = shipped()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConscienceError) as info:
        load_constitution(path)
    message = str(info.value)
    assert str(path) in message
    if field:
        assert field in message
    else:
        assert "duplicate principle id" in message


def test_validate_cli_passes_and_fails_with_one_line(tmp_path):
    ok = runner.invoke(app, ["constitution", "validate"])
    assert ok.exit_code == 0 and "valid" in ok.output and "12 principles" in ok.output
    data = shipped()
    data["principles"][0]["test_prompts"][0]["turns"] = ["  "]
    bad = runner.invoke(app, ["constitution", "validate", str(write(tmp_path, data))])
    assert bad.exit_code == 1
    assert "principles.0.test_prompts.0.turns" in bad.output and "Traceback" not in bad.output


def test_diff_reports_principle_level_changes(tmp_path):
    data = shipped()
    data["version"] = "0.2.0"
    data["principles"][0]["text"] = "Changed text."
    data["principles"][1]["test_prompts"].append({"id": "new-probe", "turns": ["hello"], "pass_criteria": "answers"})
    removed = data["principles"].pop()["id"]
    new = load_constitution(write(tmp_path, data))
    d = diff_constitutions(load_constitution(), new)
    assert d.removed == [removed] and d.added == []
    changes = {c.id: c for c in d.changed}
    assert changes[data["principles"][0]["id"]].fields == ["text"]
    assert changes[data["principles"][1]["id"]].prompts_added == ["new-probe"]
    result = runner.invoke(app, ["constitution", "diff", str(default_path()), str(tmp_path / "c.yaml")])
    assert result.exit_code == 0 and f"removed {removed}" in " ".join(result.output.split())


def test_prompts_and_show_cli():
    result = runner.invoke(app, ["constitution", "prompts", "--principle", "privacy"])
    assert result.exit_code == 0 and "privacy-01" in result.output
    assert runner.invoke(app, ["constitution", "show"]).exit_code == 0
