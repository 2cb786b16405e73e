"""The data-scale curve in the report: labelled rates beside the judge's, the shipped record, the report section.

The points are made up (``fake_point`` from the harness tests), not measurements."""

from __future__ import annotations

import copy
import json

import pytest

from conscience.recipe import assemble
from conscience.report import data_scale
from tests.recipe.fakes import fixed_calibration
from tests.recipe.test_report_assembly import _recipe, stages  # noqa: F401 (the module fixture of fake stages)
from tests.test_data_scale_harness import FAKE_BASE, FAKE_DEV, FAKE_SETTINGS, fake_point, fake_rate


def fake_labelled(name: str, unsafe: float, refused: float, ratio: float | None) -> dict:
    """A made-up labelled_rates.json entry (the shape benchmarks/labelled_rates.py writes)."""
    entry = {"name": name, "labelled": {"unsafe_rate": fake_rate(unsafe, 192), "safe_control_refusal": fake_rate(refused, 64)},
             "judge_vs_labels": {"unsafe": {"kappa": 0.4}, "refused": {"kappa": 0.8}}}
    if ratio is not None:
        entry["labelled_vs_baseline"] = {"ratio": ratio, "ci": [ratio - 0.1, ratio + 0.1], "test": "mcnemar", "p": 0.01}
    return entry


@pytest.fixture
def curve():
    points = [fake_point("sft+dpo", 300, 299, 0.21, 0.34), fake_point("sft+dpo", 1000, 998, 0.16, 0.30)]
    settings = {**FAKE_SETTINGS, "recipe_name": "scale", "stages": ["sft", "dpo"], "profile": "cpu-demo", "sizes": [300, 1000]}
    return data_scale.aggregate(points, copy.deepcopy(FAKE_BASE), FAKE_DEV, settings)


def test_labelled_rates_sit_beside_the_judges_in_the_table_and_plot(curve, tmp_path):
    data_scale.attach_labels(curve, [fake_labelled("base", 0.45, 0.14, None), fake_labelled("sft+dpo@300", 0.25, 0.39, 0.55)])
    assert curve["points"][0]["labelled"]["vs_base"]["ratio"] == 0.55 and "labelled" not in curve["points"][1]
    table = data_scale.markdown_table(curve)
    assert "| 0.250 [0.170, 0.330] (n=192) | 0.55 [0.45, 0.65] | 0.390 [0.310, 0.470] (n=64) |" in table
    assert "| sft+dpo @ 1000 prompts | 998 (899 / 99; 9) | 995 | 0.160 [0.080, 0.240] (n=192) | 0.300 [0.220, 0.380] (n=64) " \
           "| — | — | — |" in table  # a point nobody labelled says so
    assert data_scale.plot_curve(curve, tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_a_point_judged_by_another_judge_says_which(curve):
    curve["points"][1]["judge"] = {**curve["points"][1]["judge"], "name": "fake-judge-v2", "weights_sha256": "fedcba9876543210"}
    table = data_scale.markdown_table(curve)
    assert "| sft+dpo @ 1000 prompts (judge fake-judge-v2 (weights fedcba987654)) |" in table
    assert "| sft+dpo @ 300 prompts |" in table
    assert [r["model"] for r in data_scale.report_view(curve)["rows"]][1:] == [
        "sft+dpo @ 300 prompts", "sft+dpo @ 1000 prompts (judge fake-judge-v2 (weights fedcba987654))"]
    # the plot's title names both judges, and which points the second one scored
    assert data_scale.judges_line(curve, curve["base"]) == (
        "judge fake-judge (weights 0123456789ab); sft+dpo@1000 by fake-judge-v2 (weights fedcba987654)")


def test_a_labelled_run_that_names_no_point_is_refused(curve):
    with pytest.raises(ValueError, match=r"\['sft@300'\] name no point"):
        data_scale.attach_labels(curve, [fake_labelled("sft@300", 0.3, 0.3, 0.7)])


def test_the_shipped_record_drops_the_near_duplicate_list_and_says_where_it_was_measured(curve):
    curve["dev"] = {**curve["dev"], "near_duplicates": [{"dev_item": "a", "pair": "b", "cosine": 0.95}]}
    shipped = data_scale.for_shipping(curve, "2 CPU cores, 2026-12-04")
    assert shipped["dev"]["near_duplicates_count"] == 1 and "near_duplicates" not in shipped["dev"]
    assert "2 CPU cores, 2026-12-04" in data_scale.report_view(shipped)["how"]


def test_the_package_ships_a_measured_curve_with_its_provenance():
    shipped = data_scale.load_shipped()
    assert shipped is not None, "conscience/report/data/data_scale.json is missing"
    assert shipped["measured"] and shipped["base"]["judge"]["weights_sha256"] and shipped["settings"]["seed"] is not None
    for point in [shipped["base"], *shipped["points"]]:
        for key in ("unsafe_rate", "safe_control_refusal"):
            assert point[key]["ci_low"] <= point[key]["rate"] <= point[key]["ci_high"]
    assert "authored" in shipped["settings"]["pairs_provenance"]


@pytest.mark.parametrize("shipped", [True, False])
def test_the_run_report_shows_the_measured_curve_when_the_package_has_one(tmp_path, stages, monkeypatch, curve, shipped):  # noqa: F811
    monkeypatch.setattr(assemble, "_judge_calibration", fixed_calibration)
    monkeypatch.setattr(assemble, "load_shipped", lambda: data_scale.for_shipping(curve, "made up for this test") if shipped else None)
    generated, variants = stages
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    report = json.loads(assemble.write_report(run_dir, _recipe(tmp_path), variants, generated, {"id": "c"}).read_text())
    html = (run_dir / "report.html").read_text()
    if shipped:
        assert [r["model"] for r in report["data_scale"]["rows"]] == ["base hf:smollm2-135m", "sft+dpo @ 300 prompts", "sft+dpo @ 1000 prompts"]
        assert "made up for this test" in report["data_scale"]["how"] and "not by this run" in report["data_scale"]["how"]
        assert 'id="data-scale"' in html and "data:image/png;base64," in html.split('id="data-scale"')[1].split("</section>")[0]
        assert "How the recipe scales with data" in (run_dir / "report.md").read_text()
    else:
        assert report["data_scale"] is None and 'id="data-scale"' not in html


def test_the_curve_note_says_which_point_reaches_the_target_by_labels_or_that_none_does(curve):
    assert "has no labelled point" in data_scale.curve_note(curve, 0.5, 0.10)
    data_scale.attach_labels(curve, [fake_labelled("base", 0.45, 0.14, None), fake_labelled("sft+dpo@300", 0.20, 0.30, 0.44),
                                     fake_labelled("sft+dpo@1000", 0.15, 0.08, 0.33)])
    note = data_scale.curve_note(curve, 0.5, 0.10)
    assert note.startswith("Which recipe reaches the target: per the shipped data-scale curve (recipe scale,")
    assert "sft+dpo@1000: unsafe 0.33× base [0.23, 0.43], safe controls refused 0.080" in note and "@300" not in note
    # a stricter floor: nothing passes, and the note names the safest point and its refusals
    strict = data_scale.curve_note(curve, 0.5, 0.05)
    assert "none measured on this model" in strict and "the safest is sft+dpo@1000" in strict
