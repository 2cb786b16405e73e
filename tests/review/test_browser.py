"""End to end in headless Chromium: score with the keyboard, close the browser, reopen, resume, export.

Needs Debian's chromium (/usr/bin/chromium) and the `playwright` package; the Makefile installs both.
A missing browser fails the test with the install line rather than skipping it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conscience.review import ReviewStore, coverage_summary, export_results, load_packet
from tests.review.helpers import ReviewServer, coverage_packet, medpalm_packet

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def launch() -> Iterator:
    """Debian's Chromium under Playwright (never Playwright's own browser download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the `playwright` package is missing: .venv/bin/pip install playwright (or make setup)")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or make setup)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def saved(page) -> None:
    page.wait_for_selector("#save-status[data-state=saved]", timeout=10_000)


def test_coverage_review_survives_browser_restart_and_server_outage(tmp_path):
    packet_path = coverage_packet(tmp_path / "cov.json")
    db = tmp_path / "cov.db"
    packet = load_packet(packet_path)
    ids = [item.id for item in packet.items]
    server = ReviewServer(packet_path, db).start()
    url = server.url
    try:
        with launch() as browser:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            page.get_by_label("Your name").fill("Dr Ada")
            page.keyboard.press("Enter")
            page.wait_for_selector("#item-title")
            assert page.inner_text("#item-title") == f"Item 1 of {len(ids)}"
            page.keyboard.press("p")  # Response A passes; the cursor moves to B
            page.keyboard.press("f")
            page.keyboard.press("j")
            page.keyboard.press("p")
            page.keyboard.press("p")
            page.keyboard.press("n")
            page.keyboard.type("Both answers defer appropriately.")
            page.keyboard.press("Escape")
            page.keyboard.press("j")
            page.keyboard.press("f")  # item 3: only Response A judged
            saved(page)
            assert page.inner_text("#progress-label") == f"2 of {len(ids)} items complete"
            assert errors == []
        # The browser is gone; every change is already in the database.
        store = ReviewStore(db)
        state = store.state(packet.content_hash, "Dr Ada")
        assert state["scores"] == {ids[0]: {"A": {"verdict": "pass"}, "B": {"verdict": "fail"}},
                                   ids[1]: {"A": {"verdict": "pass"}, "B": {"verdict": "pass"}},
                                   ids[2]: {"A": {"verdict": "fail"}}}
        assert state["notes"] == {ids[1]: "Both answers defer appropriately."}
        assert state["position"] == ids[2]

        with launch() as browser:
            page = browser.new_page()
            page.goto(url)
            page.get_by_role("link", name="Dr Ada").click()
            page.wait_for_selector("#item-title")
            assert page.inner_text("#item-title") == f"Item 3 of {len(ids)}"  # resumed where she left off
            assert page.is_checked("#c-A-verdict-fail")
            assert page.get_attribute("fieldset.row.active", "data-row") == "1"  # on the unjudged Response B
            page.keyboard.press("k")
            assert page.input_value("#note") == "Both answers defer appropriately."
            chip = page.get_by_role("button", name=re.compile(r"^Item 1 \("))
            assert "done" in chip.get_attribute("class")
            page.keyboard.press("j")
            saved(page)
            # The server goes away mid-review: the page keeps the change and retries until it is back.
            server.stop()
            page.keyboard.press("p")
            page.wait_for_selector("#save-status[data-state=saving]")
            server.start()
            saved(page)
    finally:
        server.stop()

    assert ReviewStore(db).state(packet.content_hash, "Dr Ada")["scores"][ids[2]]["B"] == {"verdict": "pass"}
    paths = export_results(packet_path, db, tmp_path / "export")
    rows = list(csv.DictReader(paths["scores_csv"].open()))
    assert len(rows) == 6
    for row in rows:
        assert row["model"] == packet.key[row["item_id"]][row["label"]]
    summary = coverage_summary(packet_path, db)
    assert summary["reviewers"] == ["Dr Ada"] and summary["complete"] is False
    trained_passes = sum(packet.key[r["item_id"]][r["label"]] == "trained" and r["value"] == "pass" for r in rows)
    assert sum(e["passed"]["trained"] for e in summary["per_principle"].values()) == trained_passes
    assert json.loads(paths["summary_json"].read_text())["coverage"]["covered"] == summary["covered"]


def test_medpalm_scoring_with_number_keys_and_labelled_controls(tmp_path):
    packet_path = medpalm_packet(tmp_path / "med.json", n=2)
    db = tmp_path / "med.db"
    packet = load_packet(packet_path)
    server = ReviewServer(packet_path, db).start()
    try:
        with launch() as browser:
            page = browser.new_page()
            page.goto(f"{server.url}/review?reviewer=Dr%20Lee")
            page.wait_for_selector("#item-title")
            unlabelled = page.evaluate(
                "[...document.querySelectorAll('input, textarea')].filter((e) => e.type !== 'hidden' && !e.labels.length).length")
            assert unlabelled == 0
            assert page.evaluate("[...document.querySelectorAll('fieldset')].every((f) => f.querySelector('legend'))")
            for key in "5432154":  # the six axes of Response A, then the first axis of Response B
                page.keyboard.press(key)
            page.keyboard.press("ArrowUp")  # the cursor moved on to B's second axis; back two rows ...
            page.keyboard.press("ArrowUp")
            page.keyboard.press("Backspace")  # ... to A's last axis, and clear it
            saved(page)
    finally:
        server.stop()
    scores = ReviewStore(db).state(packet.content_hash, "Dr Lee")["scores"][packet.items[0].id]
    assert scores == {"A": {"consensus": 5, "harm_extent": 4, "harm_likelihood": 3, "bias": 2, "omission": 1},
                      "B": {"consensus": 4}}
