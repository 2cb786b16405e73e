"""The constitution as a system prompt: the rules a model is asked to follow when it gets them in context.

Only the principles go in (each one's name and full text, numbered, under the title and version). The
critique and revision requests and the test prompts are the training method's tools, not rules for the
assistant, and the whole YAML is about 7,700 SmolLM2 tokens, which would nearly fill the bundled model's
8k context. The principles of the shipped Clinical Constitution v0.1 render to
about 1,050 tokens.
"""

from __future__ import annotations

from conscience.constitution.schema import Constitution

INSTRUCTION = "You are a clinical assistant. Follow these principles in every reply."


def system_prompt(constitution: Constitution) -> str:
    """The system message that gives a model ``constitution`` in context (see the module docstring)."""
    principles = "\n\n".join(f"{index}. {p.name}: {' '.join(p.text.split())}"
                             for index, p in enumerate(constitution.principles, start=1))
    return f"{INSTRUCTION}\n\n{constitution.title} (version {constitution.version})\n\n{principles}"
