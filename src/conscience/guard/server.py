"""The OpenAI-compatible guard server: ``/v1/chat/completions`` (plain and SSE), ``/v1/models``, ``/health``.

Checks run cheapest first and answer in OpenAI's error shape: bearer token (401), per-client rate limit
(429, with Retry-After), body size (413, before the body is parsed), body shape (400), then the guarded
reply, bounded by ``upstream_timeout`` (504). Models are loaded once by the caller and passed in; requests
reach them through one :class:`MicroBatcher`, so generation never runs on the event loop.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from conscience.guard.audit import AuditLog
from conscience.guard.batching import MicroBatcher, Responder
from conscience.guard.openai_api import (
    ChatCompletionRequest, completion_id, completion_object, error_body, models_object, stream_events,
)
from conscience.models.protocol import ChatModel

log = logging.getLogger("conscience.guard")


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` per ``window_s`` seconds per client (bearer token, else client address)."""

    requests: int = 120
    window_s: float = 60.0


class SlidingWindowLimiter:
    """Exact sliding-window counts per client; idle clients are dropped so memory stays bounded."""

    def __init__(self, limit: RateLimit):
        self.limit = limit
        self._hits: dict[str, collections.deque[float]] = {}

    def retry_after(self, client: str, now: float) -> float:
        """0 if the request may go ahead (and counts it), else seconds until it could."""
        cutoff = now - self.limit.window_s
        for key in [k for k, q in self._hits.items() if not q or q[-1] <= cutoff]:
            del self._hits[key]
        hits = self._hits.setdefault(client, collections.deque())
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if len(hits) >= self.limit.requests:
            return hits[0] - cutoff
        hits.append(now)
        return 0.0


class _Refused(Exception):
    def __init__(self, status: int, message: str, type_: str, code: str | None, headers: dict | None = None):
        self.status, self.message, self.type, self.code, self.headers = status, message, type_, code, headers


def _error(status: int, message: str, type_: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, type_, code), status_code=status, headers=headers)


def as_responder(responder: Responder | ChatModel) -> Responder:
    """A Guard is served as is; a bare ChatModel is served as a pass-through (policy ``never``)."""
    if hasattr(responder, "respond"):
        return responder  # type: ignore[return-value]
    from conscience.guard.core import Guard
    from conscience.guard.policy import GuardPolicy

    return Guard(None, responder, policy=GuardPolicy(critique="never"))  # type: ignore[arg-type]


def create_app(responder: Responder | ChatModel, *, model_name: str, api_key: str | None,
               max_body_bytes: int = 1_000_000, rate_limit: RateLimit | None = RateLimit(),
               upstream_timeout: float = 120.0, audit: AuditLog | None = None, max_batch: int = 8,
               batch_window_s: float = 0.01) -> FastAPI:
    """Build the app. ``api_key=None`` disables auth (the CLI allows that only on loopback).

    ``model_name`` is what responses and ``/v1/models`` report; this is a one-model server, so the
    request's ``model`` field is echoed back as ``model_name`` rather than used for routing.
    """
    batcher = MicroBatcher(as_responder(responder), max_batch=max_batch, window_s=batch_window_s)
    limiter = SlidingWindowLimiter(rate_limit) if rate_limit is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="Conscience guard", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.batcher = batcher

    def client_of(request: Request) -> str:
        """Authenticate and return a pseudonymous client key (never the token itself)."""
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if api_key is not None and not hmac.compare_digest(token.encode(), api_key.encode()):
            raise _Refused(401, "missing or invalid bearer token (Authorization: Bearer <key>)", "authentication_error", "invalid_api_key")
        raw = f"token:{token}" if token else f"addr:{request.client.host if request.client else 'unknown'}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def check_rate(client: str) -> None:
        if limiter is None:
            return
        wait = limiter.retry_after(client, time.monotonic())
        if wait > 0:
            raise _Refused(429, f"rate limit of {limiter.limit.requests} requests per {limiter.limit.window_s:g}s exceeded",
                           "rate_limit_error", "rate_limit_exceeded", {"Retry-After": str(max(1, math.ceil(wait)))})

    async def read_body(request: Request) -> bytes:
        too_large = _Refused(413, f"request body exceeds {max_body_bytes} bytes", "invalid_request_error", "request_too_large")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            raise too_large
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > max_body_bytes:
                raise too_large
        return bytes(body)

    @app.exception_handler(_Refused)
    async def refused(request: Request, exc: _Refused) -> JSONResponse:
        return _error(exc.status, exc.message, exc.type, exc.code, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return _error(exc.status_code, str(exc.detail), type_, None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, str(exc.errors()[0].get("msg", "invalid request")), "invalid_request_error", "invalid_request")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": model_name, "upstream": batcher.responder.spec}

    @app.get("/v1/models")
    async def models(request: Request) -> dict:
        client_of(request)
        return models_object(model_name)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        client = client_of(request)
        check_rate(client)
        body = await read_body(request)
        try:
            parsed = ChatCompletionRequest.model_validate(json.loads(body))
        except json.JSONDecodeError as exc:
            return _error(400, f"body is not valid JSON: {exc.msg}", "invalid_request_error", "invalid_json")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return _error(400, f"{where}: {first['msg']}" if where else first["msg"], "invalid_request_error", "invalid_request")
        request_id = completion_id()
        conversation = parsed.conversation()
        started = time.perf_counter()

        def audited(status: int, reply=None, error: str | None = None) -> None:
            if audit is not None:
                audit.record(request_id=request_id, client=client, model=model_name, conversation=conversation, reply=reply,
                             status=status, latency_ms=(time.perf_counter() - started) * 1000, error=error)

        try:
            reply = await asyncio.wait_for(batcher.submit(conversation, parsed.params()), upstream_timeout)
        except asyncio.TimeoutError:
            audited(504, error="upstream_timeout")
            return _error(504, f"the guarded model did not answer within {upstream_timeout:g}s", "timeout_error", "upstream_timeout")
        except Exception as exc:
            log.exception("guard failed on request %s", request_id)
            audited(500, error=type(exc).__name__)
            return _error(500, f"the guard failed: {type(exc).__name__}", "server_error", "guard_error")
        audited(200, reply)
        if parsed.stream:
            include_usage = bool(parsed.stream_options and parsed.stream_options.include_usage)
            return StreamingResponse(stream_events(request_id, model_name, reply, include_usage), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        return completion_object(request_id, model_name, reply)

    return app


@contextmanager
def running_server(app: FastAPI, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 60.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields the ``/v1`` base URL (port 0 = a free one).

    For tests, benchmarks and notebooks that need a real socket in-process; the CLI runs uvicorn itself.
    """
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="conscience-guard-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"guard server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
