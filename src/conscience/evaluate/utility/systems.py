"""Tag questions by body system (keywords) and draw fixed-seed subsets stratified by system and USMLE step.

Why keywords rather than embeddings: the tag only has to spread a subset evenly across medicine, it must be
identical on every machine and instant, and a reader can check why a question got its tag. Each system has
a list of lower-case word stems; a question's text (stem and options) is matched on word starts, the system
with the most hits wins, ties go to the system listed first, and a question with no hit is ``other``
(biostatistics, ethics and pharmacology stems often land there). Vital-sign and lab-panel words
(respirations, creatinine, glucose, hemoglobin…) are deliberately not keywords: most vignettes list them.
The tag is a sampling aid, not a clinical classification.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from pathlib import Path

from conscience.errors import ConscienceError
from conscience.evaluate.utility.questions import MCQuestion

SYSTEM_KEYWORDS: dict[str, tuple[str, ...]] = {
    "cardiovascular": (
        "heart", "cardi", "coronar", "myocard", "aort", "valv", "murmur", "arrhythm", "atrial", "ventric",
        "hypertens", "angina", "endocard", "pericard", "vascul", "arter", "venous", "thromb", "embol", "ecg",
    ),
    "respiratory": (
        "lung", "pulmon", "pneumon", "asthma", "bronch", "copd", "pleur", "dyspnea", "cough", "alveol", "trache", "wheez", "sputum", "spirometr",
    ),
    "gastrointestinal": (
        "liver", "hepat", "bowel", "colon", "gastr", "stomach", "pancrea", "esophag", "duoden", "biliar",
        "gallbladder", "cirrho", "jaundice", "diarrhea", "abdomin", "crohn", "colitis", "rectal", "vomit",
    ),
    "renal_urinary": (
        "kidney", "renal", "nephr", "urin", "bladder", "glomerul", "dialysis", "ureter",
        "prostat", "hematuria", "proteinuria",
    ),
    "reproductive_obstetric": (
        "pregnan", "gestation", "obstet", "uter", "ovar", "menstru", "cervi", "placent", "fetal", "fetus",
        "breast", "testic", "vagin", "labor", "contracept", "postpartum", "infertil",
    ),
    "endocrine_metabolic": (
        "thyroid", "diabet", "insulin", "adrenal", "pituitar", "cortisol", "parathyroid",
        "hormone", "metabol", "obes", "hypoglyc", "hyperglyc", "goiter",
    ),
    "nervous_system": (
        "brain", "neuro", "seizure", "stroke", "cerebr", "spinal", "nerve", "headache", "dementia", "mening",
        "parkinson", "paresthes", "ataxia", "aphasia", "neuropath",
    ),
    "psychiatry_behavioral": (
        "depress", "anxiety", "psych", "schizo", "bipolar", "suicid", "mood", "hallucinat", "substance",
        "alcohol", "delusion", "behavio", "insomnia", "panic",
    ),
    "musculoskeletal_skin": (
        "bone", "joint", "fractur", "arthrit", "muscle", "tendon", "skin", "rash", "derma", "lesion",
        "osteo", "gout", "lupus", "spine", "knee", "shoulder", "hip",
    ),
    "blood_immune_infection": (
        "anemi", "thrombocytopen", "leukemi", "lymphom", "bleed", "coagul", "immun", "infect", "viral",
        "bacteri", "fever", "sepsis", "hiv", "antibod", "vaccin", "fung", "tubercul", "neutroph",
    ),
}
OTHER = "other"
_PATTERNS = {system: re.compile(r"\b(?:" + "|".join(stems) + r")", re.IGNORECASE) for system, stems in SYSTEM_KEYWORDS.items()}


def body_system(q: MCQuestion) -> str:
    """The body-system tag of a question (see the module docstring for the rule)."""
    text = q.question + "\n" + "\n".join(q.options.values())
    counts = {system: len(pattern.findall(text)) for system, pattern in _PATTERNS.items()}
    best = max(counts.values())
    if best == 0:
        return OTHER
    return next(system for system, count in counts.items() if count == best)


def step_of(q: MCQuestion) -> str:
    return q.meta_info or "unknown"


def stratified_subset(questions: list[MCQuestion], size: int, seed: int = 0) -> list[str]:
    """Ids of a fixed-seed subset of ``size`` questions, stratified by (body system, step).

    Each stratum gets its proportional share (largest-remainder rounding, ties broken by stratum name),
    then that many questions drawn with ``random.Random(seed)`` from its ids in file order. The result is in
    file order, so the same file, size and seed always give the same ids.
    """
    if size <= 0:
        raise ConscienceError(f"subset size must be positive, got {size}", field="subset")
    if size >= len(questions):
        return [q.id for q in questions]
    strata: dict[tuple[str, str], list[str]] = defaultdict(list)
    for q in questions:
        strata[(body_system(q), step_of(q))].append(q.id)
    keys = sorted(strata)
    exact = {key: size * len(strata[key]) / len(questions) for key in keys}
    quota = {key: int(exact[key]) for key in keys}
    by_remainder = sorted(keys, key=lambda key: (-(exact[key] - quota[key]), key))
    for key in by_remainder[: size - sum(quota.values())]:
        quota[key] += 1
    rng = random.Random(seed)
    chosen = set()
    for key in keys:
        chosen.update(rng.sample(strata[key], quota[key]))
    return [q.id for q in questions if q.id in chosen]


def write_ids(path: Path, ids: list[str]) -> None:
    """One id per line, so a subset drawn for one model is reused verbatim for the next (``--ids``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")


def read_ids(path: Path, known: set[str]) -> list[str]:
    """Ids from an ids file; an id not in the question file fails naming its line."""
    if not path.exists():
        raise ConscienceError("ids file not found", where=path)
    ids: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        qid = raw.strip()
        if not qid:
            continue
        if qid not in known:
            raise ConscienceError(f"id {qid!r} is not in the question file", where=path, line=number, field="id")
        ids.append(qid)
    if not ids:
        raise ConscienceError("ids file lists no ids", where=path)
    return ids
