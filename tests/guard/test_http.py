"""The HTTP layer through FastAPI's test client: auth, limits, error shape, timeouts, batching, audit."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from conscience.guard.audit import AuditLog
from conscience.guard.server import RateLimit, create_app

from .fakes import FakeResponder

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
PROMPT = "My name is Ada Lovelace and my INR is 4.2 on warfarin"
BODY = {"model": "guard", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 8}


def client_for(responder=None, **kwargs) -> TestClient:
    kwargs.setdefault("api_key", KEY)
    return TestClient(create_app(responder or FakeResponder(), model_name="guard", **kwargs))


def assert_openai_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"} and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def test_completion_shape_and_extension():
    with client_for() as client:
        response = client.post("/v1/chat/completions", json=BODY, headers=AUTH)
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion" and data["model"] == "guard"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": PROMPT[::-1]}
    assert data["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert data["conscience"]["action"] == "pass"


def test_stream_reassembles_to_the_reply():
    with client_for() as client:
        response = client.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=AUTH)
    lines = [line[len("data: "):] for line in response.text.split("\n\n") if line]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == PROMPT[::-1]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["conscience"]["policy"] == "fake"


def test_missing_or_wrong_token_is_401():
    with client_for() as client:
        assert_openai_error(client.post("/v1/chat/completions", json=BODY), 401, "invalid_api_key")
        assert_openai_error(client.post("/v1/chat/completions", json=BODY, headers={"Authorization": "Bearer nope"}), 401)
        assert_openai_error(client.get("/v1/models"), 401)
        assert client.get("/v1/models", headers=AUTH).json()["data"][0]["id"] == "guard"
        assert client.get("/health").json()["status"] == "ok"


def test_oversized_body_is_413_declared_or_streamed():
    big = {**BODY, "messages": [{"role": "user", "content": "x" * 5000}]}
    with client_for(max_body_bytes=2000) as client:
        assert_openai_error(client.post("/v1/chat/completions", json=big, headers=AUTH), 413, "request_too_large")
        chunked = client.post("/v1/chat/completions", content=iter([json.dumps(big).encode()]), headers=AUTH)
        assert_openai_error(chunked, 413, "request_too_large")
        assert client.post("/v1/chat/completions", json=BODY, headers=AUTH).status_code == 200


def test_rate_limit_is_429_per_client_with_retry_after():
    with client_for(rate_limit=RateLimit(requests=2, window_s=60)) as client:
        for _ in range(2):
            assert client.post("/v1/chat/completions", json=BODY, headers=AUTH).status_code == 200
        limited = client.post("/v1/chat/completions", json=BODY, headers=AUTH)
        assert_openai_error(limited, 429, "rate_limit_exceeded")
        assert int(limited.headers["retry-after"]) >= 1
    with client_for(api_key=None, rate_limit=RateLimit(requests=1, window_s=60)) as client:
        assert client.post("/v1/chat/completions", json=BODY, headers={"Authorization": "Bearer a"}).status_code == 200
        assert client.post("/v1/chat/completions", json=BODY, headers={"Authorization": "Bearer b"}).status_code == 200
        assert client.post("/v1/chat/completions", json=BODY, headers={"Authorization": "Bearer a"}).status_code == 429


@pytest.mark.parametrize("body, fragment", [
    (b"{not json", "not valid JSON"),
    (json.dumps({"model": "guard"}).encode(), "messages"),
    (json.dumps({**BODY, "messages": []}).encode(), "messages"),
    (json.dumps({**BODY, "n": 2}).encode(), "n"),
    (json.dumps({**BODY, "messages": [{"role": "assistant", "content": "hi"}]}).encode(), "last message"),
    (json.dumps({**BODY, "max_tokens": 0}).encode(), "max_tokens"),
])
def test_malformed_body_is_400_in_openai_shape(body, fragment):
    with client_for() as client:
        error = assert_openai_error(client.post("/v1/chat/completions", content=body, headers=AUTH), 400)
    assert fragment in error["message"]


def test_unknown_route_and_method_keep_the_error_shape():
    with client_for() as client:
        assert_openai_error(client.get("/v1/nope", headers=AUTH), 404)
        assert_openai_error(client.get("/v1/chat/completions", headers=AUTH), 405)


def test_slow_upstream_is_504_and_failure_is_500():
    with client_for(FakeResponder(delay=1.0), upstream_timeout=0.2) as client:
        assert_openai_error(client.post("/v1/chat/completions", json=BODY, headers=AUTH), 504, "upstream_timeout")
    with client_for(FakeResponder(fail=True)) as client:
        error = assert_openai_error(client.post("/v1/chat/completions", json=BODY, headers=AUTH), 500, "guard_error")
    assert "boom" not in error["message"]


def test_audit_log_has_no_text_by_default(tmp_path):
    path = tmp_path / "audit.jsonl"
    with client_for(audit=AuditLog(path)) as client:
        client.post("/v1/chat/completions", json=BODY, headers=AUTH)
        client.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=AUTH)
    text = path.read_text()
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 2 and all(r["status"] == 200 and len(r["conversation_sha256"]) == 64 for r in rows)
    for secret in ("Ada", "warfarin", PROMPT[::-1][:10], KEY):
        assert secret not in text


def test_audit_log_has_text_with_opt_in(tmp_path):
    path = tmp_path / "audit.jsonl"
    with client_for(audit=AuditLog(path, include_text=True)) as client:
        client.post("/v1/chat/completions", json=BODY, headers=AUTH)
    row = json.loads(path.read_text())
    assert row["messages"][0]["content"] == PROMPT and row["reply"] == PROMPT[::-1]
