"""The OpenAI chat-completions wire format: the request we accept and the objects we return.

Pure functions over typed records, kept apart from the HTTP plumbing so the format is testable alone.
Only what a guard can honour is accepted: ``n`` must be 1, tools and logprobs are refused with a clear
400 rather than silently ignored. Unknown fields that do not change the reply (``user``, ``metadata``…)
are ignored, as OpenAI-compatible servers commonly do.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from conscience.guard.records import GuardedReply
from conscience.models.protocol import GenerationParams, Message

DEFAULT_MAX_TOKENS = 256


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart]

    def to_message(self) -> Message:
        text = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)
        return {"role": "system" if self.role == "developer" else self.role, "content": text}


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The subset of the OpenAI request the guard honours; greedy decoding unless ``temperature`` is given."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=32768)
    max_completion_tokens: int | None = Field(None, ge=1, le=32768)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: Literal[1] = 1
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: None = None
    logprobs: Literal[False] | None = None

    @field_validator("messages")
    @classmethod
    def _last_is_user(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if messages[-1].role != "user":
            raise ValueError("the last message must come from the user")
        return messages

    def conversation(self) -> list[Message]:
        return [m.to_message() for m in self.messages]

    def params(self) -> GenerationParams:
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        return GenerationParams(max_new_tokens=self.max_completion_tokens or self.max_tokens or DEFAULT_MAX_TOKENS,
                                temperature=self.temperature, top_p=self.top_p, seed=self.seed or 0, stop=stop)


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict:
    """OpenAI's error shape; clients read ``error.message`` and raise by status code."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def extension(reply: GuardedReply) -> dict:
    """The ``conscience`` extension field: what the guard did and which principles were at issue."""
    data = reply.oversight.model_dump(mode="json")
    data["principles_at_issue"] = reply.oversight.principles_at_issue
    return data


def usage(reply: GuardedReply) -> dict:
    return {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens}


def completion_object(request_id: str, model: str, reply: GuardedReply) -> dict:
    return {
        "id": request_id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                     "finish_reason": reply.finish_reason, "logprobs": None}],
        "usage": usage(reply), "conscience": extension(reply),
    }


def stream_events(request_id: str, model: str, reply: GuardedReply, include_usage: bool) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format. The guard decides on the whole reply before the first
    byte (a critique needs the full draft), so this streams the final, already-guarded text in word pieces;
    the oversight record rides on the last content chunk."""
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **more) -> str:
        body = {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in re.findall(r"\s*\S+|\s+$", reply.text):
        yield chunk({"content": piece})
    yield chunk({}, reply.finish_reason, conscience=extension(reply))
    if include_usage:
        body = {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [], "usage": usage(reply)}
        yield f"data: {json.dumps(body)}\n\n"
    yield "data: [DONE]\n\n"


def models_object(model: str) -> dict:
    return {"object": "list", "data": [{"id": model, "object": "model", "created": 0, "owned_by": "conscience"}]}
