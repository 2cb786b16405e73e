"""The critique schema, the teacher prompts built from the constitution's own wording, and parsing.

A critique covers EVERY principle: per principle ``at_issue``, ``severity`` and ``why``, plus an overall
verdict. Model output is parsed strictly first; only after retries fail is it repaired, and repairs are
limited to changes that cannot alter a judgement (pull the JSON object out of surrounding prose or code
fences, accept a list instead of a mapping, derive the verdict from the per-principle findings, an empty
``why`` for a principle not at issue). A missing principle is never filled in: that would turn "not
read" into "fine".
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from conscience.constitution import Constitution
from conscience.models import Message

SEVERITIES = ("none", "low", "medium", "high")
SYSTEM = "You are a careful clinical-safety reviewer. You apply a written constitution to an AI assistant's replies."
JSON_SHAPE = (
    '{"principles": {"<principle id>": {"at_issue": true or false, "severity": "none" | "low" | "medium" | "high", '
    '"why": "<one or two sentences>"}, ...}, "verdict": "needs_revision" | "acceptable", "summary": "<one sentence>"}'
)


class Finding(BaseModel):
    """The critique of one principle. ``severity`` accepts 0-3 or none/low/medium/high and is stored as a word."""

    model_config = ConfigDict(extra="forbid")

    at_issue: bool
    severity: Literal["none", "low", "medium", "high"]
    why: str

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_word(cls, value: object) -> object:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and 0 <= value <= 3:
            return SEVERITIES[value]
        if isinstance(value, str):
            text = value.strip().lower()
            return SEVERITIES[int(text)] if text in ("0", "1", "2", "3") else text
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Finding":
        if self.at_issue and self.severity == "none":
            raise ValueError("at_issue is true but severity is none")
        if not self.at_issue and self.severity != "none":
            raise ValueError(f"at_issue is false but severity is {self.severity}")
        return self


class Critique(BaseModel):
    model_config = ConfigDict(extra="forbid")

    principles: dict[str, Finding]
    verdict: Literal["needs_revision", "acceptable"]
    summary: str = ""

    @property
    def at_issue(self) -> list[str]:
        return [pid for pid, finding in self.principles.items() if finding.at_issue]


class CritiqueError(ValueError):
    """The teacher's output is not a usable critique; the message says why (fed back on retry)."""


def validate(data: object, principle_ids: list[str]) -> Critique:
    """Check ``data`` against the schema and the constitution: every principle, and no others."""
    if not isinstance(data, dict):
        raise CritiqueError("the reply must be one JSON object")
    try:
        critique = Critique.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CritiqueError(f"{where}: {first['msg']}" if where else first["msg"]) from None
    missing = [pid for pid in principle_ids if pid not in critique.principles]
    unknown = [pid for pid in critique.principles if pid not in principle_ids]
    if missing or unknown:
        parts = ([f"missing principles: {', '.join(missing)}"] if missing else []) + (
            [f"unknown principle ids: {', '.join(unknown)}"] if unknown else [])
        raise CritiqueError("; ".join(parts))
    critique.principles = {pid: critique.principles[pid] for pid in principle_ids}
    return critique


def parse_strict(text: str, principle_ids: list[str]) -> Critique:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CritiqueError(f"not valid JSON ({exc.msg})") from None
    return validate(data, principle_ids)


def _first_json_object(text: str) -> dict | None:
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def repair(text: str, principle_ids: list[str]) -> tuple[Critique, list[str]]:
    """Apply only judgement-preserving repairs; returns the critique and the repairs made, or raises."""
    repairs = []
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = _first_json_object(text)
        if data is None:
            raise CritiqueError("no JSON object found") from None
        repairs.append("extracted the JSON object from surrounding text")
    if not isinstance(data, dict):
        raise CritiqueError("the reply must be one JSON object")
    findings = data.get("principles")
    if isinstance(findings, list) and all(isinstance(f, dict) for f in findings):
        keyed = {}
        for finding in findings:
            pid = finding.get("principle", finding.get("id"))
            if not isinstance(pid, str) or pid in keyed:
                raise CritiqueError("a list of findings needs one 'principle' id per entry")
            keyed[pid] = {k: v for k, v in finding.items() if k not in ("principle", "id")}
        data["principles"] = findings = keyed
        repairs.append("principles list converted to a mapping")
    if isinstance(findings, dict):
        for finding in findings.values():
            if isinstance(finding, dict) and finding.get("at_issue") is False and "why" not in finding:
                finding["why"] = ""
                repairs.append("empty 'why' for a principle not at issue")
        if "verdict" not in data and all(isinstance(f, dict) and isinstance(f.get("at_issue"), bool) for f in findings.values()):
            data["verdict"] = "needs_revision" if any(f["at_issue"] for f in findings.values()) else "acceptable"
            repairs.append("verdict derived from the findings")
    return validate(data, principle_ids), repairs


def transcript(conversation: list[Message]) -> str:
    return "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in conversation)


def critique_messages(constitution: Constitution, conversation: list[Message], response: str) -> list[Message]:
    """Ask for a critique of ``response`` against every principle, using each principle's critique_request."""
    principles = "\n".join(f"- {p.id} ({p.name}): {' '.join(p.critique_request.split())}" for p in constitution.principles)
    body = (
        "Below is a conversation between a user and an AI assistant, then the assistant's last response.\n\n"
        f"<conversation>\n{transcript(conversation)}\n</conversation>\n\n"
        f"<last_response>\n{response}\n</last_response>\n\n"
        f"Critique the last response against EVERY principle of the {constitution.title} below "
        "(id, name, and the critique request to apply):\n"
        f"{principles}\n\n"
        "Reply with one JSON object and nothing else, with an entry for every principle id above:\n"
        f"{JSON_SHAPE}"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}]


def retry_messages(previous: list[Message], reply: str, error: str) -> list[Message]:
    """The same request, with the unusable reply and what was wrong with it (a new conversation, so a
    cached or deterministic teacher does not just repeat itself)."""
    return previous + [
        {"role": "assistant", "content": reply},
        {"role": "user", "content": f"That reply could not be used: {error}. Reply again with only the JSON object, "
                                    "with an entry for every principle id."},
    ]


def revision_messages(constitution: Constitution, conversation: list[Message], response: str, critique: Critique,
                      principle_ids: list[str]) -> list[Message]:
    """Ask for a rewrite addressing the critique, using the revision_request of each principle in ``principle_ids``."""
    findings = "\n".join(
        f"- {pid} (severity {f.severity}): {f.why}" for pid, f in critique.principles.items() if f.at_issue
    ) or "- No principle was found at issue; improve the response where the requests below apply."
    requests = "\n".join(
        f"- {constitution.principle(pid).name}: {' '.join(constitution.principle(pid).revision_request.split())}"
        for pid in principle_ids
    )
    body = (
        "Below is a conversation between a user and an AI assistant, the assistant's last response, and a critique of "
        "it against a clinical constitution.\n\n"
        f"<conversation>\n{transcript(conversation)}\n</conversation>\n\n"
        f"<last_response>\n{response}\n</last_response>\n\n"
        f"<critique>\n{findings}\n</critique>\n\n"
        f"Revision requests:\n{requests}\n\n"
        "Rewrite the assistant's last response so that it addresses the critique and follows the revision requests. "
        "Reply with only the rewritten response, exactly as the assistant would say it to the user: no preamble, "
        "no notes."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}]
