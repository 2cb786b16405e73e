"""The one training config: common keys plus one section per method, loaded from YAML profiles.

A profile file (``paper.yaml``, ``cpu-demo.yaml``) is the method table: it may carry sections for all four
methods and leave ``method`` unset. Resolving it for one method keeps only that method's section, so the
``config.yaml`` written next to an adapter says exactly what was trained and can be used as a profile again.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from conscience.configfile import parse_yaml, validate
from conscience.errors import ConscienceError

Method = Literal["sft", "dpo", "ipo", "kto", "simpo"]
METHODS: tuple[str, ...] = ("sft", "dpo", "ipo", "kto", "simpo")


class _KeyProblem(ValueError):
    """A cross-field problem that knows which key to blame (pydantic reports model-level errors without one)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraSection(_Strict):
    """PEFT LoRA: ``r`` rank, ``alpha`` scaling, ``dropout``, ``target_modules`` ("all-linear" or module names)."""

    r: int = Field(32, ge=1)
    alpha: int = Field(64, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: str | list[str] = "all-linear"


class SFTSection(_Strict):
    """Supervised learning on the revisions (SL-CAI, Bai et al. 2022 §3): prompt → chosen reply.

    ``completion_only_loss`` puts the loss on the reply's tokens only (TRL's prompt/completion format), so the
    model learns to answer, not to write prompts. ``learning_rate`` overrides the profile's rate for this
    method: supervised fine-tuning of LoRA usually takes a higher rate than preference optimisation.
    """

    completion_only_loss: bool = True
    learning_rate: float | None = Field(None, gt=0)


class DPOSection(_Strict):
    """DPO (Rafailov et al. 2023): ``beta`` is the KL strength; ``loss_type`` the DPO-family loss.

    ``sft_weight`` > 0 adds TRL's ``sft`` loss (the NLL of the chosen reply) with that weight: the RPO
    objective (Pang et al. 2024). Pure DPO can raise the chosen-vs-rejected margin while lowering the
    chosen reply's own likelihood, which leaves greedy generations where they were; the NLL term pulls them
    toward the revisions. 0 is the paper's pure DPO.
    """

    beta: float = Field(0.1, gt=0)
    loss_type: Literal["sigmoid", "hinge"] = "sigmoid"
    sft_weight: float = Field(0.0, ge=0)


class IPOSection(_Strict):
    """IPO (Azar et al. 2023): ``beta`` is IPO's tau (the regularisation strength)."""

    beta: float = Field(0.1, gt=0)


class KTOSection(_Strict):
    """KTO (Ethayarajh et al. 2024) on the unpaired pairs: weights for desirable (chosen) and undesirable rows."""

    beta: float = Field(0.1, gt=0)
    desirable_weight: float = Field(1.0, gt=0)
    undesirable_weight: float = Field(1.0, gt=0)


class SimPOSection(_Strict):
    """SimPO (Meng et al. 2024), reference-free: ``beta`` reward scale (paper uses 2-10), ``gamma`` target margin."""

    beta: float = Field(2.0, gt=0)
    gamma: float = Field(0.5, ge=0)


MethodSection = SFTSection | DPOSection | IPOSection | KTOSection | SimPOSection
SECTIONS: dict[str, type[MethodSection]] = {"sft": SFTSection, "dpo": DPOSection, "ipo": IPOSection, "kto": KTOSection,
                                            "simpo": SimPOSection}


class TrainConfig(_Strict):
    """Everything that decides a training run except the data and the base model.

    Fields: ``name``/``description`` label the profile. ``method`` is unset in a profile that serves all methods.
    ``dtype`` is how weights are loaded; ``bf16`` turns on bf16 mixed precision (CPU autocast when there is no
    GPU): ``auto`` (the default) resolves at the start of a run to true only where the hardware computes bf16
    natively (see ``conscience.precision``), since emulated CPU bf16 is many times slower than fp32. ``learning_rate``, ``lr_scheduler``, ``warmup_ratio`` (share of total steps), ``weight_decay``
    drive AdamW. ``epochs`` or ``max_steps`` bound training. ``batch_size`` is per device (KTO needs > 1);
    ``gradient_accumulation_steps`` multiplies it. ``max_length`` caps prompt + completion tokens.
    ``group_by_length`` batches rows of similar token length (less padding; order still seeded-random);
    KTO ignores it, as its KL estimate needs TRL's sequential order.
    ``activation_checkpointing`` trades compute for memory. Every ``eval_steps`` the validation split is
    scored; with ``early_stopping_patience`` set, training stops after that many evals without a better
    eval loss and the best checkpoint is kept. ``save_steps`` (default ``eval_steps``) sets checkpoint spacing.
    Without a validation split, ``validation_max_pairs`` or ``validation_fraction`` of the pairs (the
    smaller) are held out with ``seed``.
    """

    name: str = ""
    description: str = ""
    method: Method | None = None
    dtype: Literal["float32", "bfloat16"] = "float32"
    bf16: Literal["auto"] | bool = "auto"
    learning_rate: float = Field(5e-7, gt=0)
    lr_scheduler: Literal["cosine", "linear", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1)
    batch_size: int = Field(4, ge=1)
    eval_batch_size: int | None = Field(None, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=16)
    group_by_length: bool = False
    activation_checkpointing: bool = False
    eval_steps: int = Field(50, ge=1)
    early_stopping_patience: int | None = Field(3, ge=1)
    save_steps: int | None = Field(None, ge=1)
    save_total_limit: int = Field(2, ge=1)
    logging_steps: int = Field(10, ge=1)
    validation_max_pairs: int = Field(500, ge=1)
    validation_fraction: float = Field(0.1, gt=0, lt=1)
    seed: int = 0
    lora: LoraSection = LoraSection()
    sft: SFTSection | None = None
    dpo: DPOSection | None = None
    ipo: IPOSection | None = None
    kto: KTOSection | None = None
    simpo: SimPOSection | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.method is not None:
            for other in METHODS:
                if other != self.method and getattr(self, other) is not None:
                    raise _KeyProblem(other, f"section {other!r} is for method {other}, but this config trains {self.method}")
        if self.method == "kto" and self.batch_size < 2:
            raise _KeyProblem("batch_size", "KTO needs batch_size > 1 (its KL term pairs each row with another in the batch)")
        if self.early_stopping_patience is not None and self.checkpoint_steps % self.eval_steps:
            raise _KeyProblem("save_steps", f"save_steps ({self.save_steps}) must be a multiple of eval_steps ({self.eval_steps}) "
                             "so the best evaluated checkpoint exists when early stopping")
        return self

    @property
    def checkpoint_steps(self) -> int:
        return self.save_steps or self.eval_steps

    def require_method(self) -> str:
        """The method this config trains; a profile that serves all methods must be resolved first."""
        if self.method is None:
            raise ConscienceError("no training method chosen: pass --method sft|dpo|ipo|kto|simpo", field="method")
        return self.method

    def params(self) -> MethodSection:
        """The resolved method's section (its defaults when the profile left it out)."""
        method = self.require_method()
        return getattr(self, method) or SECTIONS[method]()

    def resolve(self, method: str | None = None, max_steps: int | None = None) -> TrainConfig:
        """This config for one method (keeping only its section), optionally capped at ``max_steps``."""
        chosen = method or self.method
        if chosen is None:
            raise ConscienceError("no training method chosen: pass --method sft|dpo|ipo|kto|simpo", field="method")
        if self.method is not None and method is not None and method != self.method:
            raise ConscienceError(f"this profile is fixed to method {self.method!r}; it cannot train {method!r}",
                                  where=self.name or None, field="method")
        data = self.model_dump(exclude={other for other in METHODS if other != chosen})
        data["method"] = chosen
        data[chosen] = (getattr(self, chosen) or SECTIONS[chosen]()).model_dump()
        if max_steps is not None:
            data["max_steps"] = max_steps
        return validate_config(data, self.name or "config")

    def to_yaml(self) -> str:
        """YAML that loads back to an equal config (nulls kept: a missing key would mean its default)."""
        absent = {m for m in METHODS if getattr(self, m) is None}
        return yaml.safe_dump(self.model_dump(exclude=absent), sort_keys=False)


def _owner_hint(key: str, section: str | None) -> str:
    """For an unknown key, say which method section it belongs to, if any."""
    owners = [m for m, cls in SECTIONS.items() if key in cls.model_fields and m != section]
    if not owners:
        return ""
    if section is None and key not in TrainConfig.model_fields:
        return f"; it is a method key: put it under {' or '.join(owners)}:"
    return f"; it is a {'/'.join(owners)} key, not a {section} key" if section else ""


def _explain(error: dict) -> tuple[str | None, str] | None:
    """A cross-field problem names its key; an unknown key says which method section it belongs to."""
    problem = error.get("ctx", {}).get("error")
    if isinstance(problem, _KeyProblem):
        return problem.key, str(problem)
    if error["type"] == "extra_forbidden":
        loc = [str(part) for part in error["loc"]]
        section = loc[0] if len(loc) == 2 and loc[0] in SECTIONS else None
        return ".".join(loc), f"unknown key {loc[-1]!r}{_owner_hint(loc[-1], section)}"
    return None


def validate_config(data: object, where: str | Path) -> TrainConfig:
    """Validate a mapping as a TrainConfig; the first problem raises naming the file and the dotted key."""
    if not isinstance(data, dict):
        raise ConscienceError("a training profile must be a YAML mapping", where=where)
    return validate(TrainConfig, data, where, explain=_explain)


def _profile_folder() -> Traversable:
    return resources.files("conscience.train") / "profiles"


def shipped_profiles() -> list[str]:
    """Names of the profiles shipped with the package (``paper``, ``cpu-demo``, ...)."""
    folder = _profile_folder()
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_profile(name_or_path: str | Path) -> TrainConfig:
    """Load a shipped profile by name, or any YAML file by path; errors name the file (and line or key)."""
    text_name = str(name_or_path)
    if text_name in shipped_profiles():
        resource = _profile_folder() / f"{text_name}.yaml"
        where, text = f"profiles/{text_name}.yaml", resource.read_text(encoding="utf-8")
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConscienceError(f"no such profile; shipped: {', '.join(shipped_profiles())}, or give a YAML path",
                                  where=path, field="profile")
        where, text = str(path), path.read_text(encoding="utf-8")
    data = parse_yaml(text, where, "training profile")
    data.setdefault("name", Path(text_name).stem)
    return validate_config(data, where)
