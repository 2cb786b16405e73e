"""The one prompt builder for every scoring method, and the letter extractor for generated answers.

``mc_context`` and ``letter_continuations`` reproduce lm-evaluation-harness's ``medqa_4options`` task
(lm_eval 0.4.13, ``lm_eval/tasks/medqa/``): ``doc_to_text`` lists the options as ``"A. text\\n"`` after
``"Question: …\\n"`` and ends with ``"Answer:"``; ``doc_to_choice`` is the bare letters and the default
``target_delimiter`` ``" "`` is prepended, so the continuations are ``" A"``, ``" B"``…  Five-option
questions simply get an ``E`` line, the natural extension of the same template.
"""

from __future__ import annotations

import re

from conscience.evaluate.utility.questions import MCQuestion
from conscience.models.protocol import Message

TARGET_DELIMITER = " "

GENERATE_SYSTEM = "You are a careful physician answering a medical licensing exam question."
GENERATE_INSTRUCTION = (
    "Answer the multiple-choice question below. Reply with the letter of the single best option "
    "on the first line, as 'Answer: X'."
)


def with_system_prompt(context: str, system_prompt: str | None) -> str:
    """A plain-text prompt (loglik, cloze) has no system role, so a system prompt is put before it as text,
    separated by a blank line; without one the prompt stays lm-eval's exactly."""
    return f"{system_prompt}\n\n{context}" if system_prompt else context


def mc_context(q: MCQuestion) -> str:
    """lm-eval's ``doc_to_text`` for medqa_4options (options listed, ends with ``Answer:``)."""
    answers = "".join(f"{letter}. {text}\n" for letter, text in q.options.items())
    return f"Question: {q.question}\n{answers}Answer:"


def letter_continuations(q: MCQuestion) -> list[str]:
    """``target_delimiter + choice`` for each letter: ``[" A", " B", …]``."""
    return [TARGET_DELIMITER + letter for letter in q.letters]


def cloze_context(q: MCQuestion) -> str:
    """Cloze prompt: the stem without the options, so each option text is scored as the answer itself."""
    return f"Question: {q.question}\nAnswer:"


def cloze_continuations(q: MCQuestion) -> list[str]:
    return [TARGET_DELIMITER + text for text in q.options.values()]


def generate_conversation(q: MCQuestion, system_prompt: str | None = None) -> list[Message]:
    """The fixed 0-shot chat prompt. It carries an explicit system line so chat templates that would insert
    their own default system message (SmolLM2 does) are overridden the same way for every model. A
    ``system_prompt`` comes first in that system message, the exam line after it."""
    options = "".join(f"{letter}. {text}\n" for letter, text in q.options.items())
    user = f"{GENERATE_INSTRUCTION}\n\nQuestion: {q.question}\n{options}"
    system = f"{system_prompt}\n\n{GENERATE_SYSTEM}" if system_prompt else GENERATE_SYSTEM
    return [{"role": "system", "content": system}, {"role": "user", "content": user.rstrip()}]


def extract_letter(reply: str, q: MCQuestion) -> str | None:
    """The option letter a free-text reply commits to, or None when it does not commit to exactly one.

    Tried in order, first hit wins: an explicit "answer is/Answer: X"; a reply that starts with the letter
    ("B", "B.", "(B)", "B) text"); the only standalone letter mentioned; the only option text quoted in full.
    Returning None (counted as wrong and reported as unparseable) is deliberate: guessing a letter from a
    rambling reply would credit the model with an answer it never gave.
    """
    letters = "".join(q.letters)
    text = reply.strip()
    explicit = re.findall(rf"(?i:\banswer)(?:\s+is)?[\s:*\-(]*([{letters}])\b", text)
    if explicit and len(set(explicit)) == 1:
        return explicit[0]
    leading = re.match(rf"^\W*([{letters}])(?:[).:\]]|$|\s(?![a-z0-9]))", text)
    if leading:
        return leading.group(1)
    standalone = {
        m.group(1)
        for m in re.finditer(rf"(?<![\w'’])\(?([{letters}])\)?(?![\w'’])", text)
        # The article "A" ("A patient with…") is not a choice.
        if not (m.group(1) == "A" and re.match(r"\s+[a-z]", text[m.end() :]))
    }
    if len(standalone) == 1:
        return standalone.pop()
    quoted = [letter for letter, option in q.options.items() if option.strip().lower() in text.lower()]
    if len(quoted) == 1:
        return quoted[0]
    return None
