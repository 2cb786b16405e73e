"""The web app's contract: pages served locally, saves validated against the packet, tampering refused."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from conscience.errors import ConscienceError
from conscience.review import ReviewStore, load_packet
from conscience.review.app import create_app
from tests.review.helpers import coverage_packet, medpalm_packet


@pytest.fixture
def medpalm(tmp_path):
    path = medpalm_packet(tmp_path / "m.json")
    client = TestClient(create_app(path, tmp_path / "m.db"))
    assert client.get("/review", params={"reviewer": "Ada"}).status_code == 200
    return client, load_packet(path), ReviewStore(tmp_path / "m.db")


def score(client, **overrides):
    body = {"reviewer": "Ada", "item_id": "q-1", "label": "A", "field": "consensus", "value": 4} | overrides
    return client.post("/api/score", json=body)


def test_pages_and_assets_are_all_local(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    client = TestClient(create_app(path, tmp_path / "p.db"))
    start = client.get("/")
    assert start.status_code == 200 and "Your name" in start.text
    assert start.headers["content-security-policy"].startswith("default-src 'self'")
    page = client.get("/review", params={"reviewer": "Ada"})
    for url in re.findall(r'(?:src|href)="([^"]+)"', start.text + page.text):
        assert url.startswith(("/", "#", "http://testserver/")), url
        if "/static/" in url:
            assert client.get(url).status_code == 200


def test_review_page_carries_the_blinded_packet_only(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    client = TestClient(create_app(path, tmp_path / "p.db"))
    page = client.get("/review", params={"reviewer": "Dr  Ada "})
    data = json.loads(re.search(r'<script id="review-data" type="application/json">(.*?)</script>', page.text, re.S).group(1))
    assert data["reviewer"] == "Dr Ada"
    assert "key" not in data["packet"] and "smollm2" not in page.text
    assert data["state"] == {"scores": {}, "notes": {}, "position": None}


def test_a_save_is_stored_and_comes_back_on_reload(medpalm):
    client, packet, store = medpalm
    assert score(client).json() == {"ok": True}
    assert client.post("/api/note", json={"reviewer": "Ada", "item_id": "q-1", "text": "cites old guidance"}).status_code == 200
    assert client.post("/api/position", json={"reviewer": "Ada", "item_id": "q-2"}).status_code == 200
    assert store.state(packet.content_hash, "Ada") == {"scores": {"q-1": {"A": {"consensus": 4}}},
                                                       "notes": {"q-1": "cites old guidance"}, "position": "q-2"}
    assert score(client, value=None).json() == {"ok": True}  # clearing a score deletes it
    assert store.state(packet.content_hash, "Ada")["scores"] == {}


@pytest.mark.parametrize("overrides, status, message", [
    ({"item_id": "q-99"}, 404, "unknown item id 'q-99'"),
    ({"label": "C"}, 404, "has no response 'C'"),
    ({"field": "charm"}, 422, "unknown rubric field 'charm'"),
    ({"value": 7}, 422, "out of range"),
    ({"value": 0}, 422, "out of range"),
    ({"value": "4"}, 422, "out of range"),
    ({"value": True}, 422, "invalid request"),
    ({"reviewer": "Mallory"}, 404, "unknown reviewer"),
    ({"extra": 1}, 422, "Extra inputs"),
])
def test_tampered_saves_are_refused_with_a_json_error(medpalm, overrides, status, message):
    client, packet, store = medpalm
    response = score(client, **overrides)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert store.scores(packet.content_hash) == []


def test_notes_and_positions_check_the_item_too(medpalm):
    client, _, _ = medpalm
    assert client.post("/api/note", json={"reviewer": "Ada", "item_id": "nope", "text": "x"}).status_code == 404
    assert client.post("/api/position", json={"reviewer": "Ada", "item_id": "nope"}).status_code == 404
    too_long = client.post("/api/note", json={"reviewer": "Ada", "item_id": "q-1", "text": "x" * 10_001})
    assert too_long.status_code == 422 and "error" in too_long.json()


def test_bad_reviewer_names_are_refused_on_the_start_page(tmp_path):
    client = TestClient(create_app(medpalm_packet(tmp_path / "m.json"), tmp_path / "m.db"))
    for name in ["", "   ", "<script>", "x" * 61]:
        response = client.get("/review", params={"reviewer": name})
        assert response.status_code == 422 and "reviewer name must be" in response.text


def test_serving_an_edited_packet_fails_naming_the_file(tmp_path):
    path = coverage_packet(tmp_path / "p.json")
    path.write_text(path.read_text().replace("trained reply 1", "TRAINED reply 1", 1))
    with pytest.raises(ConscienceError) as err:
        create_app(path, tmp_path / "p.db")
    assert str(path) in str(err.value) and "content_hash" in str(err.value)


def test_each_reviewer_keeps_their_own_scores_and_place(medpalm):
    client, packet, store = medpalm
    client.get("/review", params={"reviewer": "Ben"})
    score(client, value=2)
    score(client, reviewer="Ben", value=5)
    client.post("/api/position", json={"reviewer": "Ben", "item_id": "q-3"})
    ada, ben = store.state(packet.content_hash, "Ada"), store.state(packet.content_hash, "Ben")
    assert ada["scores"]["q-1"]["A"] == {"consensus": 2} and ada["position"] is None
    assert ben["scores"]["q-1"]["A"] == {"consensus": 5} and ben["position"] == "q-3"
    assert "Ben" in client.get("/").text
