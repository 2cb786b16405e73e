"""Chat-model backends behind one small protocol, chosen by a ``provider:model[@base_url]`` spec.

Use :func:`load_model` to get a :class:`ChatModel` from a spec string; everything else in the project
talks to models only through that protocol.
"""

from conscience.models.protocol import ChatModel, Completion, GenerationParams, Message
from conscience.models.registry import load_model, known_aliases
from conscience.models.spec import ModelSpec, parse_spec

__all__ = ["ChatModel", "Completion", "GenerationParams", "Message", "ModelSpec", "known_aliases", "load_model", "parse_spec"]
