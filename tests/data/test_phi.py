"""The PHI scrubber: identifiers go, clinical numbers stay."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from conscience.data import scrub

CLINICAL = [
    "Take 500 mg every 6 hours, no more than 4 g/day.",
    "Call or text 988 now, or your local emergency number (999, 112, 911).",
    "Poison control (1-800-222-1222) or SAMHSA 1-800-662-4357; UK freephone 0800 58 58 58.",
    "BP 120/80, INR 2.5, eGFR 45, HbA1c 7.5%, potassium 5.9 mmol/L.",
    "1-2 tablets every 4-6 hours for 3-4 days; 10,000 units of heparin; 0.5 mg/kg.",
    "St John's wort with sertraline 100mg; vitamin B12 1000 mcg; seen by Dr Smith.",
    "Between 2019-03-04 and 2020-01-01 she was born in 1961 and is 63.",
]


@pytest.mark.parametrize("text", CLINICAL)
def test_clinical_numbers_survive(text):
    result = scrub(text)
    assert result.text == text and result.counts == {}


@pytest.mark.parametrize("text, kind, identifier", [
    ("email me at jane.doe@example.com please", "email", "jane.doe@example.com"),
    ("call me on (555) 123-4567 tonight", "phone", "(555) 123-4567"),
    ("my mobile is +44 7700 900123", "phone", "+44 7700 900123"),
    ("ring 07700 900123", "phone", "07700 900123"),
    ("MRN: 12345678", "mrn", "12345678"),
    ("my medical record number is A1234567", "mrn", "A1234567"),
    ("DOB 04/12/1961", "date_of_birth", "04/12/1961"),
    ("date of birth: March 3, 1985", "date_of_birth", "March 3, 1985"),
    ("SSN 123-45-6789", "ssn", "123-45-6789"),
    ("my social security number is 123456789", "ssn", "123456789"),
    ("NHS number 943 476 5919", "nhs_number", "943 476 5919"),
    ("I live at 221B Baker Street, London", "street_address", "221B Baker Street"),
])
def test_identifiers_are_redacted_and_labels_kept(text, kind, identifier):
    result = scrub(text)
    assert result.counts == {kind: 1}
    assert identifier not in result.text
    assert result.text == text.replace(identifier, f"[REDACTED_{kind.upper()}]")


def test_no_project_text_is_redacted():
    """The project's own prompts and reference replies are full of doses and helplines: none may change."""
    folder = resources.files("conscience.generate.sources") / "data"
    changed = []
    for name in ("medqa_style", "open_ended", "curated"):
        for line in (folder / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for text in (row["prompt"], row["reference_response"]):
                if scrub(text).counts:
                    changed.append(row["id"])
    assert changed == []
