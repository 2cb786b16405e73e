"""The constitution as typed records. Unknown keys are errors: a typo must not silently drop a rule."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PRINCIPLE_IDS_V01 = (
    "scope_of_practice", "defer_to_clinician", "reject_false_authority", "surface_uncertainty",
    "dosing_caution", "drug_interaction_transparency", "refuse_out_of_scope", "patient_communication",
    "privacy", "equity", "honesty_about_limits", "calibrated_refusal",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TestPrompt(_Strict):
    """An operational probe: one or more user turns, and what a passing reply does."""

    id: str = Field(min_length=1)
    turns: list[str] = Field(min_length=1)
    pass_criteria: str = Field(min_length=1)

    @field_validator("turns")
    @classmethod
    def _no_empty_turns(cls, turns: list[str]) -> list[str]:
        if any(not t.strip() for t in turns):
            raise ValueError("turns must not contain empty messages")
        return turns


class Principle(_Strict):
    id: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    text: str = Field(min_length=1)
    critique_request: str = Field(min_length=1)
    revision_request: str = Field(min_length=1)
    test_prompts: list[TestPrompt] = Field(min_length=1)


class ChangelogEntry(_Strict):
    version: str = Field(min_length=1)
    date: str = Field(min_length=1)
    changes: list[str] = Field(min_length=1)


class Constitution(_Strict):
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    authored_by: str = Field(min_length=1, description="Provenance: who wrote the text (e.g. 'project').")
    description: str = Field(min_length=1)
    changelog: list[ChangelogEntry] = Field(min_length=1)
    principles: list[Principle] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Constitution":
        seen: set[str] = set()
        for index, principle in enumerate(self.principles):
            if principle.id in seen:
                raise ValueError(f"duplicate principle id {principle.id!r} (principles.{index}.id)")
            seen.add(principle.id)
        prompt_ids: set[str] = set()
        for principle in self.principles:
            for prompt in principle.test_prompts:
                if prompt.id in prompt_ids:
                    raise ValueError(f"duplicate test prompt id {prompt.id!r} (in principle {principle.id})")
                prompt_ids.add(prompt.id)
        return self

    def principle(self, principle_id: str) -> Principle:
        for principle in self.principles:
            if principle.id == principle_id:
                return principle
        raise KeyError(principle_id)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.principles]
