"""A conservative PHI scrubber for prompts and responses, run before anything is written to disk.

Why conservative: clinical text is full of numbers that must survive (doses such as "500 mg" or
"4 g/day", blood pressures, lab values, crisis lines such as 988 or 1-800-222-1222). So each pattern
needs either a shape that clinical numbers never have (an e-mail, a 3-2-4 SSN, a phone number with 10+
digits) or a label in front ("MRN", "DOB", "NHS number"). Toll-free numbers (1-800…, 0800…) are public
helplines, not a person's identifier, and are kept. Only the identifier is replaced, the label stays,
so a reader still sees what kind of thing was there: ``MRN: [REDACTED_MRN]``.

This is a safety net for training data, not a de-identification guarantee: names and free-text
identifiers are not detected. The run summary reports what was redacted so a person can check.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_IS = r"[\s:#]*(?:(?:is|was)\s+)?"  # "MRN: 123", "my MRN is 123"
_DATE = (
    r"(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}"  # 04/12/1961, 1961-12-04, 4.12.61
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 3, 1985
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{4}})"  # 3 March 1985
)
# "Dr" is left out on purpose: "12 Dr Smith" is far likelier in clinical text than "12 Elm Dr".
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent"
    r"|Square|Sq|Parkway|Pkwy|Highway|Hwy|Gardens|Grove|Mews|Row)"
)
_UNITS = r"(?:mg|g|mcg|ug|ml|mL|l|L|units?|iu|IU|kg|%|mmol|mmHg|tablets?|doses?)"
_TOLL_FREE = ("1800", "1888", "1877", "1866", "1855", "1844", "1833", "0800", "0808")


def _is_phone(value: str) -> bool:
    """Digit groups are a personal phone number only with 10-15 digits (7+ after a + or an (area) code),
    and never a toll-free helpline."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits.startswith(_TOLL_FREE):
        return False
    if value.startswith(("+", "(")):
        return 7 <= len(digits) <= 15
    return 10 <= len(digits) <= 15


@dataclass(frozen=True)
class _Rule:
    """One identifier shape. The named group ``id`` is what gets replaced; the rest (a label) is kept."""

    kind: str
    pattern: re.Pattern[str]
    accept: Callable[[str], bool] | None = None


_RULES = (
    _Rule("email", re.compile(r"(?P<id>\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b)")),
    _Rule("ssn", re.compile(r"\b(?:SSN|social security(?: number| no\.?| #)?)" + _IS + r"(?P<id>\d{3}[- ]?\d{2}[- ]?\d{4})\b", re.I)),
    _Rule("ssn", re.compile(r"(?P<id>\b\d{3}-\d{2}-\d{4}\b)")),
    _Rule("nhs_number", re.compile(r"\bNHS(?: number| no\.?| #)?" + _IS + r"(?P<id>\d{3}[ -]?\d{3}[ -]?\d{4})\b", re.I)),
    _Rule("mrn", re.compile(
        r"\b(?:MRN|medical record(?: number| no\.?| #)?|hospital (?:number|no\.?)|patient (?:id|number|no\.?)|chart (?:number|no\.?))"
        + _IS + r"(?P<id>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,})\b", re.I)),
    _Rule("date_of_birth", re.compile(rf"\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date|born(?: on)?)" + _IS + rf"(?P<id>{_DATE})", re.I)),
    _Rule("phone", re.compile(r"\b(?:phone|tel|telephone|mobile|cell)(?: number| no\.?)?" + _IS + r"(?P<id>\+?\d[\d\s.-]{5,}\d)\b", re.I),
          accept=lambda v: not "".join(c for c in v if c.isdigit()).startswith(_TOLL_FREE)),
    _Rule("phone", re.compile(
        r"(?<![\w/.-])(?P<id>(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{1,6}(?:[\s.-]\d{1,6}){1,4})"
        rf"(?![\w/.]|\s?{_UNITS}\b)"), accept=_is_phone),
    _Rule("street_address", re.compile(
        rf"(?P<id>\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){{1,3}}{_STREET_SUFFIX}\b\.?"
        r"|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b)")),  # or a UK postcode (SW1A 1AA)
)

KINDS = tuple(dict.fromkeys(rule.kind for rule in _RULES))


@dataclass
class Scrubbed:
    """The scrubbed text and how many identifiers of each kind were replaced."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


def scrub(text: str) -> Scrubbed:
    """Replace e-mails, phone numbers, MRNs, dates of birth, SSN/NHS numbers and street addresses."""
    counts: Counter[str] = Counter()
    for rule in _RULES:

        def replace(match: re.Match[str], rule: _Rule = rule) -> str:
            if rule.accept is not None and not rule.accept(match.group("id")):
                return match.group(0)
            counts[rule.kind] += 1
            offset = match.start()
            start, end = match.span("id")
            whole = match.group(0)
            return whole[: start - offset] + f"[REDACTED_{rule.kind.upper()}]" + whole[end - offset :]

        text = rule.pattern.sub(replace, text)
    return Scrubbed(text=text, counts=dict(counts))


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Sum two redaction tallies."""
    out = dict(total)
    for kind, n in more.items():
        out[kind] = out.get(kind, 0) + n
    return out
