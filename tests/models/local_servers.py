"""Small HTTP servers on 127.0.0.1 for backend tests. Each is a stand-in, named as such: the SDKs and
the HTTP path are real, the model behind the endpoint is not."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serve(handler_cls):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("retry-after-ms", "10")  # keep SDK backoff short in tests
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        return body


class FakeAnthropicServer(_JsonHandler):
    """Stands in for Anthropic's Messages API: echoes what it was sent so the request mapping can be checked."""

    def do_POST(self):
        body = self._body()
        text = f"system={body.get('system', '')}|n={len(body['messages'])}|last={body['messages'][-1]['content']}"
        self._reply(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                          "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                          "usage": {"input_tokens": 11, "output_tokens": 7}})


class FakeFlakyOpenAIServer(_JsonHandler):
    """Stands in for an OpenAI-compatible server that answers 429 then 503 before succeeding."""

    failures = [429, 503]

    def do_POST(self):
        body = self._body()
        if len(self.server.requests) <= len(self.failures):  # type: ignore[attr-defined]
            status = self.failures[len(self.server.requests) - 1]  # type: ignore[attr-defined]
            self._reply(status, {"error": {"message": "try later", "type": "rate_limit", "code": status}})
            return
        self._reply(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": "ok:" + body["messages"][-1]["content"]}}],
                          "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}})
