"""Principle-level differences between two constitutions: added, removed, and changed fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from conscience.constitution.schema import Constitution

COMPARED_FIELDS = ("name", "text", "critique_request", "revision_request")


@dataclass
class PrincipleChange:
    id: str
    fields: list[str] = field(default_factory=list)
    prompts_added: list[str] = field(default_factory=list)
    prompts_removed: list[str] = field(default_factory=list)
    prompts_changed: list[str] = field(default_factory=list)


@dataclass
class ConstitutionDiff:
    old_version: str
    new_version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[PrincipleChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_constitutions(old: Constitution, new: Constitution) -> ConstitutionDiff:
    result = ConstitutionDiff(old.version, new.version)
    old_by_id = {p.id: p for p in old.principles}
    new_by_id = {p.id: p for p in new.principles}
    result.added = [pid for pid in new_by_id if pid not in old_by_id]
    result.removed = [pid for pid in old_by_id if pid not in new_by_id]
    for pid, new_p in new_by_id.items():
        old_p = old_by_id.get(pid)
        if old_p is None:
            continue
        change = PrincipleChange(pid, fields=[f for f in COMPARED_FIELDS if getattr(old_p, f) != getattr(new_p, f)])
        old_prompts = {t.id: t for t in old_p.test_prompts}
        new_prompts = {t.id: t for t in new_p.test_prompts}
        change.prompts_added = [t for t in new_prompts if t not in old_prompts]
        change.prompts_removed = [t for t in old_prompts if t not in new_prompts]
        change.prompts_changed = [t for t in new_prompts if t in old_prompts and new_prompts[t] != old_prompts[t]]
        if change.fields or change.prompts_added or change.prompts_removed or change.prompts_changed:
            result.changed.append(change)
    return result
