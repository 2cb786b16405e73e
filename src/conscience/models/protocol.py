"""The chat-model protocol: many conversations in, many replies out, with explicit generation parameters.

Batched by design, because every stage (sampling, critique, evaluation) has many independent
conversations and local models are several times faster per token in batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

Message = dict[str, str]
"""An OpenAI-style chat message: ``{"role": "system"|"user"|"assistant", "content": str}``."""


class GenerationParams(BaseModel):
    """How to generate. ``temperature == 0`` means greedy; ``seed`` makes sampling reproducible."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = Field(256, ge=1, le=32768)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int = 0
    stop: tuple[str, ...] = ()


@dataclass
class Completion:
    """One reply. ``cached`` says it came from the response cache rather than the model."""

    text: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    extra: dict = field(default_factory=dict)


@runtime_checkable
class ChatModel(Protocol):
    """What every backend provides. ``spec`` is the canonical spec string, recorded in provenance."""

    spec: str

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        """Reply to each conversation (in order). Must return exactly one completion per conversation."""
        ...
