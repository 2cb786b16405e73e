"""The review web app: one page per reviewer, every change saved by a small JSON POST.

Server-side the packet is the authority: every save is checked against it (item id, response label,
rubric field, allowed value) and refused with a 4xx JSON ``{"error": ...}`` otherwise, so a hand-made
request cannot put an out-of-range score or a phantom item into the results. The page gets the blinded
packet only. Everything (HTML, CSS, JS) is served from this package; the Content-Security-Policy header
allows nothing from elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from conscience.review.packet import ReviewItem, load_packet
from conscience.review.store import ReviewStore, default_db_path

HERE = Path(__file__).parent
NAME_PATTERN = re.compile(r"^[^\x00-\x1f\x7f<>]{1,60}$")
MAX_NOTE = 10_000
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class ReviewRequestError(Exception):
    """A refused request: becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=60)
    item_id: str = Field(min_length=1, max_length=200)


class ScoreIn(_Body):
    label: str = Field(min_length=1, max_length=4)
    field: str = Field(min_length=1, max_length=60)
    value: StrictInt | StrictStr | None


class NoteIn(_Body):
    text: str = Field(max_length=MAX_NOTE)


class PositionIn(_Body):
    pass


def clean_reviewer(name: str) -> str:
    """Reviewer names are shown and exported: 1-60 printable characters, no angle brackets."""
    name = " ".join(name.split())
    if not NAME_PATTERN.match(name):
        raise ReviewRequestError(422, "reviewer name must be 1-60 printable characters (no < or >)")
    return name


def create_app(packet_path: str | Path, db_path: str | Path | None = None) -> FastAPI:
    """Load and verify the packet (hash, and against the database), then build the app around it."""
    packet = load_packet(packet_path)
    store = ReviewStore(db_path if db_path is not None else default_db_path(packet_path))
    store.register(packet, packet_path)
    templates = Jinja2Templates(directory=HERE / "templates")
    app = FastAPI(title=f"Conscience review: {packet.name}", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    fields_total = sum(len(item.responses) for item in packet.items) * len(packet.rubric.fields)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(ReviewRequestError)
    async def _refused(request: Request, exc: ReviewRequestError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return JSONResponse({"error": f"invalid request: {where}: {first['msg']}"}, status_code=422)

    def start_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
        reviewers = [{**r, "percent": round(100 * r["scores"] / fields_total)} for r in store.reviewers(packet.content_hash)]
        return templates.TemplateResponse(request, "start.html", {"packet": packet, "reviewers": reviewers, "error": error},
                                          status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def start(request: Request) -> HTMLResponse:
        return start_page(request)

    @app.get("/review", response_class=HTMLResponse)
    def review(request: Request, reviewer: str = "") -> HTMLResponse:
        try:
            name = clean_reviewer(reviewer)
        except ReviewRequestError as exc:
            return start_page(request, exc.message, status=422)
        store.add_reviewer(packet.content_hash, name)
        payload = {"packet": packet.blinded(), "reviewer": name, "state": store.state(packet.content_hash, name)}
        return templates.TemplateResponse(request, "review.html", {"packet": packet, "reviewer": name, "payload": payload})

    def check(body: _Body) -> ReviewItem:
        if not store.has_reviewer(packet.content_hash, body.reviewer):
            raise ReviewRequestError(404, f"unknown reviewer {body.reviewer!r}: start from the first page")
        try:
            return packet.item(body.item_id)
        except KeyError:
            raise ReviewRequestError(404, f"unknown item id {body.item_id!r}") from None

    @app.post("/api/score")
    def score(body: ScoreIn) -> dict:
        item = check(body)
        if body.label not in {r.label for r in item.responses}:
            raise ReviewRequestError(404, f"item {item.id!r} has no response {body.label!r}")
        try:
            field = packet.rubric.field(body.field)
        except KeyError:
            raise ReviewRequestError(422, f"unknown rubric field {body.field!r}") from None
        if body.value is not None and not field.allows(body.value):
            allowed = ", ".join(str(c.value) for c in field.choices)
            raise ReviewRequestError(422, f"value {body.value!r} is out of range for {field.id!r} (allowed: {allowed})")
        store.set_score(packet.content_hash, body.reviewer, item.id, body.label, field.id, body.value)
        return {"ok": True}

    @app.post("/api/note")
    def note(body: NoteIn) -> dict:
        check(body)
        store.set_note(packet.content_hash, body.reviewer, body.item_id, body.text)
        return {"ok": True}

    @app.post("/api/position")
    def position(body: PositionIn) -> dict:
        check(body)
        store.set_position(packet.content_hash, body.reviewer, body.item_id)
        return {"ok": True}

    return app

