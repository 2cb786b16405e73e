"""The store, agreement, the coverage rule and the export files."""

from __future__ import annotations

import csv
import json
import math
import sqlite3

import pytest

from conscience.errors import ConscienceError
from conscience.review import ReviewStore, coverage_summary, export_results, load_packet
from conscience.review.agreement import krippendorff_alpha
from tests.review.helpers import coverage_packet, medpalm_packet

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 observers x 12 units example.
RELIABILITY = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
               [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
               [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
               [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]


@pytest.mark.parametrize("level, expected", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_alpha_matches_the_published_example(level, expected):
    units = [[row[u] for row in RELIABILITY if row[u] is not None] for u in range(12)]
    assert math.isclose(krippendorff_alpha(units, level), expected, abs_tol=5e-4)


def test_krippendorff_alpha_edge_cases():
    assert krippendorff_alpha([["pass", "pass"], ["fail", "fail"]]) == 1.0
    assert krippendorff_alpha([["pass", "pass"], ["pass", "pass"]]) is None  # no variation: undefined
    assert krippendorff_alpha([["pass"], ["fail"]]) is None  # nothing rated twice


def _vote(store, packet, reviewer, item_id, model, verdict):
    label = next(label for label, name in packet.key[item_id].items() if name == model)
    store.set_score(packet.content_hash, reviewer, item_id, label, "verdict", verdict)


def _scored_coverage(tmp_path):
    """Two principles; trained passes 3/4 of the first and 2/4 of the second; base passes one prompt."""
    path = coverage_packet(tmp_path / "p.json")
    packet = load_packet(path)
    store = ReviewStore(tmp_path / "p.db")
    store.register(packet, path)
    first, second = packet.items[:4], packet.items[4:]
    for reviewer in ("Ada", "Ben"):
        store.add_reviewer(packet.content_hash, reviewer)
        for item, verdict in zip(first, ["pass", "pass", "pass", "fail"]):
            _vote(store, packet, reviewer, item.id, "trained", verdict)
        for item, verdict in zip(second, ["pass", "pass", "fail", "fail"]):
            _vote(store, packet, reviewer, item.id, "trained", verdict)
        for item in packet.items:
            _vote(store, packet, reviewer, item.id, "base", "pass" if item is first[0] else "fail")
    return path, packet, store


def test_coverage_counts_a_principle_when_the_trained_model_passes_a_majority(tmp_path):
    path, packet, store = _scored_coverage(tmp_path)
    summary = coverage_summary(path, tmp_path / "p.db")
    first, second = packet.items[0].principle, packet.items[4].principle
    assert summary["covered"] == 1 and summary["of"] == 2 and summary["subject"] == "trained"
    assert summary["per_principle"][first]["passed"] == {"base": 1, "trained": 3}
    assert summary["per_principle"][first]["covered"] and not summary["per_principle"][second]["covered"]
    assert summary["baseline"] == {"base": 0}
    assert summary["reviewers"] == ["Ada", "Ben"] and summary["complete"] is True
    assert coverage_summary(path, tmp_path / "p.db", rule="all")["covered"] == 0


def test_a_split_vote_does_not_pass_and_missing_verdicts_mark_incomplete(tmp_path):
    path, packet, store = _scored_coverage(tmp_path)
    _vote(store, packet, "Ben", packet.items[0].id, "trained", "fail")  # Ada pass, Ben fail: a tie
    store.set_score(packet.content_hash, "Ada", packet.items[5].id, "A", "verdict", None)
    store.set_score(packet.content_hash, "Ben", packet.items[5].id, "A", "verdict", None)
    summary = coverage_summary(path, tmp_path / "p.db")
    assert summary["per_principle"][packet.items[0].principle]["passed"]["trained"] == 2
    assert summary["covered"] == 0 and summary["complete"] is False


def test_export_writes_unblinded_rows_distributions_and_agreement(tmp_path):
    path, packet, store = _scored_coverage(tmp_path)
    store.set_note(packet.content_hash, "Ada", packet.items[0].id, "clear, safe answer")
    paths = export_results(path, tmp_path / "p.db", tmp_path / "out")
    rows = list(csv.DictReader(paths["scores_csv"].open()))
    assert len(rows) == 2 * 2 * len(packet.items)
    assert all(row["model"] == packet.key[row["item_id"]][row["label"]] for row in rows)
    assert list(csv.DictReader(paths["notes_csv"].open()))[0]["text"] == "clear, safe answer"
    summary = json.loads(paths["summary_json"].read_text())
    assert summary["axes"]["trained"]["verdict"] == {"n": 16, "counts": {"pass": 10, "fail": 6}, "mean": None}
    assert summary["agreement"]["verdict"]["alpha"] == 1.0  # the two reviewers agree everywhere
    assert summary["agreement"]["verdict"]["method"] == "Krippendorff's alpha (nominal)"
    assert summary["coverage"]["covered"] == 1
    assert "Coverage: 1 of 2 principles" in paths["summary_md"].read_text()


def test_medpalm_summary_has_means_per_axis_and_no_agreement_with_one_reviewer(tmp_path):
    path = medpalm_packet(tmp_path / "m.json", n=2)
    packet = load_packet(path)
    store = ReviewStore(tmp_path / "m.db")
    store.register(packet, path)
    store.add_reviewer(packet.content_hash, "Ada")
    for item, value in zip(packet.items, [2, 5]):
        for response in item.responses:
            store.set_score(packet.content_hash, "Ada", item.id, response.label, "consensus", value)
    summary = json.loads(export_results(path, tmp_path / "m.db", tmp_path / "out")["summary_json"].read_text())
    assert summary["axes"]["base"]["consensus"] == {"n": 2, "counts": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}, "mean": 3.5}
    assert summary["axes"]["base"]["bias"]["n"] == 0
    assert summary["agreement"] is None


def test_store_uses_wal_and_refuses_a_different_packet_under_the_same_name(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    store = ReviewStore(tmp_path / "p.db")
    store.register(load_packet(path), path)
    with sqlite3.connect(tmp_path / "p.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rebuilt = coverage_packet(tmp_path / "p.json", seed=1)  # same name, different A/B draw
    with pytest.raises(ConscienceError, match="differs from the one this database"):
        store.register(load_packet(rebuilt), rebuilt)


def test_summary_needs_an_existing_database(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    with pytest.raises(ConscienceError, match="review database not found"):
        coverage_summary(path)
