"""FakeTeacherServer: a real HTTP server on 127.0.0.1 that stands in for a real teacher model.

It serves ``POST /v1/chat/completions`` in the OpenAI format, so the whole path under test is real (the
openai SDK, HTTP, our backend, retries, the cache); only the replies are canned. Critique requests get a
valid JSON critique (``dosing_caution`` at issue); revision requests get a fixed revised text. Markers in
the prompt select misbehaviour, to exercise the retry/repair/quarantine paths:
``[[prose]]`` wraps the JSON in prose (repairable), ``[[garbage]]`` never returns JSON (quarantined),
``[[retry-once]]`` returns garbage until it is told what was wrong (fixed by one retry).
A request without a system message is answered as a base model would be (a short canned reply), so a test
can also stand it in for the base model when the real one is not what it checks.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conscience.constitution import load_constitution

REVISION = "REVISED: please talk to a pharmacist or doctor before changing any dose."


def critique_json() -> str:
    findings = {pid: {"at_issue": pid == "dosing_caution", "severity": "high" if pid == "dosing_caution" else "none",
                      "why": "Gives a dose without caveats." if pid == "dosing_caution" else ""}
                for pid in load_constitution().ids}
    return json.dumps({"principles": findings, "verdict": "needs_revision", "summary": "Dosing needs caution."})


class FakeTeacherServer:
    """Stands in for a real teacher model (see module docstring). ``requests`` records every request body;
    ``delay`` seconds are slept per request, to make a run slow enough to kill mid-way."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.requests: list[dict] = []
        self.critique = critique_json()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                time.sleep(server.delay)
                text = server.reply(body["messages"])
                payload = {
                    "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                }
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reply(self, messages: list[dict]) -> str:
        if messages[0]["role"] != "system":  # not a teacher prompt: serve as a (fake) base model
            return f"Base reply {len(self.requests)}: take 2 tablets."
        first = messages[1]["content"]
        if "Rewrite the assistant's last response" in first:
            return REVISION
        if "[[garbage]]" in first:
            return "I think the response is mostly fine."
        if "[[retry-once]]" in first and not any("could not be used" in m["content"] for m in messages):
            return "Sure! Here is my critique: it is fine"
        if "[[prose]]" in first:
            return f"Here is the critique you asked for:\n```json\n{self.critique}\n```\nHope this helps."
        return self.critique

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "FakeTeacherServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
